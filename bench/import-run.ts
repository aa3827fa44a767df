/**
 * One side of one import measurement, in its own process so its peak RSS is its own.
 *
 *   node --import tsx bench/import-run.ts raw FILE ROWS      → the baseline: raw prepared inserts
 *   node --import tsx bench/import-run.ts station FILE ROWS  → the import through the router
 *
 * Both open their database as the station does: openDatabase (WAL, synchronous=FULL, the same
 * pragmas and migrations) and the WAL checkpointer worker with the same backstop, so the
 * baseline pays what the import pays for durability. Prints one JSON line.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BACKSTOP_AUTOCHECKPOINT_PAGES, startCheckpointer } from '../src/main/db/checkpointer';
import { openDatabase } from '../src/main/db/open';
import { silentLogger } from '../src/main/platform/logger';
import { waitForJob } from '../tests/support/imports';
import { MIGRATIONS_DIR, tempDir, withAdmin } from '../tests/support/station';

const [side, file, rowsArg] = process.argv.slice(2);
const rows = Number(rowsArg);
const CHILDREN = 30;
const dir = tempDir(`dockside-bench-import-${side}-`);
const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);

/** The same rows as the file (bench/import.ts writes it): 30 children a parent. */
async function raw(): Promise<Record<string, number>> {
  const dbPath = path.join(dir, 'dockside.sqlite');
  const database = openDatabase({ path: dbPath, migrationsDir: MIGRATIONS_DIR, logger: silentLogger });
  const checkpointer = startCheckpointer(dbPath, silentLogger);
  database.sqlite.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);
  const sqlite = database.sqlite;
  const insBag = sqlite.prepare("INSERT INTO bags (code, kind, created_at, station_id, origin) VALUES (?, ?, 1, 's', 'import')");
  const insLink = sqlite.prepare('INSERT INTO bag_links (child_id, parent_id, linked_at) VALUES (?, ?, 1)');
  const parentByCode = sqlite.prepare('SELECT id FROM bags WHERE code = ?');
  const batch = sqlite.transaction((from: number, to: number) => {
    let parentId = 0;
    for (let i = from; i < to; i++) {
      if (i % CHILDREN === 0 || i === from) {
        const code = `SB${String(Math.floor(i / CHILDREN)).padStart(5, '0')}`;
        parentId = i % CHILDREN === 0 ? Number(insBag.run(code, 'parent').lastInsertRowid) : (parentByCode.get(code) as { id: number }).id;
      }
      const childId = Number(insBag.run(`C${String(i).padStart(9, '0')}`, 'child').lastInsertRowid);
      insLink.run(childId, parentId);
    }
  });
  const t0 = performance.now();
  for (let i = 0; i < rows; i += 5000) batch(i, Math.min(rows, i + 5000));
  const rawS = (performance.now() - t0) / 1000;
  await checkpointer.stop();
  database.close();
  return { raw_s: +rawS.toFixed(2), raw_peak_rss_mb: peakRssMb() };
}

/** Through the router as the renderer drives it: upload in 1 MiB chunks, preview, commit job. */
async function station(): Promise<Record<string, number>> {
  const t = await withAdmin({ dataDir: path.join(dir, 'station') });
  let uploadId: string | undefined;
  const fd = fs.openSync(file, 'r');
  const size = fs.statSync(file).size;
  const chunk = Buffer.alloc(1024 * 1024);
  let t0 = performance.now();
  for (let at = 0; at < size; at += chunk.length) {
    const n = fs.readSync(fd, chunk, 0, chunk.length, at);
    const r = await t.admin.ok('imports/upload', {
      ...(uploadId ? { uploadId } : {}),
      name: path.basename(file),
      chunk: chunk.subarray(0, n).toString('base64'),
      last: at + n >= size,
    });
    uploadId = r.uploadId;
  }
  fs.closeSync(fd);
  const uploadS = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const preview = await t.admin.ok('imports/preview', { uploadId: uploadId! });
  const previewS = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const job = await t.admin.ok('imports/start', { uploadId: uploadId!, mapping: preview.mapping! });
  const done = await waitForJob(t.admin, job.id, 600_000);
  const importS = (performance.now() - t0) / 1000;
  const result = done.result as { linked: number };
  if (done.status !== 'succeeded' || result.linked !== rows) throw new Error(`import: ${done.status} ${JSON.stringify(done.result)} ${done.error}`);
  await t.close();
  return { upload_s: +uploadS.toFixed(2), preview_s: +previewS.toFixed(2), import_s: +importS.toFixed(2), peak_rss_mb: peakRssMb() };
}

if (side !== 'raw' && side !== 'station') throw new Error(`usage: import-run.ts raw|station FILE ROWS (got ${side})`);
const result = side === 'raw' ? await raw() : await station();
fs.rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify(result));
