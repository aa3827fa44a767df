/**
 * Does one person's import make a dock door wait? A station on disk with months of history
 * (BENCH_HISTORY bags, parents of 30 children, linked by scans) takes scans from a dispatcher
 * through the real router, as the scan screen makes them (`bags/scan`, then `bags/current`), one
 * every 20 ms, in three phases:
 *   - idle: 200 scans with nothing else running (the baseline of this run);
 *   - preview: scans while a biller's 1,000,000-row CSV (uploaded in 1 MiB chunks first) is
 *     previewed — the preview reads and checks the whole file;
 *   - import: scans while that file is imported as a job;
 *   - export: scans while every bag (history and import) is exported to XLSX as a job.
 * Each scan is timed from when it was due, not from when the loop got round to sending it, so a
 * blocked event loop counts in full. Rows per second count the import job alone.
 *
 *   npm run bench:scan-under-load → last line:
 *     idle_p95_ms=… preview_p95_ms=… import_p95_ms=… import_rows_per_s=… (and p50s, maxima, counts, peak RSS)
 *   BENCH_ROWS=200000 BENCH_HISTORY=100000 for a quicker run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { uploadFile, waitForJob } from '../tests/support/imports';
import { withAdmin, type TestWindow } from '../tests/support/station';
import { writeBagCsv } from './bag-csv';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const HISTORY = Number(process.env.BENCH_HISTORY ?? 500_000);
const CHILDREN = 30;
const IDLE_SCANS = 200;
const EVERY_MS = 20;

const pct = (xs: number[], p: number) =>
  xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] : NaN;
const ms = (n: number) => +n.toFixed(2);
const sleep = (n: number) => new Promise((r) => setTimeout(r, n));

const t = await withAdmin({ syncIntervalMs: 0, scannerPollMs: 0, outboxPruneEveryMs: 0 });
await t.admin.ok('settings/update', { idleLockMinutes: 240 });
const dock = await t.signedIn('dispatcher', 'dock1');

// --- history: what a station holds after months of scanning ------------------------------------
const sqlite = t.station.database.sqlite;
const seed = sqlite.transaction((from: number, to: number, userId: number, at: number) => {
  const bag = sqlite.prepare("INSERT INTO bags (code, kind, created_at, created_by, station_id, origin) VALUES (?, ?, ?, ?, 'bench', 'scan')");
  const link = sqlite.prepare('INSERT INTO bag_links (child_id, parent_id, linked_at, linked_by) VALUES (?, ?, ?, ?)');
  let parentId = 0;
  for (let i = from; i < to; i++) {
    if (i % (CHILDREN + 1) === 0) parentId = Number(bag.run(`HB${String(i).padStart(8, '0')}`, 'parent', at, userId).lastInsertRowid);
    else link.run(Number(bag.run(`HC${String(i).padStart(9, '0')}`, 'child', at, userId).lastInsertRowid), parentId, at, userId);
  }
});
const dockId = (sqlite.prepare('SELECT id FROM users WHERE username = ?').get('dock1') as { id: number }).id;
const SEED_CHUNK = (CHILDREN + 1) * 1600; // whole parents per transaction
for (let i = 0; i < HISTORY; i += SEED_CHUNK) seed(i, Math.min(HISTORY, i + SEED_CHUNK), dockId, t.clock.now() - 90 * 86_400_000);

// --- the file a biller imports ------------------------------------------------------------------
const file = path.join(t.dataDir, 'bench-import.csv');
await writeBagCsv(file, ROWS, CHILDREN);
const biller = await t.signedIn('biller', 'clerk1');
const uploadId = await uploadFile(biller, 'bench-import.csv', fs.readFileSync(file));

// --- scans ----------------------------------------------------------------------------------
let parentNo = 0;
let childNo = 0;
async function scanOnce(w: TestWindow, due: number): Promise<number> {
  if (childNo % CHILDREN === 0) {
    const p = await w.ok('bags/scan', { code: `SB9${String(parentNo++).padStart(4, '0')}`, source: 'wedge' });
    if (p.result !== 'parent') throw new Error(`parent scan: ${p.message}`);
  }
  const code = `DOCK-${childNo++}`;
  const r = await w.ok('bags/scan', { code, source: 'wedge' });
  if (r.result !== 'linked') throw new Error(`scan ${code}: ${r.result} ${r.message}`);
  await w.ok('bags/current', {});
  return performance.now() - due;
}

/** Scans every EVERY_MS until `until` settles (and at least `min` of them); each timed from when it was due. */
async function scanWhile(until: Promise<unknown> | null, min: number): Promise<number[]> {
  const times: number[] = [];
  let settled = until === null;
  void until?.finally(() => (settled = true));
  let due = performance.now();
  while (!settled || times.length < min) {
    times.push(await scanOnce(dock, due));
    due += EVERY_MS;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    else due = performance.now(); // fell behind: the next scan is due now
  }
  return times;
}

const idle = await scanWhile(null, IDLE_SCANS);

const previewStarted = performance.now();
const preview = biller.ok('imports/preview', { uploadId });
const duringPreview = await scanWhile(preview, 1);
const previewS = (performance.now() - previewStarted) / 1000;
const p = await preview;
if (p.totals.rows !== ROWS) throw new Error(`preview read ${p.totals.rows} rows, expected ${ROWS}`);

const importStarted = performance.now();
const job = await biller.ok('imports/start', { uploadId, mapping: p.mapping! });
const done = waitForJob(biller, job.id, 900_000);
const duringImport = await scanWhile(done, 1);
const finished = await done;
const importS = (performance.now() - importStarted) / 1000;
const result = finished.result as { linked: number } | null;
if (finished.status !== 'succeeded' || result?.linked !== ROWS) throw new Error(`import: ${finished.status} ${JSON.stringify(finished.result)}`);

const exportStarted = performance.now();
const exportJob = await biller.ok('exports/start', { what: 'bags', format: 'xlsx' });
const exported = waitForJob(biller, exportJob.id, 900_000);
const duringExport = await scanWhile(exported, 1);
const exportDone = await exported;
const exportS = (performance.now() - exportStarted) / 1000;
if (exportDone.status !== 'succeeded') throw new Error(`export: ${exportDone.status} ${exportDone.error}`);
const exportRows = (exportDone.result as { rows: number }).rows;
await t.close();

const phase = (name: string, xs: number[]) =>
  console.log(
    `${name.padEnd(8)} scans=${String(xs.length).padStart(4)} p50=${ms(pct(xs, 50))} ms p95=${ms(pct(xs, 95))} ms max=${ms(Math.max(...xs))} ms`,
  );
console.log(`history: ${HISTORY.toLocaleString('en-US')} bags; file: ${ROWS.toLocaleString('en-US')} rows CSV`);
phase('idle', idle);
phase('preview', duringPreview);
phase('import', duringImport);
phase('export', duringExport);
console.log(
  `preview took ${previewS.toFixed(1)} s; import job ${importS.toFixed(1)} s; XLSX export of ${exportRows.toLocaleString('en-US')} bags ${exportS.toFixed(1)} s`,
);
const figures = {
  idle_p95_ms: ms(pct(idle, 95)),
  preview_p95_ms: ms(pct(duringPreview, 95)),
  import_p95_ms: ms(pct(duringImport, 95)),
  import_rows_per_s: Math.round(ROWS / importS),
  idle_p50_ms: ms(pct(idle, 50)),
  preview_p50_ms: ms(pct(duringPreview, 50)),
  import_p50_ms: ms(pct(duringImport, 50)),
  preview_max_ms: ms(Math.max(...duringPreview)),
  import_max_ms: ms(Math.max(...duringImport)),
  export_p95_ms: ms(pct(duringExport, 95)),
  export_max_ms: ms(Math.max(...duringExport)),
  preview_scans: duringPreview.length,
  import_scans: duringImport.length,
  preview_s: +previewS.toFixed(1),
  peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
};
console.log(
  Object.entries(figures)
    .map(([k, v]) => `${k}=${v}`)
    .join(' '),
);
