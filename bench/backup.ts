/**
 * The daily backup (VACUUM INTO in a worker thread) on a station with months of history, and
 * what it costs the dock door meanwhile. Seeds an on-disk station database with 2,000,000 scans
 * over 120 days, a bag for every parent and linked scan and an audit row per scan (as links
 * write), restarts the station on that file, then:
 *   1. times scans (bags/scan through the router) with nothing else running: the baseline;
 *   2. starts *Back up now* and keeps scanning until the backup is written, timing each scan;
 *   3. reports the backup's duration and size, and both scan latency distributions.
 * The backup runs on its own connection in a worker, so scans should not wait for it.
 *
 *   npm run bench:backup    → last line: scans=… db_mb=… backup_s=… scan_p95_ms=… scan_p95_during_backup_ms=… scan_max_during_backup_ms=…
 *   BENCH_SCANS=200000 npm run bench:backup   (smaller and quicker)
 */
import fs from 'node:fs';
import path from 'node:path';
import { makeStation, signInAs, withAdmin } from '../tests/support/station';

const SCANS = Number(process.env.BENCH_SCANS ?? 2_000_000);
const DAYS = 120;
const H = 3_600_000;
const DAY = 24 * H;
const BASELINE_SCANS = 400;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const ms = (n: number) => +n.toFixed(2);

const config = { syncIntervalMs: 0, scannerPollMs: 0, outboxPruneEveryMs: 0, backupCheckMs: 0 };
const first = await withAdmin(config);
const dataDir = first.dataDir;
await first.admin.ok('settings/update', { idleLockMinutes: 240 });
await first.admin.ok('users/create', { username: 'dock1', displayName: 'Dock 1', role: 'dispatcher', password: 'password-123' });
const sqlite = first.station.database.sqlite;
const who = (sqlite.prepare("SELECT id FROM users WHERE username = 'dock1'").get() as { id: number }).id;
const here = first.station.settings.stationId();
const now = first.clock.now();

const seedStart = performance.now();
sqlite.pragma('synchronous = OFF'); // seeding only
sqlite.pragma('cache_size = -1000000');
const insScan = sqlite.prepare(
  "INSERT INTO scans (at, user_id, station_id, source, device, raw, code, result, message) VALUES (?, ?, ?, 'wedge', NULL, ?, ?, ?, 'seeded')",
);
const insBag = sqlite.prepare("INSERT INTO bags (code, kind, created_at, created_by, station_id, origin) VALUES (?, ?, ?, ?, ?, 'scan')");
const insAudit = sqlite.prepare(
  "INSERT INTO audit_log (at, user_id, username, station_id, action, entity, entity_id, after) VALUES (?, ?, 'dock1', ?, 'bag.linked', 'bag', ?, ?)",
);
const perDay = Math.ceil(SCANS / DAYS);
let scans = 0;
for (let d = DAYS - 1; d >= 0; d--) {
  const dayStart = now - (d + 1) * DAY;
  sqlite.transaction(() => {
    for (let j = 0; j < perDay && scans < SCANS; j++, scans++) {
      const at = dayStart + 6 * H + Math.floor((j * 12 * H) / perDay);
      const parent = j % 40 === 0;
      const code = `${parent ? 'SB' : 'C'}${scans}`;
      insScan.run(at, who, here, code, code, parent ? 'parent' : 'linked');
      insBag.run(code, parent ? 'parent' : 'child', at, who, here);
      insAudit.run(at, who, here, code, JSON.stringify({ code, parent: parent ? null : `SB${scans - (j % 40)}` }));
    }
  })();
}
const seedS = (performance.now() - seedStart) / 1000;
await first.close();

// The station opens the seeded file as it does each morning.
const t = await makeStation({ ...config, dataDir, clock: first.clock });
const admin = t.window('admin');
await signInAs(t, admin, 'boss', 'correct horse');
const dock = t.window('dock');
await signInAs(t, dock, 'dock1', 'password-123');
const dbBytes = fs.statSync(path.join(dataDir, 'dockside.sqlite')).size;
console.log(`seeded ${scans.toLocaleString()} scans over ${DAYS} days in ${seedS.toFixed(1)} s: ${(dbBytes / 2 ** 20).toFixed(0)} MB`);

let n = 0;
async function scanOnce(times: number[]): Promise<void> {
  const code = n % 40 === 0 ? `SB9${n}` : `K9${n}`;
  n++;
  const t0 = performance.now();
  await dock.ok('bags/scan', { code, source: 'wedge' });
  times.push(performance.now() - t0);
  // A scan's call settles in microtasks: yield as a real door's next IPC message would, so the worker's answer is heard.
  await new Promise((resolve) => setImmediate(resolve));
}

const baseline: number[] = [];
for (let i = 0; i < BASELINE_SCANS; i++) await scanOnce(baseline);

const during: number[] = [];
const started = performance.now();
let done = false;
const backup = admin.ok('backups/run', {}).finally(() => (done = true));
while (!done) await scanOnce(during);
const file = await backup;
const backupS = (performance.now() - started) / 1000;
await t.close();

const result = {
  scans,
  db_mb: +(dbBytes / 2 ** 20).toFixed(1),
  backup_mb: +(file.bytes / 2 ** 20).toFixed(1),
  backup_s: +backupS.toFixed(2),
  scan_p50_ms: ms(pct(baseline, 50)),
  scan_p95_ms: ms(pct(baseline, 95)),
  scans_during_backup: during.length,
  scan_p50_during_backup_ms: ms(pct(during, 50)),
  scan_p95_during_backup_ms: ms(pct(during, 95)),
  scan_max_during_backup_ms: ms(Math.max(...during)),
  seed_s: +seedS.toFixed(1),
};
console.log(`backup: ${result.backup_mb} MB in ${result.backup_s} s (VACUUM INTO in a worker thread)`);
console.log(`scans before: p50 ${result.scan_p50_ms} ms p95 ${result.scan_p95_ms} ms (${BASELINE_SCANS})`);
console.log(
  `scans during the backup: p50 ${result.scan_p50_during_backup_ms} ms p95 ${result.scan_p95_during_backup_ms} ms max ${result.scan_max_during_backup_ms} ms (${during.length})`,
);
fs.mkdirSync('bench/results', { recursive: true });
fs.appendFileSync('bench/results/backup.jsonl', JSON.stringify({ at: new Date().toISOString(), ...result }) + '\n');
console.log(
  `scans=${result.scans} db_mb=${result.db_mb} backup_s=${result.backup_s} scan_p95_ms=${result.scan_p95_ms} scan_p95_during_backup_ms=${result.scan_p95_during_backup_ms} scan_max_during_backup_ms=${result.scan_max_during_backup_ms}`,
);
