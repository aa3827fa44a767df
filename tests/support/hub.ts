import { execFile, spawn } from 'node:child_process';
import readline from 'node:readline';
import { promisify } from 'node:util';
import type pg from 'pg';
import { migrateHub, openPool } from '../../src/hub/db';
import { createEnrolmentCode } from '../../src/hub/enrolment';
import type { FeedEntry } from '../../src/shared/hub';
import { onRelease } from './cleanup';
import { Inbox } from './inbox';
import { startPostgres, type TestPostgres } from './postgres';

/**
 * A real PostgreSQL for hub tests and an admin pool on it (closed before the server stops, by
 * `releaseAll`); `migrated` applies the hub's migrations, as a hub in this process would.
 */
export async function startHubDatabase(opts: { migrated?: boolean } = {}): Promise<{ postgres: TestPostgres; admin: pg.Pool }> {
  const postgres = await startPostgres();
  const admin = openPool(postgres.url, 4);
  onRelease(() => admin.end());
  if (opts.migrated) await migrateHub(admin);
  return { postgres, admin };
}

/** Enrols a station through a hub with a fresh code, as Admin → Station → Join a site will, and answers its client. */
export async function enrolStation(admin: pg.Pool, hubUrl: string, name: string) {
  const { code } = await createEnrolmentCode(admin, 1);
  const res = await hubClient(hubUrl).enrol(code, name);
  if (res.status !== 200) throw new Error(`enrolling ${name} failed: ${JSON.stringify(res.body)}`);
  return hubClient(hubUrl, res.body.token as string);
}

/** A site hub in its own Node process (`src/hub/main.ts`, as `npm run hub` runs it) on port 0. */
export interface HubProcess {
  url: string;
  stderr(): string;
  kill(signal: NodeJS.Signals): void;
  closed: Promise<void>;
}

/** `databaseUrl` '' runs the hub without DATABASE_URL (its own PostgreSQL; give `--data-dir` and `--pg-port` in `args`). */
export async function startHubProcess(databaseUrl: string, args: string[] = []): Promise<HubProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/hub/main.ts', '--port', '0', ...args], {
    // Keepalive looks at the feed only after 10 minutes: streams in tests deliver through LISTEN/NOTIFY or not at all.
    env: { ...process.env, DATABASE_URL: databaseUrl, HUB_FEED_KEEPALIVE_MS: '600000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = new Inbox<string>();
  readline.createInterface({ input: child.stdout }).on('line', (l) => lines.push(l));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  onRelease(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return closed;
  });
  const exited = closed.then(() => {
    throw new Error(`the hub exited (${child.exitCode ?? child.signalCode}) before listening:\n${lines.items.join('\n')}\n${stderr}`);
  });
  exited.catch(() => {});
  const line = await Promise.race([lines.first((l) => l.startsWith('hub listening on ')), exited]);
  return { url: line.slice('hub listening on '.length).trim(), stderr: () => stderr, kill: (s) => child.kill(s), closed };
}

/** Polls `probe` (a failing probe counts as not yet) until it answers something, for up to a minute. */
export async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>): Promise<T> {
  for (let i = 0; i < 1200; i++) {
    const value = await probe().catch(() => null);
    if (value) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting (a minute) for ${what}`);
}

/** A tiny client for the hub's API, as a station would call it. */
export function hubClient(url: string, token?: string) {
  const call = async (method: string, path: string, body?: unknown, bearer = token) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are checked by the tests' expectations
    return { status: res.status, body: (text ? JSON.parse(text) : null) as any };
  };
  return {
    url,
    token,
    call,
    enrol: (code: string, stationName: string) => call('POST', '/v1/enrol', { code, stationName }),
    push: (ops: unknown[]) => call('POST', '/v1/ops', { ops }),
    feed: (since: number, limit?: number) => call('GET', `/v1/feed?since=${since}${limit ? `&limit=${limit}` : ''}`),
    claim: (body: { resource: string; user: string; ttlMs?: number }) => call('POST', '/v1/leases/claim', body),
    renew: (body: { resource: string; leaseId: string }) => call('POST', '/v1/leases/renew', body),
    release: (body: { resource: string; leaseId: string }) => call('POST', '/v1/leases/release', body),
    breakLease: (body: { resource: string; by: string; reason: string; leaseId?: string }) => call('POST', '/v1/leases/break', body),
    leases: (prefix = '') => call('GET', `/v1/leases?prefix=${encodeURIComponent(prefix)}`),
    heartbeat: (body: { user: string; ttlMs?: number }) => call('POST', '/v1/presence', body),
    presence: () => call('GET', '/v1/presence'),
    verify: (records: unknown[]) => call('POST', '/v1/verify/records', { records }),
    notice: (body: { text: string; by: string }) => call('POST', '/v1/notices', body),
    notices: (since = 0) => call('GET', `/v1/notices?since=${since}`),
  };
}

/** `npm run hub -- …` once (an admin command), with its exit code and output; `input` is written to its stdin. */
export const hubCli = (args: string[], env: Record<string, string | undefined>, input?: string) => {
  const run = promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/hub/main.ts', ...args], {
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  run.child.stdin?.end(input ?? '');
  return run.then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
};

/** Follows GET /v1/feed/stream (server-sent events) from `since`; every entry lands in `entries`. */
export async function followFeed(url: string, token: string, since: number): Promise<{ status: number; entries: Inbox<FeedEntry>; close(): void }> {
  const abort = new AbortController();
  const res = await fetch(`${url}/v1/feed/stream?since=${since}`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
  const entries = new Inbox<FeedEntry>();
  onRelease(() => abort.abort());
  if (res.status === 200 && res.body) {
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    void (async () => {
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = event.split('\n').find((l) => l.startsWith('data: '));
          if (data) entries.push(JSON.parse(data.slice(6)) as FeedEntry);
        }
      }
    })().catch(() => {}); // aborted at release
  } else await res.body?.cancel();
  return { status: res.status, entries, close: () => abort.abort() };
}

/**
 * A site on two hub processes: a real PostgreSQL, hub A and hub B started together, Dock 1 enrolled
 * through A and Dock 2 through B, so every race between the docks is between the two processes.
 */
export async function startTwoHubSite() {
  const { postgres, admin } = await startHubDatabase();
  const [hubA, hubB] = await Promise.all([startHubProcess(postgres.url), startHubProcess(postgres.url)]);
  const dock1 = await enrolStation(admin, hubA.url, 'Dock 1');
  const dock2 = await enrolStation(admin, hubB.url, 'Dock 2');
  return { postgres, admin, hubA, hubB, dock1, dock2 };
}
