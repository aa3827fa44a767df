/**
 * Bulk import at scale: for 80,000 and 1,000,000 rows, generates a CSV, imports it into a fresh
 * station (upload, preview, commit job, through the router) and, in the same process, inserts the
 * same rows with raw better-sqlite3 prepared statements as the baseline.
 *
 *   npm run bench:import  → last line (the 1M file): rows=… rows_per_s=… raw_rows_per_s=… ratio=… peak_rss_mb=…
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

const sizes = (process.env.BENCH_IMPORT_ROWS ?? '80000,1000000').split(',').map(Number);
const results: Record<string, number>[] = [];
for (const rows of sizes) {
  const line = execFileSync(process.execPath, ['--import', 'tsx', 'bench/import-run.ts', String(rows)], { encoding: 'utf8', maxBuffer: 1 << 20 }).trim().split('\n').at(-1)!;
  const r = JSON.parse(line) as Record<string, number>;
  results.push(r);
  console.log(
    `${rows.toLocaleString()} rows (${r.file_mb} MB): preview ${r.preview_s} s; import ${r.import_s} s = ${r.rows_per_s.toLocaleString()} rows/s; raw inserts ${r.raw_rows_per_s.toLocaleString()} rows/s; ratio ${r.ratio}; peak RSS ${r.peak_rss_mb} MB`,
  );
}
fs.mkdirSync('bench/results', { recursive: true });
for (const r of results) fs.appendFileSync('bench/results/import.jsonl', JSON.stringify({ at: new Date().toISOString(), ...r }) + '\n');
const last = results.at(-1)!;
console.log(`rows=${last.rows} rows_per_s=${last.rows_per_s} raw_rows_per_s=${last.raw_rows_per_s} ratio=${last.ratio} peak_rss_mb=${last.peak_rss_mb}`);
