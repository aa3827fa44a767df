import http from 'node:http';
import https from 'node:https';
import { createParser } from 'eventsource-parser';
import { z } from 'zod';
import type { EnrolResponse, FeedEntry, FeedResponse, HubOpResult } from '../../shared/hub';
import type { Logger } from '../platform/logger';
import { UpstreamError, UpstreamHttp } from '../upstreams/http';
import { BAGS_UPSTREAM } from '../outbox/enqueue';

/**
 * The station's client of its site hub (src/hub/server.ts): enrolment, pushing outbox ops, reading
 * the feed page by page, and following its server-sent-event stream. Everything the hub answers is
 * validated here before the station acts on it: a hub (or something pretending to be one) that
 * sends garbage gets an error in words, not a half-applied replica.
 */

const winnerSchema = z.object({
  child: z.string().optional(),
  parent: z.string().optional(),
  station: z.string(),
  user: z.string(),
  at: z.number(),
  seq: z.number().nullable(),
});

const resultSchema = z.object({
  opId: z.string(),
  status: z.enum(['ok', 'conflict', 'error']),
  message: z.string().optional(),
  seq: z.number().optional(),
  winner: winnerSchema.optional(),
  winners: z.array(winnerSchema).optional(),
  duplicate: z.boolean().optional(),
});
const pushResponseSchema = z.object({ results: z.array(resultSchema) });

export const feedEntrySchema = z.object({
  seq: z.number().int().positive(),
  opId: z.string().min(1),
  op: z.string().min(1),
  payload: z.unknown(),
  station: z.string(),
  user: z.string(),
  at: z.number(),
  appliedAt: z.string(),
});
const feedResponseSchema = z.object({ entries: z.array(feedEntrySchema), next: z.number().int().nonnegative(), more: z.boolean() });
const enrolResponseSchema = z.object({ stationId: z.number().int(), stationName: z.string(), token: z.string().min(16) });

/** The hub's own words from its error body ({ error: { message } }). */
function hubWords(answer: unknown): string | null {
  const parsed = z.object({ error: z.object({ message: z.string() }) }).safeParse(answer);
  return parsed.success ? parsed.data.error.message : null;
}

function hubHttp(url: string, log: Logger, now: () => number, sleep?: (ms: number) => Promise<void>): UpstreamHttp {
  return new UpstreamHttp({
    name: BAGS_UPSTREAM,
    baseUrl: url,
    now,
    log,
    readTimeoutMs: 30_000,
    sleep,
    describeError: (answer) => {
      const words = hubWords(answer);
      return words ? { message: words, refused: true } : null;
    },
  });
}

/** A refused token in words an admin can act on. */
function tokenRefused(error: UpstreamError): UpstreamError {
  const words = hubWords(error.answer) ?? 'the token is unknown or revoked';
  return new UpstreamError(
    error.upstream,
    'credentials',
    `The site hub refused this station (${words}): an admin joins the site again with a new enrolment code (Admin → Station)`,
    error.status,
  );
}

/** Asks the hub for a station token with a one-time enrolment code. */
export async function enrolAtHub(opts: { url: string; code: string; stationName: string; log: Logger; now: () => number }): Promise<EnrolResponse> {
  const client = hubHttp(opts.url, opts.log, opts.now);
  let answer: unknown;
  try {
    answer = await client.postJson<unknown>('v1/enrol', { code: opts.code, stationName: opts.stationName }, { idempotent: false });
  } catch (error) {
    if (error instanceof UpstreamError && error.kind === 'credentials') {
      throw new UpstreamError(
        error.upstream,
        'refused',
        `The hub refused the enrolment: ${hubWords(error.answer) ?? 'the code is not valid'}`,
        error.status,
      );
    }
    throw error;
  }
  const parsed = enrolResponseSchema.safeParse(answer);
  if (!parsed.success) throw new UpstreamError(BAGS_UPSTREAM, 'malformed', 'The address answered, but not as a Dockside site hub does');
  return parsed.data;
}

export type HubResult = z.infer<typeof resultSchema>;

export class HubClient {
  readonly http: UpstreamHttp;
  readonly #auth: Record<string, string>;

  constructor(
    readonly url: string,
    token: string,
    private readonly deps: { log: Logger; now: () => number; sleep?: (ms: number) => Promise<void> },
  ) {
    this.http = hubHttp(url, deps.log, deps.now, deps.sleep);
    this.#auth = { authorization: `Bearer ${token}` };
  }

  /** Sends a batch of ops; the hub dedupes on op id, so a batch whose answer was lost is safe to send again. */
  async push(stationName: string, ops: { opId: string; op: string; payload: unknown }[]): Promise<HubOpResult[]> {
    const answer = await this.#call(() =>
      this.http.postJson<unknown>('v1/ops', { station: stationName, ops }, { headers: this.#auth, idempotent: true }),
    );
    const parsed = pushResponseSchema.safeParse(answer);
    if (!parsed.success) throw new UpstreamError(BAGS_UPSTREAM, 'malformed', 'The site hub answered the batch in an unexpected shape');
    return parsed.data.results;
  }

  async feedPage(since: number, limit = 500): Promise<FeedResponse> {
    const answer = await this.#call(() => this.http.getJson<unknown>(`v1/feed?since=${since}&limit=${limit}`, this.#auth));
    const parsed = feedResponseSchema.safeParse(answer);
    if (!parsed.success) throw new UpstreamError(BAGS_UPSTREAM, 'malformed', 'The site hub sent a feed page in an unexpected shape');
    const entries = parsed.data.entries as FeedEntry[];
    // Pages are in seq order after `since`: anything else is not a feed this station can follow.
    let last = since;
    for (const e of entries) {
      if (e.seq <= last) throw new UpstreamError(BAGS_UPSTREAM, 'malformed', `The site hub's feed went backwards at ${e.seq}`);
      last = e.seq;
    }
    return { entries, next: parsed.data.next, more: parsed.data.more };
  }

  /**
   * Opens the feed's event stream after `since` and calls `onEntries` with each chunk of entries
   * as they arrive (awaited: the stream is paused meanwhile). Resolves when the stream ends, rejects
   * when it cannot be opened or breaks; `signal` closes it.
   */
  stream(since: number, onEntries: (entries: FeedEntry[]) => Promise<void> | void, signal: AbortSignal): Promise<void> {
    const target = new URL(this.http.resolve(`v1/feed/stream?since=${since}`));
    const lib = target.protocol === 'https:' ? https : http;
    return new Promise<void>((resolve, reject) => {
      let failed: Error | null = null;
      const req = lib.get(target, { headers: { ...this.#auth, accept: 'text/event-stream' }, signal }, (res) => {
        if (res.statusCode !== 200) {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c.slice(0, 4096)));
          res.on('end', () => {
            let answer: unknown;
            try {
              answer = JSON.parse(body);
            } catch {
              answer = undefined;
            }
            const kind = res.statusCode === 401 || res.statusCode === 403 ? 'credentials' : res.statusCode === 503 ? 'unavailable' : 'refused';
            const error = new UpstreamError(
              BAGS_UPSTREAM,
              kind,
              `The site hub's feed answered ${res.statusCode}: ${hubWords(answer) ?? 'no reason given'}`,
              res.statusCode,
              undefined,
              answer,
            );
            reject(kind === 'credentials' ? tokenRefused(error) : error);
          });
          return;
        }
        res.setEncoding('utf8');
        let batch: FeedEntry[] = [];
        // Entries being applied when the stream ends are finished before this settles.
        let applying: Promise<void> = Promise.resolve();
        let settled = false;
        const settle = () => {
          if (settled) return;
          settled = true;
          void applying.finally(() => (failed ? reject(failed) : resolve()));
        };
        const parser = createParser({
          onEvent: (message) => {
            if (message.event !== 'op' || failed) return;
            let raw: unknown;
            try {
              raw = JSON.parse(message.data);
            } catch {
              raw = null;
            }
            const parsed = feedEntrySchema.safeParse(raw);
            if (!parsed.success) {
              failed = new UpstreamError(BAGS_UPSTREAM, 'malformed', "The site hub's feed sent an entry in an unexpected shape");
              res.destroy();
              return;
            }
            batch.push(parsed.data as FeedEntry);
          },
        });
        // One chunk's entries are applied together (one transaction), the stream paused meanwhile.
        res.on('data', (chunk: string) => {
          parser.feed(chunk);
          if (batch.length === 0 || failed) return;
          const entries = batch;
          batch = [];
          res.pause();
          applying = Promise.resolve()
            .then(() => onEntries(entries))
            .then(
              () => void res.resume(),
              (error: unknown) => {
                failed = error as Error;
                res.destroy();
              },
            );
        });
        res.on('error', () => settle());
        res.on('close', () => settle());
      });
      req.on('error', (error) => {
        if (signal.aborted) return resolve();
        reject(
          failed ??
            new UpstreamError(BAGS_UPSTREAM, 'network', `The site hub cannot be reached (${(error as NodeJS.ErrnoException).code ?? error.message})`),
        );
      });
    });
  }

  /**
   * A POST to another hub endpoint (leases, presence, verification records, notices), with the
   * station's token; the caller validates the answer. `idempotent`: safe to send again on a lost answer.
   */
  post(path: string, body: unknown, idempotent: boolean): Promise<unknown> {
    return this.#call(() => this.http.postJson<unknown>(path, body, { headers: this.#auth, idempotent }));
  }

  get(path: string): Promise<unknown> {
    return this.#call(() => this.http.getJson<unknown>(path, this.#auth));
  }

  async #call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof UpstreamError && (error.kind === 'credentials' || error.status === 401 || error.status === 403)) throw tokenRefused(error);
      throw error;
    }
  }
}
