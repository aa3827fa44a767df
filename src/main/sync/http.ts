import got, { HTTPError, RequestError, type Got } from 'got';
import type { Logger } from '../app/logger';

/**
 * One HTTP client per upstream: connect and read timeouts, a bounded retry on 5xx and 429 that
 * honours Retry-After, a circuit breaker, and a cooldown after a 503 so a struggling upstream
 * is not hammered. Callers get an UpstreamError with a kind they can act on (serve cache, back off).
 */
export interface UpstreamHttpOptions {
  name: string;
  baseUrl: string;
  now: () => number;
  log: Logger;
  connectTimeoutMs?: number;
  readTimeoutMs?: number;
  /** Retries after the first try, for 5xx/429 and network errors. */
  retries?: number;
  /** Longest Retry-After honoured inside one call; longer ones become a cooldown instead. */
  maxRetryAfterMs?: number;
  /** Consecutive failed calls that open the breaker. */
  breakerThreshold?: number;
  breakerOpenMs?: number;
  /** Default cooldown after a 503 without Retry-After. */
  cooldownAfter503Ms?: number;
  headers?: Record<string, string>;
}

export type UpstreamErrorKind = 'unavailable' | 'timeout' | 'network' | 'rate_limited' | 'http' | 'malformed' | 'breaker_open';

export class UpstreamError extends Error {
  constructor(
    readonly upstream: string,
    readonly kind: UpstreamErrorKind,
    message: string,
    readonly status?: number,
    /** When the upstream may be tried again. */
    readonly retryAt?: number,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

export interface BreakerState {
  state: 'closed' | 'open' | 'half-open';
  failures: number;
  openUntil: number;
  lastSuccessAt: number | null;
  lastError: string | null;
}

/** A read upstream's line on the Sync screen, from its client's breaker and its cache. */
export function readUpstreamStatus(upstream: string, b: BreakerState, now: number, cachedAt: number | null) {
  const resting = b.state === 'open' && b.openUntil > now;
  return { upstream, online: !resting && b.lastError === null, queued: 0, stuck: 0, lastSuccessAt: b.lastSuccessAt, lastError: b.lastError, restingUntil: resting ? b.openUntil : null, cachedAt };
}

export function retryAfterMs(header: string | string[] | undefined, now: number): number | null {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

export class UpstreamHttp {
  readonly #client: Got;
  readonly #o: Required<Omit<UpstreamHttpOptions, 'headers'>>;
  readonly breaker: BreakerState = { state: 'closed', failures: 0, openUntil: 0, lastSuccessAt: null, lastError: null };

  constructor(options: UpstreamHttpOptions) {
    this.#o = {
      connectTimeoutMs: 5_000,
      readTimeoutMs: 20_000,
      retries: 2,
      maxRetryAfterMs: 5_000,
      breakerThreshold: 5,
      breakerOpenMs: 30_000,
      cooldownAfter503Ms: 15_000,
      ...options,
    };
    const o = this.#o;
    this.#client = got.extend({
      headers: options.headers,
      timeout: { lookup: o.connectTimeoutMs, connect: o.connectTimeoutMs, secureConnect: o.connectTimeoutMs, response: o.readTimeoutMs },
      retry: {
        limit: o.retries,
        methods: ['GET', 'POST', 'PUT', 'DELETE'],
        statusCodes: [429, 500, 502, 503, 504],
        errorCodes: ['ETIMEDOUT', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'],
        maxRetryAfter: o.maxRetryAfterMs,
        backoffLimit: 2_000,
      },
      throwHttpErrors: true,
    });
  }

  /** A path under the base URL, or an absolute URL used exactly as given (OData nextLink). */
  private url(pathOrUrl: string): string {
    if (/^https?:\/\//.test(pathOrUrl)) return pathOrUrl;
    return this.#o.baseUrl.replace(/\/+$/, '') + '/' + pathOrUrl.replace(/^\/+/, '');
  }

  /** POSTs JSON and parses a JSON answer (text before the first brace is tolerated). */
  async postJson<T>(path: string, body: unknown, headers?: Record<string, string>): Promise<T> {
    return this.request<T>(() => this.#client.post(this.url(path), { json: body, headers }).text());
  }

  /** POSTs a text body (OData $query) and parses a JSON answer. */
  async postText<T>(path: string, body: string, headers?: Record<string, string>): Promise<T> {
    return this.request<T>(() => this.#client.post(this.url(path), { body, headers: { 'content-type': 'text/plain', ...headers } }).text());
  }

  async getJson<T>(path: string, searchParams?: Record<string, string>, headers?: Record<string, string>): Promise<T> {
    return this.request<T>(() => this.#client.get(this.url(path), { searchParams, headers }).text());
  }

  private async request<T>(send: () => Promise<string>): Promise<T> {
    const now = this.#o.now();
    const b = this.breaker;
    if (b.state === 'open') {
      if (now < b.openUntil) throw new UpstreamError(this.#o.name, 'breaker_open', `${this.#o.name} is resting after repeated failures`, undefined, b.openUntil);
      b.state = 'half-open'; // one probe
    }
    let text: string;
    try {
      text = await send();
    } catch (error) {
      throw this.fail(this.classify(error));
    }
    let parsed: T;
    try {
      const start = text.search(/[[{]/);
      parsed = JSON.parse(start > 0 ? text.slice(start) : text) as T;
    } catch {
      throw this.fail(new UpstreamError(this.#o.name, 'malformed', `${this.#o.name} answered with something that is not JSON`));
    }
    b.state = 'closed';
    b.failures = 0;
    b.lastSuccessAt = this.#o.now();
    b.lastError = null;
    return parsed;
  }

  private classify(error: unknown): UpstreamError {
    const name = this.#o.name;
    const now = this.#o.now();
    if (error instanceof HTTPError) {
      const status = error.response.statusCode;
      const after = retryAfterMs(error.response.headers['retry-after'], now);
      if (status === 503) return new UpstreamError(name, 'unavailable', `${name} is unavailable (503)`, status, now + (after ?? this.#o.cooldownAfter503Ms));
      if (status === 429) return new UpstreamError(name, 'rate_limited', `${name} asks us to slow down (429)`, status, now + (after ?? 5_000));
      if (status === 401 || status === 403) return new UpstreamError(name, 'http', `${name} refused the credentials (${status}): check them in Admin → Sync`, status);
      return new UpstreamError(name, 'http', `${name} answered ${status}`, status);
    }
    if (error instanceof RequestError && (error.code === 'ETIMEDOUT' || error.name === 'TimeoutError')) {
      return new UpstreamError(name, 'timeout', `${name} did not answer in time`);
    }
    const code = error instanceof RequestError ? error.code : undefined;
    return new UpstreamError(name, 'network', `${name} cannot be reached${code ? ` (${code})` : ''}`);
  }

  /** Counts a failure: 503 and 429 rest the upstream until their time; repeated failures open the breaker. */
  private fail(e: UpstreamError): UpstreamError {
    const b = this.breaker;
    b.failures++;
    b.lastError = e.message;
    const now = this.#o.now();
    const restUntil = e.retryAt ?? (b.failures >= this.#o.breakerThreshold || b.state === 'half-open' ? now + this.#o.breakerOpenMs : 0);
    if (restUntil > now) {
      b.state = 'open';
      b.openUntil = restUntil;
    }
    this.#o.log.warn({ upstream: this.#o.name, kind: e.kind, status: e.status, failures: b.failures }, 'upstream call failed');
    return e;
  }
}
