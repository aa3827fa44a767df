/**
 * One import measurement, in its own process so peak RSS is this import's alone.
 * Usage: node --import tsx bench/import-run.ts ROWS  → prints one JSON line.
 */
import fs from 'node:fs';
import path from 'node:path';
import { silentLogger } from '../src/main/platform/logger';
import { openDatabase } from '../src/main/db/open';
import { MIGRATIONS_DIR, tempDir, withAdmin } from '../tests/support/station';
import { waitForJob } from '../tests/support/imports';

const rows = Number(process.argv[2]);
const CHILDREN = 30;
const dir = tempDir('dockside-bench-import-');
const file = path.join(dir, `bags-${rows}.csv`);

// The file, written as a stream: parent and child columns, 30 children a parent.
const out = fs.createWriteStream(file);
out.write('Parent Bag,Child Bag\r\n');
let buf = '';
for (let i = 0; i < rows; i++) {
  buf += `SB${String(Math.floor(i / CHILDREN)).padStart(5, '0')},C${String(i).padStart(9, '0')}\r\n`;
  if (buf.length > 1 << 20) {
    if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
    buf = '';
  }
}
out.end(buf);
await new Promise<void>((r) => out.once('close', () => r()));
const fileMb = fs.statSync(file).size / 1e6;

// Baseline: raw prepared inserts of the same rows into a fresh database with the same schema.
const raw = openDatabase({ path: path.join(dir, 'raw.sqlite'), migrationsDir: MIGRATIONS_DIR, logger: silentLogger });
const insBag = raw.sqlite.prepare("INSERT INTO bags (code, kind, created_at, station_id, origin) VALUES (?, ?, 1, 's', 'import')");
const insLink = raw.sqlite.prepare('INSERT INTO bag_links (child_id, parent_id, linked_at) VALUES (?, ?, 1)');
const rawBatch = raw.sqlite.transaction((from: number, to: number) => {
  let parentId = 0;
  for (let i = from; i < to; i++) {
    if (i % CHILDREN === 0 || i === from) {
      const code = `SB${String(Math.floor(i / CHILDREN)).padStart(5, '0')}`;
      parentId = i % CHILDREN === 0 ? Number(insBag.run(code, 'parent').lastInsertRowid) : (raw.sqlite.prepare('SELECT id FROM bags WHERE code = ?').get(code) as { id: number }).id;
    }
    const childId = Number(insBag.run(`C${String(i).padStart(9, '0')}`, 'child').lastInsertRowid);
    insLink.run(childId, parentId);
  }
});
let t0 = performance.now();
for (let i = 0; i < rows; i += 5000) rawBatch(i, Math.min(rows, i + 5000));
const rawS = (performance.now() - t0) / 1000;
raw.close();

// The import, through the router as the renderer drives it: upload in chunks, preview, commit job.
const t = await withAdmin({ dataDir: path.join(dir, 'station') });
let uploadId: string | undefined;
const fd = fs.openSync(file, 'r');
const size = fs.statSync(file).size;
const chunk = Buffer.alloc(1024 * 1024);
for (let at = 0; at < size; at += chunk.length) {
  const n = fs.readSync(fd, chunk, 0, chunk.length, at);
  const r = await t.admin.ok('imports/upload', { ...(uploadId ? { uploadId } : {}), name: path.basename(file), chunk: chunk.subarray(0, n).toString('base64'), last: at + n >= size });
  uploadId = r.uploadId;
}
fs.closeSync(fd);
t0 = performance.now();
const preview = await t.admin.ok('imports/preview', { uploadId: uploadId! });
const previewS = (performance.now() - t0) / 1000;
t0 = performance.now();
const job = await t.admin.ok('imports/start', { uploadId: uploadId!, mapping: preview.mapping });
const done = await waitForJob(t.admin, job.id, 600_000);
const importS = (performance.now() - t0) / 1000;
const result = done.result as { linked: number };
if (done.status !== 'succeeded' || result.linked !== rows) throw new Error(`import: ${done.status} ${JSON.stringify(done.result)} ${done.error}`);
await t.close();
fs.rmSync(dir, { recursive: true, force: true });

console.log(
  JSON.stringify({
    rows,
    file_mb: +fileMb.toFixed(1),
    preview_s: +previewS.toFixed(2),
    import_s: +importS.toFixed(2),
    rows_per_s: Math.round(rows / importS),
    raw_s: +rawS.toFixed(2),
    raw_rows_per_s: Math.round(rows / rawS),
    ratio: +(rawS / importS).toFixed(2),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);
