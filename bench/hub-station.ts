/**
 * One dock door of bench/hub.ts, in its own process: the real station (createStation through
 * tests/support/station.ts, SQLite on disk, the tests' cheap KDF, the wall clock), joined to a hub
 * through the router (`site/join` with a one-time code), a dispatcher signed in and scanning through
 * the router (`bags/scan`), its outbox drained by its own drainer every BENCH_SYNC_MS and the feed
 * followed by its own SiteService. Talks to the bench over the IPC channel (process.send):
 *   ← ready · → go {t0} · ← scanned · ← drained · → settle {seq} · ← result · → close
 * Two measuring instruments, outside the station's code: the bags transport's send is timed (the
 * push round trip as this station sees it), and a TEMP trigger notes when the feed cursor moves
 * (the page transaction that applied entries up to that seq writes it last).
 */
import { FEED_CURSOR_KEY } from '../src/main/hub/service';
import type { OutboxTransport } from '../src/main/outbox/drainer';
import { BAGS_UPSTREAM } from '../src/main/outbox/enqueue';
import { releaseAll } from '../tests/support/cleanup';
import { Inbox } from '../tests/support/inbox';
import { withAdmin, type ManualClock } from '../tests/support/station';

export interface StationPlan {
  name: string;
  dispatcher: string;
  hubUrl: string;
  code: string;
  /** The seq of the seeded history: this door follows the site from there (see bench/hub.ts). */
  fromSeq: number;
  syncMs: number;
  /** How long the outbox may take to drain after the scans, and the feed to reach the hub's last seq. */
  drainOutMs: number;
  /** In scan order; `at` is ms after t0. */
  scans: { at: number; code: string }[];
  /** Children another door scans at the same instant; `at` is ms after t0. */
  contested: { at: number; code: string }[];
}

export type ToStation = { type: 'go'; t0: number } | { type: 'settle'; seq: number } | { type: 'close' };

export interface ScanRecord {
  code: string;
  due: number;
  started: number;
  done: number;
  result: string;
  parent: string | null;
  message: string;
}

export interface StationResult {
  type: 'result';
  scans: ScanRecord[];
  contested: ScanRecord[];
  pushes: { ms: number; ops: number }[];
  /** [seq, ms since 1970] each time the feed cursor moved. */
  cursor: [number, number][];
  outbox: { opId: string; op: string; status: string }[];
  links: [string, string][];
  bags: [string, string][];
  conflicts: { opId: string; child: string; parent: string | null; winnerParent: string | null }[];
  reachedSeq: number;
}

const plan = JSON.parse(process.env.BENCH_PLAN ?? 'null') as StationPlan;
if (!plan) throw new Error('hub-station: BENCH_PLAN is not set (run bench/hub.ts)');
const send = (message: object) => process.send?.(message);
const inbox = new Inbox<ToStation>();
process.on('message', (m) => inbox.push(m as ToStation));
// The bench went away: close the station and its folder, and go too.
process.on('disconnect', () => void releaseAll().finally(() => process.exit(1)));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until(what: string, probe: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`${plan.name}: gave up waiting ${timeoutMs / 1000} s for ${what}`);
    await sleep(50);
  }
}

// The wall clock, in the shape the test helpers take (the second factor reads `t`).
const wall = { get t() { return Date.now(); }, now: () => Date.now(), advance() {} } as unknown as ManualClock; // prettier-ignore
const t = await withAdmin({
  clock: wall,
  sleep,
  syncIntervalMs: plan.syncMs,
  scannerPollMs: 0,
  outboxPruneEveryMs: 0,
  filesSweepEveryMs: 0,
  prewarmCheckMs: 0,
});
const sqlite = t.station.database.sqlite;
await t.admin.ok('settings/update', { parentFormats: [{ label: 'P + 7 digits', pattern: 'P\\d{7}' }], targetChildrenPerParent: 30 });
await t.admin.ok('site/join', { url: plan.hubUrl, code: plan.code, stationName: plan.name });
// A door that has followed the site for months: it takes the feed from the seeded history's last seq.
await t.station.site.stop();
t.station.settings.storeKey(FEED_CURSOR_KEY, { seq: plan.fromSeq, appliedAt: null });
sqlite.function('bench_now_ms', () => Date.now());
sqlite.exec(`CREATE TEMP TABLE bench_cursor (seq INTEGER NOT NULL, at REAL NOT NULL);
  CREATE TEMP TRIGGER bench_cursor_moved AFTER UPDATE ON main.settings WHEN NEW.key = '${FEED_CURSOR_KEY}'
  BEGIN INSERT INTO bench_cursor VALUES (json_extract(NEW.value, '$.seq'), bench_now_ms()); END;`);
t.station.site.start();
const door = await t.signedIn('dispatcher', plan.dispatcher);
await until('the feed', () => t.station.site.status().connected, 120_000);

const pushes: { ms: number; ops: number }[] = [];
const transport = (t.station.sync as unknown as { deps: { transports: Record<string, OutboxTransport> } }).deps.transports[BAGS_UPSTREAM];
const realSend = transport.send.bind(transport);
transport.send = async (records) => {
  const started = performance.now();
  const results = await realSend(records);
  pushes.push({ ms: performance.now() - started, ops: records.length });
  return results;
};
send({ type: 'ready' });

const { t0 } = (await inbox.first((m) => m.type === 'go')) as { t0: number };

async function scan(code: string, due: number): Promise<ScanRecord> {
  const started = Date.now();
  const r = await door.call('bags/scan', { code, source: 'wedge' });
  const done = Date.now();
  if (!r.ok) return { code, due, started, done, result: `error:${r.error.code}`, parent: null, message: r.error.message };
  return { code, due, started, done, result: r.value.result, parent: r.value.parent?.code ?? null, message: r.value.message };
}

// Contested children at their instant, whatever the regular scans are doing.
const contested = Promise.all(
  plan.contested.map(async (c) => {
    await sleep(Math.max(0, t0 + c.at - Date.now()));
    return scan(c.code, t0 + c.at);
  }),
);
const scans: ScanRecord[] = [];
for (const s of plan.scans) {
  const wait = t0 + s.at - Date.now();
  if (wait > 0) await sleep(wait);
  scans.push(await scan(s.code, t0 + s.at));
}
const contestedScans = await contested;
send({ type: 'scanned' });

const pending = sqlite.prepare("SELECT count(*) FROM outbox WHERE upstream = ? AND status = 'pending'").pluck();
await until('the outbox to drain', () => pending.get(BAGS_UPSTREAM) === 0, plan.drainOutMs).catch(() => {});
send({ type: 'drained', pending: pending.get(BAGS_UPSTREAM) });

const { seq } = (await inbox.first((m) => m.type === 'settle')) as { seq: number };
await until(`the feed up to ${seq}`, () => t.station.site.status().lastSeq >= seq, plan.drainOutMs).catch(() => {});

const RUN_BAG = "(code GLOB 'S[0-9][0-9]-*' OR code GLOB 'X-*' OR code GLOB 'P2*')";
const result: StationResult = {
  type: 'result',
  scans,
  contested: contestedScans,
  pushes,
  cursor: sqlite.prepare('SELECT seq, at FROM temp.bench_cursor ORDER BY rowid').raw().all() as [number, number][],
  outbox: sqlite.prepare('SELECT op_id AS opId, op, status FROM outbox WHERE upstream = ?').all(BAGS_UPSTREAM) as StationResult['outbox'],
  links: sqlite
    .prepare(
      `SELECT c.code, p.code FROM bag_links l JOIN bags c ON c.id = l.child_id JOIN bags p ON p.id = l.parent_id WHERE ${RUN_BAG.replaceAll('code', 'c.code')}`,
    )
    .raw()
    .all() as [string, string][],
  bags: sqlite.prepare(`SELECT code, kind FROM bags WHERE ${RUN_BAG}`).raw().all() as [string, string][],
  conflicts: (
    sqlite.prepare('SELECT op_id, child, parent, winner FROM site_conflicts').all() as {
      op_id: string;
      child: string;
      parent: string | null;
      winner: string | null;
    }[]
  ).map((c) => ({
    opId: c.op_id,
    child: c.child,
    parent: c.parent,
    winnerParent: c.winner ? ((JSON.parse(c.winner) as { parent?: string }).parent ?? null) : null,
  })),
  reachedSeq: t.station.site.status().lastSeq,
};
send(result);
await inbox.first((m) => m.type === 'close');
await releaseAll();
process.exit(0);
