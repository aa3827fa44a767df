import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { z } from 'zod';
import { describeIssues, enrolRequestSchema, pushRequestSchema, type HubErrorBody } from '../shared/hub';
import { applyOps } from './apply';
import { authenticateStation, enrolStation, EnrolmentRefused, type StationIdentity } from './enrolment';
import { FEED_PAGE_MAX, readFeed } from './feed';

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

const feedQuery = z.object({
  since: z.coerce.number().int('since is a whole number').nonnegative('since is 0 or more').default(0),
  limit: z.coerce
    .number()
    .int('limit is a whole number')
    .min(1, 'limit is at least 1')
    .max(FEED_PAGE_MAX, `limit is at most ${FEED_PAGE_MAX}`)
    .default(500),
});

/**
 * The hub's HTTP API: POST /v1/enrol, POST /v1/ops, GET /v1/feed. Stateless: everything it knows is
 * in PostgreSQL, so several of these run side by side on one database. Plain HTTP on the address
 * given; production puts it behind a TLS reverse proxy.
 */
export async function startHubServer(opts: { pool: pg.Pool; port?: number; host?: string; log?: (line: string) => void }): Promise<HubServer> {
  const { pool } = opts;
  const log = opts.log ?? (() => {});
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
    throw refuse(404, 'not_found', `No such hub call: ${where}`);
  };

  const server = http.createServer((req, res) => {
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
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
