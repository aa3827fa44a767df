import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { z } from 'zod';
import {
  describeIssues,
  enrolRequestSchema,
  leaseBreakSchema,
  leaseClaimSchema,
  leaseListQuery,
  leaseReleaseSchema,
  leaseRenewSchema,
  noticeListQuery,
  noticeSchema,
  presenceSchema,
  pushRequestSchema,
  verifyBatchSchema,
  type HubErrorBody,
} from '../shared/hub';
import { applyOps } from './apply';
import { authenticateStation, enrolStation, EnrolmentRefused, type StationIdentity } from './enrolment';
import { FEED_PAGE_MAX, readFeed } from './feed';
import { FeedNotifier } from './feed-notifier';
import { FeedTail } from './feed-tail';
import { listNotices, postNotice } from './notices';
import { recordVerification } from './verify';
import { breakLease, claimLease, heartbeat, LeaseRefusal, listLeases, listPresence, releaseLease, renewLease, startLeaseSweeper } from './leases';

/** A batch of 1,000 import ops of 10,000 links each would be larger; such a station sends smaller batches. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

export interface HubServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    readonly body: HubErrorBody,
  ) {
    super(body.error.message);
  }
}
const refuse = (status: number, code: HubErrorBody['error']['code'], message: string) => new HttpRefusal(status, { error: { code, message } });

function readBody(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(refuse(413, 'too_large', `The request is over ${MAX_BODY_BYTES / 1024 / 1024} MB: send smaller batches`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text.length ? JSON.parse(text) : undefined);
      } catch {
        reject(refuse(400, 'invalid', 'The request body is not JSON'));
      }
    });
  });
}

async function authenticate(pool: pg.Pool, req: http.IncomingMessage): Promise<StationIdentity> {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw refuse(401, 'unauthenticated', 'This call needs the station token: Authorization: Bearer <token> (enrol the station first)');
  const station = await authenticateStation(pool, match[1]);
  if ('refused' in station) throw refuse(401, 'unauthenticated', station.refused);
  return station;
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new HttpRefusal(400, {
      error: {
        code: 'invalid',
        message: `The request was refused: ${describeIssues(parsed.error)}`,
        issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      },
    });
  }
  return parsed.data;
}

/** A comment line this often keeps proxies from closing a quiet stream. */
export const KEEPALIVE_MS = 15_000;

/**
 * GET /v1/feed/stream?since=N: the feed as server-sent events (`id: seq`, `event: op`, `data:` the
 * entry), first everything after N, then each op as it is applied by any hub. A reconnecting
 * client sends Last-Event-ID (or since) and continues where it stopped.
 */
async function streamFeed(
  pool: pg.Pool,
  notifier: FeedNotifier,
  tail: FeedTail,
  keepaliveMs: number,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  since: number,
): Promise<void> {
  let cursor = since;
  let pending = true;
  let closed = false;
  let wake: (() => void) | null = null;
  const unsubscribe = notifier.subscribe(() => {
    pending = true;
    wake?.();
  });
  req.on('close', () => {
    closed = true;
    wake?.();
  });
  res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
  res.write(': dockside hub feed\n\n');
  try {
    while (!closed) {
      if (!pending) {
        await new Promise<void>((resolve) => {
          const keepalive = setTimeout(() => {
            res.write(': keepalive\n\n');
            // And a look at the feed: a safety net should a wake ever be missed.
            pending = true;
            resolve();
          }, keepaliveMs);
          wake = () => {
            clearTimeout(keepalive);
            resolve();
          };
        });
        wake = null;
        continue;
      }
      pending = false;
      try {
        // One read of what is new for the whole process; then this stream's entries from memory, or
        // from the table while it is further back than the process holds.
        await tail.refresh();
        for (let more = true; more && !closed;) {
          const page = tail.after(cursor, 500) ?? (await readFeed(pool, cursor, 500));
          for (const entry of page.entries) res.write(`id: ${entry.seq}\nevent: op\ndata: ${JSON.stringify(entry)}\n\n`);
          if (page.entries.length > 0) cursor = page.entries.at(-1)!.seq;
          more = page.more;
        }
      } catch {
        // The database is away (restarting): the notifier wakes this stream once it listens again.
      }
    }
  } finally {
    unsubscribe();
    res.end();
  }
}

const feedQuery = z.object({
  since: z.coerce.number().int('since is a whole number').nonnegative('since is 0 or more').default(0),
  limit: z.coerce
    .number()
    .int('limit is a whole number')
    .min(1, 'limit is at least 1')
    .max(FEED_PAGE_MAX, `limit is at most ${FEED_PAGE_MAX}`)
    .default(500),
});

/** A lease refusal in the hub's error shape, with who holds the resource now. */
async function leaseCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof LeaseRefusal) {
      throw new HttpRefusal(error.status, {
        error: { code: error.code, message: error.message },
        holder: error.holder,
        ...(error.now ? { now: error.now } : {}),
      });
    }
    throw error;
  }
}

/** How often each hub process sweeps lapsed leases and presence. */
export const LEASE_SWEEP_MS = 2_000;

/**
 * The hub's HTTP API: POST /v1/enrol, POST /v1/ops, GET /v1/feed, GET /v1/feed/stream (SSE),
 * POST /v1/leases/{claim,renew,release,break}, GET /v1/leases, POST|GET /v1/presence, POST /v1/verify/records,
 * POST|GET /v1/notices. Stateless: everything it knows is
 * in PostgreSQL, so several of these run side by side on one database. Plain HTTP on the address
 * given; production puts it behind a TLS reverse proxy.
 */
export async function startHubServer(opts: {
  pool: pg.Pool;
  port?: number;
  host?: string;
  log?: (line: string) => void;
  /** How often a quiet stream gets a keepalive line (and looks at the feed once more). */
  keepaliveMs?: number;
  /** How often this process sweeps lapsed leases (LEASE_SWEEP_MS). */
  leaseSweepMs?: number;
}): Promise<HubServer> {
  const { pool } = opts;
  const log = opts.log ?? (() => {});
  const notifier = new FeedNotifier(pool, log);
  const tail = new FeedTail(pool);
  await notifier.start();
  const stopSweeper = startLeaseSweeper(pool, opts.leaseSweepMs ?? LEASE_SWEEP_MS, log);
  const route = async (req: http.IncomingMessage): Promise<[number, unknown]> => {
    const url = new URL(req.url ?? '/', 'http://hub');
    const where = `${req.method} ${url.pathname}`;
    if (where === 'GET /v1/health') {
      await pool.query('SELECT 1');
      return [200, { ok: true }];
    }
    if (where === 'POST /v1/enrol') {
      const body = parse(enrolRequestSchema, await readBody(req));
      try {
        const enrolled = await enrolStation(pool, body.code, body.stationName);
        log(`enrolled station “${enrolled.stationName}” (${enrolled.stationId})`);
        return [200, enrolled];
      } catch (error) {
        if (error instanceof EnrolmentRefused) throw refuse(403, 'unauthenticated', error.message);
        throw error;
      }
    }
    if (where === 'POST /v1/ops') {
      const station = await authenticate(pool, req);
      const body = parse(pushRequestSchema, await readBody(req));
      return [200, { results: await applyOps(pool, station, body.ops) }];
    }
    if (where === 'GET /v1/feed') {
      await authenticate(pool, req);
      const q = parse(feedQuery, Object.fromEntries(url.searchParams));
      return [200, await readFeed(pool, q.since, q.limit)];
    }
    if (where === 'POST /v1/leases/claim') {
      const station = await authenticate(pool, req);
      const body = parse(leaseClaimSchema, await readBody(req));
      return [200, await leaseCall(() => claimLease(pool, station, body))];
    }
    if (where === 'POST /v1/leases/renew') {
      const station = await authenticate(pool, req);
      const body = parse(leaseRenewSchema, await readBody(req));
      return [200, await leaseCall(() => renewLease(pool, station, body))];
    }
    if (where === 'POST /v1/leases/release') {
      const station = await authenticate(pool, req);
      const body = parse(leaseReleaseSchema, await readBody(req));
      const { lease, now } = await leaseCall(() => releaseLease(pool, station, body));
      return [200, { released: lease, now }];
    }
    if (where === 'POST /v1/leases/break') {
      const station = await authenticate(pool, req);
      const body = parse(leaseBreakSchema, await readBody(req));
      const { lease, now } = await leaseCall(() => breakLease(pool, station, body));
      return [200, { broken: lease, by: body.by, reason: body.reason, now }];
    }
    if (where === 'GET /v1/leases') {
      await authenticate(pool, req);
      const q = parse(leaseListQuery, Object.fromEntries(url.searchParams));
      return [200, { leases: await listLeases(pool, q.prefix) }];
    }
    if (where === 'POST /v1/presence') {
      const station = await authenticate(pool, req);
      const body = parse(presenceSchema, await readBody(req));
      return [200, { presence: await heartbeat(pool, station, body) }];
    }
    if (where === 'GET /v1/presence') {
      await authenticate(pool, req);
      return [200, { presence: await listPresence(pool) }];
    }
    if (where === 'POST /v1/verify/records') {
      const station = await authenticate(pool, req);
      const body = parse(verifyBatchSchema, await readBody(req));
      return [200, await recordVerification(pool, station, body.records)];
    }
    if (where === 'POST /v1/notices') {
      const station = await authenticate(pool, req);
      const body = parse(noticeSchema, await readBody(req));
      return [200, { notice: await postNotice(pool, station, body) }];
    }
    if (where === 'GET /v1/notices') {
      await authenticate(pool, req);
      const q = parse(noticeListQuery, Object.fromEntries(url.searchParams));
      return [200, { notices: await listNotices(pool, q.since) }];
    }
    throw refuse(404, 'not_found', `No such hub call: ${where}`);
  };

  const streams = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://hub');
    if (req.method === 'GET' && url.pathname === '/v1/feed/stream') {
      const lastEventId = req.headers['last-event-id'];
      const query = { ...Object.fromEntries(url.searchParams), ...(typeof lastEventId === 'string' ? { since: lastEventId } : {}) };
      authenticate(pool, req)
        .then(() => {
          const { since } = parse(feedQuery, query);
          streams.add(res);
          return streamFeed(pool, notifier, tail, opts.keepaliveMs ?? KEEPALIVE_MS, req, res, since).finally(() => streams.delete(res));
        })
        .catch((error: unknown) => {
          if (res.headersSent) return;
          if (error instanceof HttpRefusal)
            return void res.writeHead(error.status, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify(error.body));
          res
            .writeHead(503, { 'Content-Type': 'application/json; charset=utf-8' })
            .end(
              JSON.stringify({ error: { code: 'internal', message: `The hub cannot answer now (${(error as Error).message}): try again shortly` } }),
            );
        });
      return;
    }
    const send = (status: number, body: unknown) => {
      if (res.headersSent) return;
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' }).end(JSON.stringify(body));
    };
    route(req).then(
      ([status, body]) => send(status, body),
      (error: unknown) => {
        if (error instanceof HttpRefusal) return send(error.status, error.body);
        log(`${req.method} ${req.url} failed: ${(error as Error).stack ?? String(error)}`);
        // The database is down or restarting: the station keeps its ops and tries again.
        send(503, { error: { code: 'internal', message: `The hub cannot answer now (${(error as Error).message}): try again shortly` } });
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    port,
    close: async () => {
      await stopSweeper();
      await new Promise<void>((resolve) => {
        notifier.close();
        for (const res of streams) res.end();
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
