/**
 * Bag tracking at scale: seeds 2,000,000 bags (parents with 30 children each) into a fresh
 * on-disk station database, then measures, through the real router and services:
 *   - linking a child (p50/p99), each a full IMMEDIATE transaction with audit + outbox, synchronous=FULL
 *     (what the station ships), and the same with synchronous=NORMAL for comparison;
 *   - prefix search (p99), 50 rows a page;
 *   - the bill view for a bill of 500 parents × 30 children.
 * Baseline in the same run: a bare one-row INSERT commit on the same file (the disk's fsync cost).
 *
 *   npm run bench:scan   → last line: link_p99_ms=… search_p99_ms=… bill_view_ms=… bags=…
 *   BENCH_BAGS=200000 npm run bench:scan   (smaller, quicker)
 */
import fs from 'node:fs';
import path from 'node:path';
import { withAdmin } from '../tests/support/station';

const TOTAL = Number(process.env.BENCH_BAGS ?? 2_000_000);
const CHILDREN = 30;
const LINKS = Number(process.env.BENCH_LINKS ?? 3000);
const SEARCHES = 2000;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const ms = (n: number) => +n.toFixed(3);
async function time(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const t = await withAdmin();
const sqlite = t.station.database.sqlite;
const dock = await t.signedIn('dispatcher', 'dock1');
const dockId = (await dock.ok('session/status', {})).user!.id;
await t.admin.ok('settings/update', { idleLockMinutes: 240, targetChildrenPerParent: 30 });
const stationId = t.station.auth.info(dock.session).station.id;

// --- seed ---------------------------------------------------------------------------------
const parents = Math.ceil(TOTAL / (CHILDREN + 1));
const seedStart = performance.now();
sqlite.pragma('synchronous = OFF'); // seeding only; restored to FULL before measuring
const insBag = sqlite.prepare("INSERT INTO bags (code, kind, created_at, created_by, station_id, origin) VALUES (?, ?, ?, ?, ?, 'import')");
const insLink = sqlite.prepare('INSERT INTO bag_links (child_id, parent_id, linked_at, linked_by) VALUES (?, ?, ?, ?)');
let made = 0;
let child = 0;
const base = Date.UTC(2026, 0, 1);
const seedBatch = sqlite.transaction((from: number, to: number) => {
  for (let p = from; p < to && made < TOTAL; p++) {
    const at = base + p * 60_000;
    const parentId = Number(insBag.run(`SB${String(p).padStart(5, '0')}`, 'parent', at, dockId, stationId).lastInsertRowid);
    made++;
    for (let c = 0; c < CHILDREN && made < TOTAL; c++) {
      const childId = Number(insBag.run(`C${String(child++).padStart(8, '0')}`, 'child', at + c, dockId, stationId).lastInsertRowid);
      insLink.run(childId, parentId, at + c, dockId);
      made++;
    }
  }
});
for (let p = 0; p < parents; p += 2000) seedBatch(p, p + 2000);
// The bill: the first 500 parents.
const bill = await t.admin.ok('bills/create', { note: 'bench' });
sqlite.transaction(() => {
  const ins = sqlite.prepare('INSERT INTO bill_parents (parent_id, bill_id, added_at) SELECT id, ?, created_at FROM bags WHERE kind = \'parent\' ORDER BY id LIMIT 500');
  ins.run(bill.id);
})();
sqlite.pragma('synchronous = FULL');
sqlite.pragma('wal_checkpoint(TRUNCATE)');
sqlite.exec('ANALYZE');
const seedS = (performance.now() - seedStart) / 1000;
const dbMb = fs.statSync(path.join(t.dataDir, 'dockside.sqlite')).size / 1e6;
console.log(`seeded ${made.toLocaleString()} bags (${parents.toLocaleString()} parents) in ${seedS.toFixed(1)} s; database ${dbMb.toFixed(0)} MB`);

// --- baseline: a bare commit on the same file ---------------------------------------------
sqlite.exec('CREATE TABLE bench_baseline (id INTEGER PRIMARY KEY, v TEXT)');
const bare = sqlite.prepare('INSERT INTO bench_baseline (v) VALUES (?)');
const bareTx = sqlite.transaction(() => bare.run('x'));
const bareTimes: number[] = [];
for (let i = 0; i < LINKS; i++) bareTimes.push(await time(() => bareTx()));

// --- link ---------------------------------------------------------------------------------
const linkTimes: number[] = [];
let parentNo = 90_000; // new parents, beyond the seeded ones
let n = 0;
while (linkTimes.length < LINKS) {
  const p = await dock.ok('bags/scan', { code: `SB${parentNo++}`, source: 'wedge' });
  if (p.result !== 'parent') throw new Error(`parent scan: ${p.message}`);
  for (let c = 0; c < CHILDREN && linkTimes.length < LINKS; c++) {
    const code = `NEW-${n++}`;
    let result = '';
    linkTimes.push(await time(async () => (result = (await dock.ok('bags/scan', { code, source: 'wedge' })).result)));
    if (result !== 'linked') throw new Error(`link ${code}: ${result}`);
  }
}

// --- the same links with synchronous=NORMAL, for comparison only (the station ships FULL) ----
sqlite.pragma('synchronous = NORMAL');
const normalTimes: number[] = [];
while (normalTimes.length < LINKS) {
  await dock.ok('bags/scan', { code: `SB${parentNo++}`, source: 'wedge' });
  for (let c = 0; c < CHILDREN && normalTimes.length < LINKS; c++) {
    const code = `NEW-${n++}`;
    normalTimes.push(await time(() => dock.ok('bags/scan', { code, source: 'wedge' })));
  }
}
sqlite.pragma('synchronous = FULL');

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
  billTimes.push(await time(async () => (children = (await t.admin.ok('bills/get', { billId: bill.id })).childCount)));
  if (children !== 500 * CHILDREN) throw new Error(`bill view: ${children} children`);
}

await t.close();
fs.rmSync(t.dataDir, { recursive: true, force: true });

const result = {
  bags: made,
  seed_s: +seedS.toFixed(1),
  bare_commit_p50_ms: ms(pct(bareTimes, 50)),
  bare_commit_p99_ms: ms(pct(bareTimes, 99)),
  link_p50_ms: ms(pct(linkTimes, 50)),
  link_p99_ms: ms(pct(linkTimes, 99)),
  link_over_bare_p50: +(pct(linkTimes, 50) / pct(bareTimes, 50)).toFixed(2),
  link_normal_p50_ms: ms(pct(normalTimes, 50)),
  link_normal_p99_ms: ms(pct(normalTimes, 99)),
  search_p50_ms: ms(pct(searchTimes, 50)),
  search_p99_ms: ms(pct(searchTimes, 99)),
  bill_view_ms: ms(pct(billTimes, 50)),
  bill_view_p99_ms: ms(pct(billTimes, 99)),
};
console.log(`link:   p50 ${result.link_p50_ms} ms  p99 ${result.link_p99_ms} ms  (${LINKS} links; bare commit p50 ${result.bare_commit_p50_ms} p99 ${result.bare_commit_p99_ms})`);
console.log(`link with synchronous=NORMAL (comparison): p50 ${result.link_normal_p50_ms} ms  p99 ${result.link_normal_p99_ms} ms`);
console.log(`search: p50 ${result.search_p50_ms} ms  p99 ${result.search_p99_ms} ms  (${SEARCHES} prefix searches)`);
console.log(`bill:   p50 ${result.bill_view_ms} ms  p99 ${result.bill_view_p99_ms} ms  (500 parents × ${CHILDREN} children)`);
fs.mkdirSync('bench/results', { recursive: true });
fs.appendFileSync('bench/results/scan.jsonl', JSON.stringify({ at: new Date().toISOString(), ...result }) + '\n');
console.log(`link_p99_ms=${result.link_p99_ms} search_p99_ms=${result.search_p99_ms} bill_view_ms=${result.bill_view_ms} bags=${result.bags}`);
