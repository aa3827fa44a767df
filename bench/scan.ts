/**
 * Bag tracking at scale, with the history months of use leave behind. Seeds a fresh on-disk
 * station database with 2,000,000 bags (parents with 30 children each) made over 180 days, and for
 * each bag the rows the station wrote when it was scanned: its scan, its audit row, and — for the
 * newest half — its outbox record (acknowledged 'done', the newest few thousand still pending).
 * Scans are spread over five dispatchers and three stations; most are the benchmark's own user at
 * this station, as on a real dock door. Then it restarts the station on that file (as a station
 * opens each morning; nothing the station does not do itself, no ANALYZE) and measures, through
 * the real router:
 *   - linking a child (p50/p99), a full IMMEDIATE transaction with scan, audit and outbox rows,
 *     synchronous=FULL (what the station ships), and the same with synchronous=NORMAL for comparison;
 *   - the scan screen: a link plus the `bags/current` call the screen makes after it (parent
 *     progress and the user's recent scans);
 *   - `sync/status`, which every window asks every 5 s;
 *   - prefix search (p99), 50 rows a page; the bill view for a bill of 500 parents × 30 children;
 *   - where the station prunes acknowledged outbox records: a prune of everything past retention
 *     while links go on, its longest batch (the longest a scan can wait for it) and link p99 meanwhile.
 * Each hot query's EXPLAIN QUERY PLAN on the seeded database is printed before the timings.
 * Baseline in the same run: a bare one-row INSERT commit on the same file (the disk's fsync cost).
 *
 *   npm run bench:scan   → last line: link_p99_ms=… search_p99_ms=… bill_view_ms=… bags=… history_rows=… scan_screen_p99_ms=… …
 *   BENCH_BAGS=200000 npm run bench:scan   (smaller and quicker; history scales with it)
 *   BENCH_KEEP=1 keeps the seeded data folder and prints where it is.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { makeStation, signInAs, withAdmin, type TestWindow } from '../tests/support/station';

const TOTAL = Number(process.env.BENCH_BAGS ?? 2_000_000);
const CHILDREN = 30;
const LINKS = Number(process.env.BENCH_LINKS ?? 3000);
const SEARCHES = 2000;
const STATUS_CALLS = 500;
const HISTORY_DAYS = 180;
/** The newest half of the bags have outbox records: acknowledged, except the newest few hours'. */
const OUTBOX_DONE = Math.round(TOTAL / 2);
const OUTBOX_PENDING = Math.max(100, Math.round(TOTAL / 400));
const DAY = 86_400_000;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const ms = (n: number) => +n.toFixed(3);
const count = (db: Database.Database, table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
async function time(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const upstreams = { bags: { url: 'http://127.0.0.1:9' } }; // configured, so sync/status counts its queue; never drained here
// The prune is timed on its own at the end; it must not start in the middle of the other timings.
const stationConfig = { upstreams, syncIntervalMs: 0, scannerPollMs: 0, outboxPruneEveryMs: 0 };

const first = await withAdmin(stationConfig);
const dataDir = first.dataDir;
await first.signedIn('dispatcher', 'dock1');
await first.admin.ok('settings/update', { idleLockMinutes: 240, targetChildrenPerParent: 30 });
for (const name of ['dock2', 'dock3', 'dock4', 'dock5']) {
  await first.admin.ok('users/create', { username: name, displayName: name, role: 'dispatcher', password: 'password-123' });
}
const sqlite = first.station.database.sqlite;
const userIds = new Map(
  (sqlite.prepare('SELECT id, username FROM users').all() as { id: number; username: string }[]).map((u) => [u.username, u.id]),
);
const here = first.station.settings.stationId();
const now = first.clock.now();

// --- seed ---------------------------------------------------------------------------------
/** Who scanned parent p and its children: 70% the benchmark's user here, 10% that user elsewhere, 20% others. */
function scannedBy(p: number): { user: string; station: string } {
  const r = p % 20;
  if (r < 14) return { user: 'dock1', station: here };
  if (r < 16) return { user: 'dock1', station: `door-${r - 12}` };
  return { user: `dock${r - 14}`, station: r < 18 ? here : `door-${r - 15}` };
}

const parents = Math.ceil(TOTAL / (CHILDREN + 1));
const historyStart = now - HISTORY_DAYS * DAY;
const step = (HISTORY_DAYS * DAY - 3_600_000) / TOTAL; // the last bag an hour before the bench's "now"
const outboxFrom = TOTAL - OUTBOX_DONE - OUTBOX_PENDING;
const pendingFrom = TOTAL - OUTBOX_PENDING;
const seedStart = performance.now();
sqlite.pragma('synchronous = OFF'); // seeding only; the restart below opens the file as the station does
sqlite.pragma('cache_size = -1000000');
const insBag = sqlite.prepare("INSERT INTO bags (code, kind, created_at, created_by, station_id, origin) VALUES (?, ?, ?, ?, ?, 'scan')");
const insLink = sqlite.prepare('INSERT INTO bag_links (child_id, parent_id, linked_at, linked_by, scan_id) VALUES (?, ?, ?, ?, ?)');
const insScan = sqlite.prepare(
  "INSERT INTO scans (at, user_id, station_id, source, device, raw, code, result, message, parent_id, child_id, created_child) VALUES (?, ?, ?, 'hid', 'Honeywell 1950g', ?, ?, ?, ?, ?, ?, ?)",
);
const insAudit = sqlite.prepare(
  "INSERT INTO audit_log (at, user_id, username, station_id, action, entity, entity_id, before, after) VALUES (?, ?, ?, ?, ?, 'bag', ?, ?, ?)",
);
const insOutbox = sqlite.prepare(
  "INSERT INTO outbox (op_id, op, upstream, payload, status, created_at, updated_at) VALUES (?, ?, 'bags', ?, ?, ?, ?)",
);
let made = 0;
const parentIds: number[] = [];
let child = 0;
const queue = (i: number, op: string, payload: object, at: number) => {
  if (i < outboxFrom) return;
  const pending = i >= pendingFrom;
  insOutbox.run(randomUUID(), op, JSON.stringify(payload), pending ? 'pending' : 'done', at, pending ? at : at + 2_000);
};
const seedBatch = sqlite.transaction((from: number, to: number) => {
  for (let p = from; p < to && made < TOTAL; p++) {
    const { user, station } = scannedBy(p);
    const userId = userIds.get(user)!;
    const parentCode = `SB${String(p).padStart(5, '0')}`;
    let at = Math.round(historyStart + made * step);
    const parentId = Number(insBag.run(parentCode, 'parent', at, userId, station).lastInsertRowid);
    parentIds.push(parentId);
    insScan.run(at, userId, station, parentCode, parentCode, 'parent', `New parent ${parentCode}`, parentId, null, 0);
    insAudit.run(at, userId, user, station, 'bags.created', parentCode, null, JSON.stringify({ code: parentCode, kind: 'parent' }));
    queue(made, 'bag_created@1', { code: parentCode, kind: 'parent', at, by: user, station }, at);
    made++;
    for (let c = 0; c < CHILDREN && made < TOTAL; c++) {
      at = Math.round(historyStart + made * step);
      const code = `C${String(child++).padStart(8, '0')}`;
      const childId = Number(insBag.run(code, 'child', at, userId, station).lastInsertRowid);
      const scanId = insScan.run(
        at,
        userId,
        station,
        code,
        code,
        'linked',
        `Linked ${code} → ${parentCode} (${c + 1})`,
        parentId,
        childId,
        1,
      ).lastInsertRowid;
      insLink.run(childId, parentId, at, userId, scanId);
      insAudit.run(
        at,
        userId,
        user,
        station,
        'bags.linked',
        code,
        JSON.stringify({ code, parent: null }),
        JSON.stringify({ code, parent: parentCode }),
      );
      queue(made, 'link_child@1', { child: code, parent: parentCode, at, by: user, station }, at);
      made++;
    }
  }
});
for (let p = 0; p < parents; p += 2000) seedBatch(p, p + 2000);
// The bill the bench views: the first 500 parents.
const bill = await first.admin.ok('bills/create', { note: 'bench' });
sqlite
  .prepare("INSERT INTO bill_parents (parent_id, bill_id, added_at) SELECT id, ?, created_at FROM bags WHERE kind = 'parent' ORDER BY id LIMIT 500")
  .run(bill.id);
// The months' other bills, finalized: 350 parents each, all but the newest few hundred parents billed.
const insBill = sqlite.prepare(
  "INSERT INTO bills (number, status, kg_per_child, total_children, created_at, created_by, finalized_at, finalized_by) VALUES (?, 'finalized', 1, ?, ?, ?, ?, ?)",
);
const insBillParent = sqlite.prepare('INSERT INTO bill_parents (parent_id, bill_id, added_at, added_by) VALUES (?, ?, ?, ?)');
const billerId = userIds.get('boss')!;
sqlite.transaction(() => {
  for (let from = 500, n = bill.id + 1; from + 350 <= parentIds.length - 300; from += 350, n++) {
    const at = Math.round(historyStart + (from + 350) * (CHILDREN + 1) * step);
    const id = Number(insBill.run(`B-${String(n).padStart(6, '0')}`, 350 * CHILDREN, at, billerId, at + 3_600_000, billerId).lastInsertRowid);
    for (let p = from; p < from + 350; p++) insBillParent.run(parentIds[p], id, at, billerId);
  }
})();
await first.close();
const seedS = (performance.now() - seedStart) / 1000;
const dbMb = fs.statSync(path.join(dataDir, 'dockside.sqlite')).size / 1e6;

// --- the station as it opens on that file ---------------------------------------------------
/** Every statement text the station prepares from here on, for the plans below. */
const prepared = new Set<string>();
const prepare = Database.prototype.prepare;
Database.prototype.prepare = function (this: Database.Database, source: string) {
  prepared.add(source);
  return prepare.call(this, source);
} as typeof prepare;
const openStart = performance.now();
const t = await makeStation({ ...stationConfig, dataDir });
const openS = (performance.now() - openStart) / 1000;
const db = t.station.database.sqlite;
async function signIn(username: string, secret: string): Promise<TestWindow> {
  const w = t.window(`${username} window`);
  await signInAs(t, w, username, secret);
  return w;
}
const admin = await signIn('boss', 'correct horse');
const dock = await signIn('dock1', 'password-123');
const dockId = userIds.get('dock1')!;
const history = { audit: count(db, 'audit_log'), scans: count(db, 'scans'), outbox: count(db, 'outbox') };
const historyRows = history.audit + history.scans + history.outbox;
console.log(
  `seeded ${made.toLocaleString()} bags (${parents.toLocaleString()} parents) with ${history.audit.toLocaleString()} audit rows, ${history.scans.toLocaleString()} scans, ` +
    `${history.outbox.toLocaleString()} outbox records (${OUTBOX_PENDING.toLocaleString()} pending), ${count(db, 'bills')} bills in ${seedS.toFixed(1)} s; database ${dbMb.toFixed(0)} MB; station opened in ${openS.toFixed(2)} s`,
);

// --- the hot queries' plans on this database ------------------------------------------------
// The statements the station itself prepared (recorded below), found by a piece of their text; a
// plan that sorts (USE TEMP B-TREE) or scans a table here costs in proportion to the history.
const stats = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").get() ? count(db, 'sqlite_stat1') : 0;
console.log(`query plans (sqlite_stat1 rows: ${stats})`);
const hot: [string, RegExp, unknown[] | ((sql: string) => unknown[])][] = [
  ['recentScans (bags/current)', /WHERE s\.user_id = \? AND s\.station_id = \? ORDER BY/, [dockId, here, 15]],
  ['progress (bags/scan, bags/current)', /AS bill_status\s+FROM bags b/, [1]],
  ['lastLink (bags/undo-last)', /s\.result = 'linked'/, [dockId, here, now - 3_600_000]],
  ['outbox counts (sync/status, every 5 s)', /AS queued/, (sql) => (sql.includes('@upstream') ? [{ upstream: 'bags' }] : ['bags'])],
  ['outbox due (drainer, every 2 s)', /next_attempt_at <= \?/, ['bags', now, 500]],
  ['outbox stuck (Admin → Sync, every 5 s)', /WHERE status = 'error' ORDER BY seq/, []],
  ['outbox prune batch', /DELETE FROM outbox/, [now - 7 * DAY, 500]],
];
for (const [name, match, params] of hot) {
  const sql = [...prepared].find((s) => match.test(s));
  console.log(`  ${name}${sql ? '' : ': not in this code'}`);
  if (!sql) continue;
  const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...(typeof params === 'function' ? params(sql) : params)) as {
    id: number;
    parent: number;
    detail: string;
  }[];
  const depth = new Map<number, number>([[0, 0]]);
  for (const r of rows) {
    depth.set(r.id, (depth.get(r.parent) ?? 0) + 1);
    console.log(`    ${'  '.repeat(depth.get(r.id)! - 1)}${r.detail}`);
  }
}

// --- baseline: a bare commit on the same file ---------------------------------------------
db.exec('CREATE TABLE bench_baseline (id INTEGER PRIMARY KEY, v TEXT)');
const bare = db.prepare('INSERT INTO bench_baseline (v) VALUES (?)');
const bareTx = db.transaction(() => bare.run('x'));
const bareTimes: number[] = [];
for (let i = 0; i < LINKS; i++) bareTimes.push(await time(() => bareTx()));

// --- link, and the scan screen: the link plus the bags/current call the screen makes after it --
let parentNo = 90_000; // new parents, beyond the seeded ones
let n = 0;
async function scanParent(w: TestWindow, screen = true): Promise<void> {
  const p = await w.ok('bags/scan', { code: `SB${parentNo++}`, source: 'wedge' });
  if (p.result !== 'parent') throw new Error(`parent scan: ${p.message}`);
  if (screen) await w.ok('bags/current', {});
}
async function link(w: TestWindow): Promise<number> {
  const code = `NEW-${n++}`;
  let result = '';
  const elapsed = await time(async () => (result = (await w.ok('bags/scan', { code, source: 'wedge' })).result));
  if (result !== 'linked') throw new Error(`link ${code}: ${result}`);
  return elapsed;
}
/** One child scan as the screen makes it: returns [link ms, link + bags/current ms]. */
async function scanChild(w: TestWindow): Promise<[number, number]> {
  const code = `NEW-${n++}`;
  const t0 = performance.now();
  const r = await w.ok('bags/scan', { code, source: 'wedge' });
  const t1 = performance.now();
  const current = await w.ok('bags/current', {});
  const t2 = performance.now();
  if (r.result !== 'linked') throw new Error(`link ${code}: ${r.result}`);
  if (current.recent.length === 0 || current.recent[0].code !== code)
    throw new Error(`bags/current after ${code}: recent scans do not start with it`);
  return [t1 - t0, t2 - t0];
}
const linkTimes: number[] = [];
const screenTimes: number[] = [];
while (linkTimes.length < LINKS) {
  await scanParent(dock);
  for (let c = 0; c < CHILDREN && linkTimes.length < LINKS; c++) {
    const [link, screen] = await scanChild(dock);
    linkTimes.push(link);
    screenTimes.push(screen);
  }
}

// --- the same links with synchronous=NORMAL, for comparison only (the station ships FULL) ----
db.pragma('synchronous = NORMAL');
const normalTimes: number[] = [];
while (normalTimes.length < LINKS) {
  await scanParent(dock, false);
  for (let c = 0; c < CHILDREN && normalTimes.length < LINKS; c++) normalTimes.push(await link(dock));
}
db.pragma('synchronous = FULL');

// --- sync/status, as the top bar asks it every 5 s ------------------------------------------
const statusTimes: number[] = [];
for (let i = 0; i < STATUS_CALLS; i++) {
  let queued = 0;
  statusTimes.push(await time(async () => (queued = (await dock.ok('sync/status', {})).find((u) => u.upstream === 'bags')?.queued ?? -1)));
  if (queued < OUTBOX_PENDING) throw new Error(`sync/status: ${queued} queued for bags, expected at least ${OUTBOX_PENDING}`);
}

// --- search -------------------------------------------------------------------------------
const searchTimes: number[] = [];
for (let i = 0; i < SEARCHES; i++) {
  const k = Math.floor((i * 7919) % Math.max(1, child));
  const prefix = `C${String(k).padStart(8, '0').slice(0, 5)}`; // ~1,000 matches, one page of 50
  let rows = 0;
  searchTimes.push(await time(async () => (rows = (await dock.ok('bags/search', { prefix, limit: 50 })).rows.length)));
  if (rows === 0) throw new Error(`search ${prefix} found nothing`);
}

// --- bill view ----------------------------------------------------------------------------
const billTimes: number[] = [];
for (let i = 0; i < 30; i++) {
  let children = 0;
  billTimes.push(await time(async () => (children = (await admin.ok('bills/get', { billId: bill.id })).childCount)));
  if (children !== 500 * CHILDREN) throw new Error(`bill view: ${children} children`);
}

// --- the outbox prune, while the dock door keeps scanning -----------------------------------
// Where the station prunes (not before this change), everything acknowledged more than the
// retention ago goes, in batches that rest between them. Scans arrive every 20 ms meanwhile (far
// faster than a dock door scans), each as a timer task, as an IPC message arrives: a scan that
// arrives while a batch runs waits for it, and its time counts from when it arrived.
interface PruneReport {
  deleted: number;
  batches: number;
  p99BatchMs: number;
  longestBatchMs: number;
}
const pruner = (t.station as { outboxPruner?: { pruneNow(): Promise<PruneReport> } }).outboxPruner;
let prune: (PruneReport & { s: number; linkP99: number; links: number }) | null = null;
if (pruner) {
  const pruneStart = performance.now();
  let finished: PruneReport | null = null;
  const running = pruner.pruneNow().then((r) => (finished = r));
  const duringTimes: number[] = [];
  while (!finished) {
    await scanParent(dock, false);
    for (let c = 0; c < CHILDREN && !finished; c++) {
      const arrives = performance.now() + 20;
      await new Promise((resolve) => setTimeout(resolve, 20));
      const code = `NEW-${n++}`;
      const r = await dock.ok('bags/scan', { code, source: 'wedge' });
      duringTimes.push(performance.now() - arrives);
      if (r.result !== 'linked') throw new Error(`link ${code} during prune: ${r.result}`);
    }
  }
  const report = await running;
  prune = { ...report, s: (performance.now() - pruneStart) / 1000, linkP99: pct(duringTimes, 99), links: duringTimes.length };
}

await t.close();
if (process.env.BENCH_KEEP) console.log(`kept ${dataDir}`);
else fs.rmSync(dataDir, { recursive: true, force: true });

const result = {
  bags: made,
  history_rows: historyRows,
  audit_rows: history.audit,
  scan_rows: history.scans,
  outbox_rows: history.outbox,
  seed_s: +seedS.toFixed(1),
  open_s: +openS.toFixed(2),
  bare_commit_p50_ms: ms(pct(bareTimes, 50)),
  bare_commit_p99_ms: ms(pct(bareTimes, 99)),
  bare_commit_max_ms: ms(pct(bareTimes, 100)),
  link_p50_ms: ms(pct(linkTimes, 50)),
  link_p99_ms: ms(pct(linkTimes, 99)),
  link_over_bare_p50: +(pct(linkTimes, 50) / pct(bareTimes, 50)).toFixed(2),
  scan_screen_p50_ms: ms(pct(screenTimes, 50)),
  scan_screen_p99_ms: ms(pct(screenTimes, 99)),
  link_normal_p50_ms: ms(pct(normalTimes, 50)),
  link_normal_p99_ms: ms(pct(normalTimes, 99)),
  sync_status_p50_ms: ms(pct(statusTimes, 50)),
  sync_status_p99_ms: ms(pct(statusTimes, 99)),
  search_p50_ms: ms(pct(searchTimes, 50)),
  search_p99_ms: ms(pct(searchTimes, 99)),
  bill_view_ms: ms(pct(billTimes, 50)),
  bill_view_p99_ms: ms(pct(billTimes, 99)),
  ...(prune
    ? {
        prune_rows: prune.deleted,
        prune_s: +prune.s.toFixed(1),
        prune_batches: prune.batches,
        prune_batch_p99_ms: ms(prune.p99BatchMs),
        prune_batch_max_ms: ms(prune.longestBatchMs),
        link_during_prune_p99_ms: ms(prune.linkP99),
      }
    : {}),
};
console.log(
  `link:   p50 ${result.link_p50_ms} ms  p99 ${result.link_p99_ms} ms  (${LINKS} links; bare commit p50 ${result.bare_commit_p50_ms} p99 ${result.bare_commit_p99_ms} max ${result.bare_commit_max_ms})`,
);
console.log(`screen: p50 ${result.scan_screen_p50_ms} ms  p99 ${result.scan_screen_p99_ms} ms  (the link plus bags/current)`);
console.log(`link with synchronous=NORMAL (comparison): p50 ${result.link_normal_p50_ms} ms  p99 ${result.link_normal_p99_ms} ms`);
console.log(`sync/status: p50 ${result.sync_status_p50_ms} ms  p99 ${result.sync_status_p99_ms} ms  (${STATUS_CALLS} calls)`);
console.log(`search: p50 ${result.search_p50_ms} ms  p99 ${result.search_p99_ms} ms  (${SEARCHES} prefix searches)`);
console.log(`bill:   p50 ${result.bill_view_ms} ms  p99 ${result.bill_view_p99_ms} ms  (500 parents × ${CHILDREN} children)`);
if (prune) {
  console.log(
    `prune:  ${prune.deleted.toLocaleString()} acknowledged records in ${prune.batches} batches, ${result.prune_s} s; batch p99 ${result.prune_batch_p99_ms} ms, longest ${result.prune_batch_max_ms} ms; ` +
      `${prune.links} links meanwhile, p99 ${result.link_during_prune_p99_ms} ms`,
  );
} else console.log('prune:  this station does not prune its outbox');
fs.mkdirSync('bench/results', { recursive: true });
fs.appendFileSync('bench/results/scan.jsonl', JSON.stringify({ at: new Date().toISOString(), ...result }) + '\n');
console.log(
  `link_p99_ms=${result.link_p99_ms} search_p99_ms=${result.search_p99_ms} bill_view_ms=${result.bill_view_ms} bags=${result.bags} ` +
    `history_rows=${result.history_rows} scan_screen_p99_ms=${result.scan_screen_p99_ms} sync_status_p99_ms=${result.sync_status_p99_ms}` +
    (prune
      ? ` prune_batch_p99_ms=${result.prune_batch_p99_ms} prune_batch_max_ms=${result.prune_batch_max_ms} link_during_prune_p99_ms=${result.link_during_prune_p99_ms}`
      : ''),
);
