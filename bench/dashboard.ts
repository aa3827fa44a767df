/**
 * The operations dashboard on a station with months of history. Seeds a fresh on-disk station
 * database with 2,000,000 scans over 120 days (about 16,700 a day, 06:00–18:00 in the station's
 * zone, six dispatchers at four USB scanners and a keyboard scanner), a bag for every parent and
 * linked scan, 30 bills a day, four import or export jobs a day and 300,000 outbox records (a few
 * thousand still waiting). Then it restarts the station on that file, as a station opens each
 * morning, and times `dashboard/today` through the real router, each call a full computation
 * (the cache is cleared before each, as a change would).
 *
 * Baseline in the same run: the same computation after dropping the indexes migration 0008 adds
 * (scans_at, bills_created, bills_finalized, jobs_kind_created), i.e. what today's figures cost when
 * they must read the history. `ratio` = dashboard_ms / baseline_ms.
 *
 *   npm run bench:dashboard   → last line: scans=… dashboard_ms=… baseline_ms=… ratio=…
 *   BENCH_SCANS=200000 npm run bench:dashboard   (smaller and quicker)
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { DASHBOARD_SQL } from '../src/main/dashboard/figures';
import { localDay } from '../src/main/dashboard/local-day';
import { makeStation, signInAs, withAdmin } from '../tests/support/station';

const SCANS = Number(process.env.BENCH_SCANS ?? 2_000_000);
const DAYS = 120;
const RUNS = 30;
const BASELINE_RUNS = 3;
const TZ = 'Australia/Sydney';
const H = 3_600_000;
const DAY = 24 * H;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const ms = (n: number) => +n.toFixed(2);

const config = { syncIntervalMs: 0, scannerPollMs: 0, outboxPruneEveryMs: 0, timeZone: TZ };
const first = await withAdmin(config);
const dataDir = first.dataDir;
await first.admin.ok('settings/update', { idleLockMinutes: 240 });
const people: number[] = [];
for (let i = 1; i <= 6; i++) {
  await first.admin.ok('users/create', { username: `dock${i}`, displayName: `Dock person ${i}`, role: 'dispatcher', password: 'password-123' });
}
const sqlite = first.station.database.sqlite;
for (const r of sqlite.prepare("SELECT id FROM users WHERE role = 'dispatcher' ORDER BY id").all() as { id: number }[]) people.push(r.id);
const here = first.station.settings.stationId();
const now = first.clock.now();
const today = localDay(now, TZ);

// --- seed ---------------------------------------------------------------------------------
const seedStart = performance.now();
sqlite.pragma('synchronous = OFF'); // seeding only; the restart opens the file as the station does
sqlite.pragma('cache_size = -1000000');
const insScan = sqlite.prepare(
  "INSERT INTO scans (at, user_id, station_id, source, device, raw, code, result, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'seeded')",
);
const insBag = sqlite.prepare("INSERT INTO bags (code, kind, created_at, created_by, station_id, origin) VALUES (?, ?, ?, ?, ?, 'scan')");
const insBill = sqlite.prepare('INSERT INTO bills (number, status, created_at, finalized_at) VALUES (?, ?, ?, ?)');
const insJob = sqlite.prepare("INSERT INTO jobs (kind, status, created_at, finished_at) VALUES (?, 'succeeded', ?, ?)");
const insOutbox = sqlite.prepare(
  "INSERT INTO outbox (op_id, op, upstream, payload, status, created_at, updated_at) VALUES (?, 'link_child@1', 'bags', '{}', ?, ?, ?)",
);
const devices = ['Door 1 scanner', 'Door 2 scanner', 'Door 3 scanner', 'Door 4 scanner', null];
const perDay = Math.ceil(SCANS / DAYS);
let scans = 0;
let bagN = 0;
for (let d = DAYS - 1; d >= 0; d--) {
  const dayStart = today.start - d * DAY;
  sqlite.transaction(() => {
    for (let j = 0; j < perDay && scans < SCANS; j++, scans++) {
      const at = dayStart + 6 * H + Math.floor((j * 12 * H) / perDay);
      const who = j % people.length;
      const result = j % 40 === 0 ? 'parent' : j % 50 === 1 ? 'conflict' : 'linked';
      const code = `${result === 'parent' ? 'SB' : 'C'}${++bagN}`;
      const device = devices[j % devices.length];
      insScan.run(at, people[who], here, device ? 'hid' : 'wedge', device, code, code, result);
      if (result !== 'conflict') insBag.run(code, result === 'parent' ? 'parent' : 'child', at, people[who], here);
    }
    for (let b = 0; b < 30; b++) {
      const at = dayStart + 8 * H + b * 20 * 60_000;
      insBill.run(`B-${DAYS - d}-${b}`, d === 0 && b >= 25 ? 'draft' : 'finalized', at, d === 0 && b >= 25 ? null : at + 2 * H);
    }
    for (let k = 0; k < 4; k++) insJob.run(k < 3 ? 'import' : 'export', dayStart + (9 + k * 2) * H, dayStart + (9 + k * 2) * H + 60_000);
  })();
}
const OUTBOX = Math.min(300_000, Math.round(SCANS * 0.15));
sqlite.transaction(() => {
  for (let i = 0; i < OUTBOX; i++) {
    const pending = i >= OUTBOX - 2000;
    const at = now - (OUTBOX - i) * 1000;
    insOutbox.run(randomUUID(), pending ? 'pending' : 'done', at, at + 2000);
  }
})();
const seedS = (performance.now() - seedStart) / 1000;
await first.close();

// --- measure ------------------------------------------------------------------------------
const t = await makeStation({ ...config, dataDir, clock: first.clock });
const admin = t.window('bench admin');
await signInAs(t, admin, 'boss', 'correct horse');
const db = t.station.database.sqlite;
const counts = db.prepare('SELECT (SELECT count(*) FROM scans) AS scans, (SELECT count(*) FROM bags) AS bags').get() as {
  scans: number;
  bags: number;
};
console.log(`seeded ${counts.scans.toLocaleString()} scans, ${counts.bags.toLocaleString()} bags over ${DAYS} days in ${seedS.toFixed(1)} s`);
function printPlans(title: string): void {
  console.log(title);
  for (const [name, sql] of Object.entries(DASHBOARD_SQL)) {
    const params = sql.includes('@start') ? { start: today.start, end: today.end } : sql.includes('?') ? [1] : [];
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as { detail: string }[]).map((r) => r.detail).join(' | ');
    console.log(`  ${name}: ${plan}`);
  }
}
printPlans('query plans:');

async function timeDashboard(runs: number): Promise<{ times: number[]; scansToday: number }> {
  const times: number[] = [];
  let scansToday = 0;
  for (let i = 0; i < runs; i++) {
    t.station.dashboard.changed(); // a change: the next call computes afresh
    const t0 = performance.now();
    const d = await admin.ok('dashboard/today', {});
    times.push(performance.now() - t0);
    scansToday = d.scans.total;
  }
  return { times, scansToday };
}

await timeDashboard(2); // warm the page cache as a running station has it
const withIndexes = await timeDashboard(RUNS);
const computations = t.station.dashboard.computations;
for (const index of ['scans_at', 'bills_created', 'bills_finalized', 'jobs_kind_created']) db.exec(`DROP INDEX ${index}`);
printPlans('baseline query plans (without migration 0008):');
await timeDashboard(1); // the same warm-up for the baseline
const baseline = await timeDashboard(BASELINE_RUNS);
await t.close();

const result = {
  scans: counts.scans,
  bags: counts.bags,
  scans_today: withIndexes.scansToday,
  dashboard_ms: ms(pct(withIndexes.times, 50)),
  dashboard_p95_ms: ms(pct(withIndexes.times, 95)),
  baseline_ms: ms(pct(baseline.times, 50)),
  ratio: +(pct(withIndexes.times, 50) / pct(baseline.times, 50)).toFixed(4),
  computations,
  seed_s: +seedS.toFixed(1),
};
if (baseline.scansToday !== withIndexes.scansToday) throw new Error('the baseline computed other figures: not comparable');
console.log(
  `dashboard/today, computed afresh: p50 ${result.dashboard_ms} ms  p95 ${result.dashboard_p95_ms} ms  (${RUNS} calls, ${result.scans_today.toLocaleString()} scans today)`,
);
console.log(`baseline, without migration 0008's indexes: p50 ${result.baseline_ms} ms  (${BASELINE_RUNS} calls)`);
fs.mkdirSync('bench/results', { recursive: true });
fs.appendFileSync('bench/results/dashboard.jsonl', JSON.stringify({ at: new Date().toISOString(), ...result }) + '\n');
console.log(`scans=${result.scans} dashboard_ms=${result.dashboard_ms} baseline_ms=${result.baseline_ms} ratio=${result.ratio}`);
