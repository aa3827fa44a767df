/**
 * Bulk import at scale: for 80,000 and 1,000,000 rows, writes a CSV, then in two processes of
 * their own (bench/import-run.ts), one after the other:
 *   - the baseline: raw better-sqlite3 prepared inserts of the same rows, into a database opened
 *     as the station opens it (same pragmas, the WAL checkpointer worker);
 *   - the import into a fresh station through the router, as the renderer drives it: upload in
 *     1 MiB chunks, preview (reads the whole file, writes nothing), commit job.
 * `rows_per_s` and `ratio` (raw time / import time) count the commit job alone, as the progress bar
 * does; `end_to_end_rows_per_s` counts what a person waits for: upload, preview and commit.
 * Peak RSS is each process's own.
 *
 *   npm run bench:import  → last line (the 1M file): rows=… rows_per_s=… raw_rows_per_s=… ratio=… peak_rss_mb=… end_to_end_rows_per_s=… raw_peak_rss_mb=…
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../tests/support/station';
import { writeBagCsv } from './bag-csv';

const sizes = (process.env.BENCH_IMPORT_ROWS ?? '80000,1000000').split(',').map(Number);

function run(side: 'raw' | 'station', file: string, rows: number): Record<string, number> {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/import-run.ts', side, file, String(rows)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number>;
}

const results: Record<string, number>[] = [];
for (const rows of sizes) {
  const dir = tempDir('dockside-bench-import-');
  const file = path.join(dir, `bags-${rows}.csv`);
  await writeBagCsv(file, rows);
  const fileMb = fs.statSync(file).size / 1e6;
  const raw = run('raw', file, rows);
  const imp = run('station', file, rows);
  fs.rmSync(dir, { recursive: true, force: true });
  const endToEndS = imp.upload_s + imp.preview_s + imp.import_s;
  const r = {
    rows,
    file_mb: +fileMb.toFixed(1),
    upload_s: imp.upload_s,
    preview_s: imp.preview_s,
    import_s: imp.import_s,
    rows_per_s: Math.round(rows / imp.import_s),
    end_to_end_s: +endToEndS.toFixed(2),
    end_to_end_rows_per_s: Math.round(rows / endToEndS),
    raw_s: raw.raw_s,
    raw_rows_per_s: Math.round(rows / raw.raw_s),
    ratio: +(raw.raw_s / imp.import_s).toFixed(2),
    peak_rss_mb: imp.peak_rss_mb,
    raw_peak_rss_mb: raw.raw_peak_rss_mb,
  };
  results.push(r);
  console.log(
    `${rows.toLocaleString()} rows (${r.file_mb} MB): upload ${r.upload_s} s, preview ${r.preview_s} s, import ${r.import_s} s = ${r.rows_per_s.toLocaleString()} rows/s ` +
      `(end to end ${r.end_to_end_rows_per_s.toLocaleString()} rows/s); raw inserts ${r.raw_rows_per_s.toLocaleString()} rows/s; ratio ${r.ratio}; ` +
      `peak RSS ${r.peak_rss_mb} MB (raw ${r.raw_peak_rss_mb} MB)`,
  );
}
fs.mkdirSync('bench/results', { recursive: true });
for (const r of results) fs.appendFileSync('bench/results/import.jsonl', JSON.stringify({ at: new Date().toISOString(), ...r }) + '\n');
const last = results.at(-1)!;
console.log(
  `rows=${last.rows} rows_per_s=${last.rows_per_s} raw_rows_per_s=${last.raw_rows_per_s} ratio=${last.ratio} peak_rss_mb=${last.peak_rss_mb} ` +
    `end_to_end_rows_per_s=${last.end_to_end_rows_per_s} raw_peak_rss_mb=${last.raw_peak_rss_mb}`,
);
