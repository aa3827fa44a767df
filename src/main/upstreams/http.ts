import type { IncomingHttpHeaders } from 'node:http';
import got, { CancelError, HTTPError, RequestError, type Got } from 'got';
import type { SecretStore } from '../credentials/store';
import type { Logger } from '../platform/logger';
import { upstreamLabel } from '../../shared/contract/sync';
import { extractEmbeddedJson } from './embedded-json';
import { hourMinuteIn } from './zoned-time';

/**
 * One HTTP client per upstream: connect, first-byte and idle-socket timeouts plus a total
 * deadline (a trickling body cannot hang a caller), a response size cap, bounded retries that
 * honour Retry-After — only for requests that are safe to repeat — a circuit breaker, and a
 * cooldown after a 503. Callers get an UpstreamError whose kind says what to do about it.
 */
export interface UpstreamHttpOptions {
  name: string;
  baseUrl: string;
  now: () => number;
  log: Logger;
  connectTimeoutMs?: number;
  /** Until the answer's first byte. */
  readTimeoutMs?: number;
  /** Longest silence on the socket while the answer arrives. */
  idleTimeoutMs?: number;
  /** The whole request, first byte to last. */
  deadlineMs?: number;
  /** Larger answers are refused as malformed (the station keeps running). */
  maxResponseBytes?: number;
  /** Retries after the first try, for idempotent requests only. */
  retries?: number;
  /** Longest Retry-After honoured inside one call; longer ones become a cooldown instead. */
  maxRetryAfterMs?: number;
  /** Consecutive failed calls that open the breaker. */
  breakerThreshold?: number;
  breakerOpenMs?: number;
  /**
   * How long the upstream is left alone after a 503 (at least until its Retry-After). A function
   * is read at every call, so a changed setting applies at once, to a cooldown under way too.
   */
  cooldownAfter503Ms?: number | (() => number);
  /** The zone "cooling down until 09:12" is written in; the station's own by default. */
  timeZone?: () => string | undefined;
  /**
   * Whether a request that ran out of time is tried again (default yes). A long read that timed
   * out would only make the caller wait as long again, so some upstreams say no.
   */
  retryTimeouts?: boolean;
  headers?: Record<string, string>;
  /** JSON may have other text around it (BioTrack's PHP notices). */
  lenientJson?: boolean;
  /**
   * Reads the upstream's own words out of an error answer (any status). `refused: true` means the
   * upstream understood and said no: not retried, not counted against the breaker.
   */
  describeError?: (answer: unknown, status: number) => { message: string; refused: boolean } | null;
  /** Waits between retries; tests pass a fake. */
  sleep?: (ms: number) => Promise<void>;
}

/** What every upstream client is built from: its credentials, the clock, a logger, and how it waits. */
export interface UpstreamClientDeps {
  secrets: SecretStore;
  now: () => number;
  log: Logger;
  readTimeoutMs?: number;
  /** Waits between retries; tests pass a fake. */
  sleep?: (ms: number) => Promise<void>;
}

export type UpstreamErrorKind =
  | 'unavailable' // 502/503/504: the upstream says it is down
  | 'server' // other 5xx
  | 'timeout'
  | 'network'
  | 'rate_limited' // 429
  | 'credentials' // 401/403, or none entered
  | 'refused' // a caller error (400, 404, 405, 414, 431 …) or the upstream's own "no"
  | 'malformed' // not the shape we read, too large, or a link to another host
  | 'breaker_open';

export class UpstreamError extends Error {
  constructor(
    readonly upstream: string,
    readonly kind: UpstreamErrorKind,
    message: string,
    readonly status?: number,
    /** When the upstream may be tried again. */
    readonly retryAt?: number,
    /** The parsed error answer, when there was one. */
    readonly answer?: unknown,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }

  /** The request may or may not have been carried out (no answer came back). */
  get ambiguous(): boolean {
    return this.kind === 'timeout' || this.kind === 'network' || this.kind === 'server' || this.kind === 'unavailable' || this.kind === 'malformed';
  }
}

export interface BreakerState {
  state: 'closed' | 'open' | 'half-open';
  failures: number;
  openUntil: number;
  lastSuccessAt: number | null;
  lastError: string | null;
}

export interface UpstreamResponse<T> {
  status: number;
  headers: IncomingHttpHeaders;
  /** The URL that answered: relative links in the answer resolve against it. */
  url: string;
  data: T;
}

export interface UpstreamRequest {
  method: 'GET' | 'POST';
  /** A path under the base URL, or an absolute URL on the base URL's origin. */
  url: string;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is. */
  body?: string;
  /** Safe to send twice. GETs are; a POST only when the caller says so (op-id batches, reads). */
  idempotent?: boolean;
}

export function retryAfterMs(header: string | string[] | undefined, now: number): number | null {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * Resolves a link an upstream sent (OData nextLink, Django `next`) against the URL that sent it,
 * and refuses one that leaves the configured origin, so credentials never go to another host.
 */
export function followLink(upstream: string, link: string, requestUrl: string, baseUrl: string): string {
  let resolved: URL;
  try {
    resolved = new URL(link, requestUrl);
  } catch {
    throw new UpstreamError(upstream, 'malformed', `${upstreamLabel(upstream)} sent a next-page link that is not a URL`);
  }
  if (resolved.origin !== new URL(baseUrl).origin) {
    throw new UpstreamError(
      upstream,
      'malformed',
      `${upstreamLabel(upstream)} sent a next-page link to another server (${resolved.origin}); it was not followed`,
    );
  }
  return resolved.href;
}

const RETRIABLE: ReadonlySet<UpstreamErrorKind> = new Set(['unavailable', 'server', 'timeout', 'network', 'rate_limited']);
const NOT_A_FAILURE: ReadonlySet<UpstreamErrorKind> = new Set(['refused', 'credentials']);

export class UpstreamHttp {
  readonly #client: Got;
  readonly #o: Required<Omit<UpstreamHttpOptions, 'headers' | 'describeError' | 'sleep' | 'timeZone'>> &
    Pick<UpstreamHttpOptions, 'describeError' | 'timeZone'>;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly breaker: BreakerState = { state: 'closed', failures: 0, openUntil: 0, lastSuccessAt: null, lastError: null };
  /** The last 503 while the upstream rests because of it: when it came, and its Retry-After. */
  #cooldown: { since: number; retryAt: number | null; until: number } | null = null;

  constructor(options: UpstreamHttpOptions) {
    this.#o = {
      connectTimeoutMs: 5_000,
      readTimeoutMs: 20_000,
      idleTimeoutMs: 20_000,
      deadlineMs: 120_000,
      maxResponseBytes: 64 * 1024 * 1024,
      retries: 2,
      maxRetryAfterMs: 5_000,
      breakerThreshold: 5,
      breakerOpenMs: 30_000,
      cooldownAfter503Ms: 15_000,
      retryTimeouts: true,
      lenientJson: false,
      ...options,
    };
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    const o = this.#o;
    this.#client = got.extend({
      headers: options.headers,
      timeout: {
        lookup: o.connectTimeoutMs,
        connect: o.connectTimeoutMs,
        secureConnect: o.connectTimeoutMs,
        response: o.readTimeoutMs,
        socket: o.idleTimeoutMs,
        request: o.deadlineMs,
      },
      retry: { limit: 0 }, // our own loop below: it knows which requests are safe to repeat
      followRedirect: false, // a redirect could carry credentials to another host
      throwHttpErrors: true,
    });
  }

  get name(): string {
    return this.#o.name;
  }

  /** A path under the base URL, or an absolute URL — which must stay on the base URL's origin. */
  resolve(pathOrUrl: string): string {
    if (/^[a-z][a-z0-9+.-]*:/i.test(pathOrUrl)) return followLink(this.#o.name, pathOrUrl, this.#o.baseUrl, this.#o.baseUrl);
    return this.#o.baseUrl.replace(/\/+$/, '') + '/' + pathOrUrl.replace(/^\/+/, '');
  }

  async getJson<T>(url: string, headers?: Record<string, string>): Promise<T> {
    return (await this.request<T>({ method: 'GET', url, headers })).data;
  }

  async postJson<T>(url: string, json: unknown, options: { headers?: Record<string, string>; idempotent?: boolean } = {}): Promise<T> {
    return (await this.request<T>({ method: 'POST', url, json, ...options })).data;
  }

  async request<T>(req: UpstreamRequest): Promise<UpstreamResponse<T>> {
    const url = this.resolve(req.url);
    const idempotent = req.idempotent ?? req.method === 'GET';
    for (let attempt = 0; ; attempt++) {
      this.admit();
      let error: UpstreamError;
      try {
        const response = await this.send(url, req);
        const data = this.parse<T>(response.body);
        this.succeeded();
        return { status: response.statusCode, headers: response.headers, url: response.url || url, data };
      } catch (caught) {
        error = caught instanceof UpstreamError ? caught : this.classify(caught);
      }
      const wait = this.retryWait(error, attempt, idempotent);
      if (wait === null) throw this.fail(error);
      this.#o.log.warn({ upstream: this.#o.name, kind: error.kind, status: error.status, attempt }, 'upstream call failed; trying again');
      await this.#sleep(wait);
    }
  }

  /** The breaker, with a cooldown under way measured by the cooldown set now. */
  breakerNow(): BreakerState {
    const b = this.breaker;
    const c = this.#cooldown;
    if (!c) return b;
    // Ended elsewhere (a probe let through, the outbox's "send now" clearing the rest): no cooldown any more.
    if (b.state !== 'open' || b.openUntil !== c.until) this.#cooldown = null;
    else b.openUntil = c.until = this.cooldownEnd(c);
    return b;
  }

  private cooldownMs(): number {
    const c = this.#o.cooldownAfter503Ms;
    return Math.max(0, typeof c === 'function' ? c() : c);
  }

  private cooldownEnd(c: { since: number; retryAt: number | null }): number {
    return Math.max(c.retryAt ?? 0, c.since + this.cooldownMs());
  }

  private admit(): void {
    const b = this.breakerNow();
    if (b.state !== 'open') return;
    if (this.#cooldown && this.#o.now() < b.openUntil)
      throw new UpstreamError(
        this.#o.name,
        'breaker_open',
        `${upstreamLabel(this.#o.name)} asked us to wait: cooling down until ${hourMinuteIn(b.openUntil, this.#o.timeZone?.())}`,
        undefined,
        b.openUntil,
      );
    if (this.#o.now() < b.openUntil)
      throw new UpstreamError(
        this.#o.name,
        'breaker_open',
        `${upstreamLabel(this.#o.name)} is resting after repeated failures`,
        undefined,
        b.openUntil,
      );
    b.state = 'half-open'; // one probe
  }

  private async send(url: string, req: UpstreamRequest) {
    const cap = this.#o.maxResponseBytes;
    let tooLarge = false;
    const pending = this.#client(url, {
      method: req.method,
      headers: req.headers,
      json: req.json,
      body: req.body,
      responseType: 'text',
    });
    // .on() hands back the same request promise, awaited below.
    void pending.on('downloadProgress', (p: { transferred: number; total?: number }) => {
      if (!tooLarge && (p.transferred > cap || (p.total ?? 0) > cap)) {
        tooLarge = true;
        pending.cancel();
      }
    });
    try {
      return await pending;
    } catch (error) {
      if (tooLarge || error instanceof CancelError) {
        throw new UpstreamError(
          this.#o.name,
          'malformed',
          `${upstreamLabel(this.#o.name)} sent an answer larger than ${Math.round(cap / 1024 / 1024)} MiB; it was not read`,
        );
      }
      throw error;
    }
  }

  private parse<T>(text: string): T {
    try {
      return (this.#o.lenientJson ? extractEmbeddedJson(text) : JSON.parse(text)) as T;
    } catch {
      throw new UpstreamError(this.#o.name, 'malformed', `${upstreamLabel(this.#o.name)} answered with something that is not JSON`);
    }
  }

  /** How long to wait before trying again, or null to give up now. */
  private retryWait(e: UpstreamError, attempt: number, idempotent: boolean): number | null {
    if (!idempotent || !RETRIABLE.has(e.kind) || attempt >= this.#o.retries) return null;
    if (e.kind === 'timeout' && !this.#o.retryTimeouts) return null;
    if (e.retryAt !== undefined) {
      const wait = e.retryAt - this.#o.now();
      // A long Retry-After becomes a rest for the upstream instead of a wait inside this call.
      return wait > this.#o.maxRetryAfterMs ? null : Math.max(0, wait);
    }
    return Math.min(2_000, 250 * 2 ** attempt);
  }

  private classify(error: unknown): UpstreamError {
    const name = this.#o.name;
    // Messages name the upstream as people know it; the error keeps its key.
    const who = upstreamLabel(name);
    const now = this.#o.now();
    if (error instanceof HTTPError) {
      const status = error.response.statusCode;
      const after = retryAfterMs(error.response.headers['retry-after'], now);
      const answer = this.readErrorAnswer(String(error.response.body ?? ''));
      const own = answer === undefined ? null : (this.#o.describeError?.(answer, status) ?? null);
      if (own?.refused) return new UpstreamError(name, 'refused', own.message, status, undefined, answer);
      const said = own ? `: ${own.message}` : '';
      if (status === 503 || status === 502 || status === 504) {
        // Only a Retry-After sets a time here; a bare 503 is retried briefly, then rests the upstream (fail()).
        return new UpstreamError(
          name,
          'unavailable',
          `${who} is unavailable (${status})${said}`,
          status,
          after === null ? undefined : now + after,
          answer,
        );
      }
      if (status === 429) return new UpstreamError(name, 'rate_limited', `${who} asks us to slow down (429)`, status, now + (after ?? 5_000), answer);
      if (status === 401 || status === 403)
        return new UpstreamError(
          name,
          'credentials',
          `${who} refused the credentials (${status}): check them in Admin → Sync`,
          status,
          undefined,
          answer,
        );
      if (status >= 500) return new UpstreamError(name, 'server', `${who} failed (${status})${said}`, status, undefined, answer);
      if (status >= 300 && status < 400)
        return new UpstreamError(name, 'refused', `${who} answered with a redirect (${status}), which is not followed`, status, undefined, answer);
      return new UpstreamError(name, 'refused', `${who} refused the request (${status})${said}`, status, undefined, answer);
    }
    if (error instanceof RequestError && (error.code === 'ETIMEDOUT' || error.name === 'TimeoutError')) {
      return new UpstreamError(name, 'timeout', `${who} did not answer in time`);
    }
    const code = error instanceof RequestError ? error.code : undefined;
    return new UpstreamError(name, 'network', `${who} cannot be reached${code ? ` (${code})` : ''}`);
  }

  private readErrorAnswer(text: string): unknown {
    if (!text.trim()) return undefined;
    try {
      return this.#o.lenientJson ? extractEmbeddedJson(text) : (JSON.parse(text) as unknown);
    } catch {
      return undefined;
    }
  }

  private succeeded(): void {
    const b = this.breaker;
    b.state = 'closed';
    b.failures = 0;
    b.lastSuccessAt = this.#o.now();
    b.lastError = null;
    this.#cooldown = null;
  }

  /**
   * Records a failed call. A refusal or a credentials error means the upstream is up and answered:
   * it is shown but does not count towards the breaker. 503 and 429 rest the upstream until their
   * time; repeated failures open the breaker.
   */
  private fail(error: UpstreamError): UpstreamError {
    const b = this.breaker;
    const now = this.#o.now();
    if (error.kind === 'breaker_open') {
      b.lastError = error.message;
      return error;
    }
    // A 503 rests the upstream for the cooldown, or until its Retry-After if that is later.
    const rest = error.kind === 'unavailable' && error.status === 503 ? { since: now, retryAt: error.retryAt ?? null, until: 0 } : null;
    if (rest) rest.until = this.cooldownEnd(rest);
    // No cooldown set and no Retry-After: the breaker alone decides.
    this.#cooldown = rest && rest.until > now ? rest : null;
    const e = this.#cooldown ? new UpstreamError(error.upstream, error.kind, error.message, error.status, this.#cooldown.until, error.answer) : error;
    b.lastError = e.message;
    if (NOT_A_FAILURE.has(e.kind)) {
      b.state = 'closed';
      b.failures = 0;
      return e;
    }
    b.failures++;
    const restUntil = e.retryAt ?? (b.failures >= this.#o.breakerThreshold || b.state === 'half-open' ? now + this.#o.breakerOpenMs : 0);
    if (restUntil > now) {
      b.state = 'open';
      b.openUntil = restUntil;
    }
    this.#o.log.warn({ upstream: this.#o.name, kind: e.kind, status: e.status, failures: b.failures }, 'upstream call failed');
    return e;
  }
}
