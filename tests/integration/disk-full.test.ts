import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { JobView } from '../../src/shared/contract/jobs';
import { runExportTask } from '../../src/main/exports/write';
import { IMPORT_BATCH_ROWS } from '../../src/main/imports/service';
import { createLogger } from '../../src/main/platform/logger';
import { onRelease, releaseAll } from '../support/cleanup';
import { bagRows, csv, uploadFile } from '../support/imports';
import { tempDir, withAdmin, type TestWindow } from '../support/station';

afterEach(() => {
  vi.restoreAllMocks();
  return releaseAll();
});

const SCAN_REFUSED = "The station's disk is full: this scan was NOT saved. Tell IT; scanning resumes when space is freed.";
const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });

type Station = Awaited<ReturnType<typeof withAdmin>>;
const count = (t: Station, sql: string, ...args: unknown[]) => (t.station.database.sqlite.prepare(sql).get(...args) as { n: number }).n;
const integrity = (t: Station) => t.station.database.sqlite.pragma('integrity_check', { simple: true });
const scan = (w: TestWindow, code: string) => w.call('bags/scan', { code, source: 'manual' });

/** SQLite's own "disk full": the database may not grow past the pages it has now. */
function capDatabase(t: Station): void {
  const pages = t.station.database.sqlite.pragma('page_count', { simple: true }) as number;
  t.station.database.sqlite.pragma(`max_page_count = ${pages}`);
}
const uncapDatabase = (t: Station) => t.station.database.sqlite.pragma('max_page_count = 1073741823');

/** Scans new ids until one is refused (the database had to grow for it); returns the accepted and the refused. */
async function scanUntilRefused(w: TestWindow, id: (i: number) => string) {
  const accepted: string[] = [];
  for (let i = 0; i < 2000; i++) {
    const r = await scan(w, id(i));
    if (!r.ok) return { accepted, refused: { code: id(i), error: r.error } };
    accepted.push(id(i));
  }
  throw new Error('the database never ran out of pages');
}

describe('a full database (SQLITE_FULL, as a full disk gives it)', () => {
  it('refuses the scan in words, loses no earlier scan, keeps the window’s parent, and the next scan after space returns works', async () => {
    const t = await withAdmin({ filesSweepEveryMs: 0 });
    const dock = await t.signedIn('dispatcher', 'dock1');
    expect((await scan(dock, 'SB00001')).ok).toBe(true);
    for (const kid of ['KID-1', 'KID-2', 'KID-3']) expect(await scan(dock, kid)).toMatchObject({ ok: true, value: { result: 'linked' } });

    capDatabase(t);
    const parents = await scanUntilRefused(dock, (i) => `SB${String(10_000 + i)}`);
    expect(parents.refused.error).toEqual({ code: 'disk_full', message: SCAN_REFUSED });
    const lastParent = parents.accepted.at(-1) ?? 'SB00001';
    const children = await scanUntilRefused(dock, (i) => `FULL-${i}`);
    expect(children.refused.error).toEqual({ code: 'disk_full', message: SCAN_REFUSED });
    // Nothing of a refused scan was kept: no bag, no scan row, no audit or outbox row.
    for (const code of [parents.refused.code, children.refused.code]) {
      expect(count(t, 'SELECT count(*) n FROM bags WHERE code = ?', code)).toBe(0);
      expect(count(t, 'SELECT count(*) n FROM scans WHERE code = ?', code)).toBe(0);
      expect(count(t, "SELECT count(*) n FROM outbox WHERE payload LIKE '%' || ? || '%'", code)).toBe(0);
    }
    // Reading still works while the disk is full: the screen can show where it is.
    expect(await dock.ok('bags/current', {})).toMatchObject({ parent: { code: lastParent } });

    uncapDatabase(t);
    // The refused child, scanned again at once (a failure opens no debounce window), goes onto the
    // parent the window had before the refused parent scan — not onto one that was never saved.
    expect(await scan(dock, children.refused.code)).toMatchObject({ ok: true, value: { result: 'linked', parent: { code: lastParent } } });
    expect(integrity(t)).toBe('ok');
    expect(count(t, "SELECT count(*) n FROM scans WHERE result = 'linked'")).toBe(3 + children.accepted.length + 1);
    expect(count(t, 'SELECT count(*) n FROM bag_links')).toBe(3 + children.accepted.length + 1);
  });

  it('a parent scan that fails at its last write (the scan row) leaves the window on the parent it had', async () => {
    const t = await withAdmin({ filesSweepEveryMs: 0 });
    const dock = await t.signedIn('dispatcher', 'dock1');
    expect((await scan(dock, 'SB00001')).ok).toBe(true);
    // The bag, audit and outbox rows of SB00002 are written, then its scan row is refused.
    t.station.database.sqlite.exec(
      "CREATE TEMP TRIGGER refuse_scan BEFORE INSERT ON main.scans WHEN NEW.code = 'SB00002' BEGIN SELECT RAISE(ABORT, 'refused'); END",
    );
    expect((await scan(dock, 'SB00002')).ok).toBe(false);
    t.station.database.sqlite.exec('DROP TRIGGER refuse_scan');
    expect(count(t, "SELECT count(*) n FROM bags WHERE code = 'SB00002'")).toBe(0);
    expect(await scan(dock, 'KID-1')).toMatchObject({ ok: true, value: { result: 'linked', message: 'Linked KID-1 → SB00001 (1)' } });
  });

  it('an import that meets a full database fails with the reason; whole batches before it stay; nothing stops the station', async () => {
    const t = await withAdmin({ filesSweepEveryMs: 0 });
    const uploadId = await uploadFile(t.admin, 'big.csv', csv(bagRows(1000, 30)));
    const preview = await t.admin.ok('imports/preview', { uploadId });
    capDatabase(t);
    // The job row itself may need a page: then the start is refused in the same words.
    const started = await t.admin.call('imports/start', { uploadId, mapping: preview.mapping! });
    if (!started.ok) {
      expect(started.error).toMatchObject({ code: 'disk_full', message: expect.stringContaining("The station's disk is full") });
      return;
    }
    const ended = (
      await t.admin.event(
        (e) => e.event === 'job/progress' && (e.data as JobView).id === started.value.id && (e.data as JobView).status !== 'running',
      )
    ).data as JobView;
    expect(ended.status).toBe('failed');
    expect(ended.error).toContain("The station's disk is full");
    uncapDatabase(t);
    expect(integrity(t)).toBe('ok');
    expect(count(t, 'SELECT count(*) n FROM bag_links') % IMPORT_BATCH_ROWS).toBe(0);
    expect(fs.readdirSync(path.join(t.dataDir, 'uploads'))).toEqual([]);
  });
});

describe('a full disk under files (ENOSPC)', () => {
  it('an upload is refused with a sentence and the part already received is deleted', async () => {
    const t = await withAdmin({ filesSweepEveryMs: 0 });
    const first = await t.admin.ok('imports/upload', { name: 'truck.csv', chunk: Buffer.from('Parent,Child\n').toString('base64'), last: false });
    vi.spyOn(fs.promises, 'appendFile').mockRejectedValueOnce(enospc());
    const second = await t.admin.call('imports/upload', {
      uploadId: first.uploadId,
      name: 'truck.csv',
      chunk: Buffer.from('SB00001,C1\n').toString('base64'),
      last: true,
    });
    expect(second).toEqual({
      ok: false,
      error: {
        code: 'disk_full',
        message:
          "The station's disk is full: truck.csv was not uploaded, and the part received is deleted. Tell IT; choose the file again when space is freed.",
      },
    });
    expect(fs.readdirSync(path.join(t.dataDir, 'uploads'))).toEqual([]);
  });

  for (const format of ['csv', 'xlsx'] as const) {
    it(`an ${format.toUpperCase()} export that meets a full disk stops with a sentence, not a crash or a hang`, async () => {
      const t = await withAdmin({ filesSweepEveryMs: 0 });
      const file = path.join(t.dataDir, 'exports', `1.${format}`);
      // The file is begun, then the disk refuses the next write, as a filling disk does. The
      // export's writer runs here, in this thread, so the injected error reaches it (in the
      // station it runs in the worker thread, whose answer carries the same DomainError).
      vi.spyOn(fs, 'createWriteStream').mockImplementationOnce(((target: string) => {
        fs.writeFileSync(target, 'partial');
        return new Writable({ write: (_chunk, _enc, done) => done(enospc()) });
      }) as unknown as typeof fs.createWriteStream);
      const task = {
        kind: 'export' as const,
        subject: `audit.${format}`,
        dbPath: path.join(t.dataDir, 'dockside.sqlite'),
        what: 'audit' as const,
        format,
        file,
        kgPerChild: 1,
      };
      await expect(runExportTask(task, { progress: () => undefined })).rejects.toMatchObject({
        code: 'disk_full',
        message:
          "The station's disk is full: the export was not written, and the part written is deleted. Tell IT; export again when space is freed.",
      });
    });
  }
});

/**
 * The real thing where this machine allows it (root, tmpfs): a small filesystem filled to the last
 * block. Where it does not (no privileges), the tests above stand in: SQLite answers a capped
 * database exactly as a full disk, and fs errors are injected.
 */
function mountSmallDisk(megabytes: number): string | null {
  const dir = tempDir('dockside-small-disk-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${megabytes}m`, 'dockside-test', dir], { stdio: 'ignore' });
  } catch {
    return null;
  }
  onRelease(() => execFileSync('umount', [dir], { stdio: 'ignore' }));
  return dir;
}

/** Writes until the filesystem refuses another byte. */
function fillDisk(dir: string): string {
  const filler = path.join(dir, 'filler');
  const fd = fs.openSync(filler, 'w');
  try {
    for (const size of [1024 * 1024, 4096, 1]) {
      const block = Buffer.alloc(size);
      try {
        for (;;) fs.writeSync(fd, block);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return filler;
}

describe('a really full disk (tmpfs; skipped without the privilege to mount one)', () => {
  it('scans, uploads and the log are refused or dropped in words; freeing space brings all back, nothing lost or corrupt', async (ctx) => {
    const disk = mountSmallDisk(32);
    if (!disk) return ctx.skip();
    const dataDir = path.join(disk, 'station');
    const log = await createLogger({ dir: path.join(dataDir, 'logs') });
    const t = await withAdmin({ dataDir, logger: log.logger, filesSweepEveryMs: 0 });
    onRelease(() => log.close());
    const dock = await t.signedIn('dispatcher', 'dock1');
    expect((await scan(dock, 'SB00001')).ok).toBe(true);
    expect((await scan(dock, 'KID-1')).ok).toBe(true);
    const half = await t.admin.ok('imports/upload', { name: 'truck.csv', chunk: Buffer.from('Parent,Child\n').toString('base64'), last: false });

    // An empty WAL: the next commit must take new blocks from the disk, which has none.
    t.station.database.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    const filler = fillDisk(disk);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);

    expect(await scan(dock, 'KID-2')).toEqual({ ok: false, error: { code: 'disk_full', message: SCAN_REFUSED } });
    expect(await scan(dock, 'KID-2')).toEqual({ ok: false, error: { code: 'disk_full', message: SCAN_REFUSED } });
    const upload = await t.admin.call('imports/upload', {
      uploadId: half.uploadId,
      name: 'truck.csv',
      chunk: Buffer.alloc(64 * 1024, 'SB00001,C1\n').toString('base64'),
      last: true,
    });
    expect(upload).toMatchObject({ ok: false, error: { code: 'disk_full' } });
    expect(fs.readdirSync(path.join(dataDir, 'uploads'))).toEqual([]);
    log.logger.error({ big: 'x'.repeat(64 * 1024) }, 'a log line the full disk refuses');
    await log.flush();

    fs.rmSync(filler);
    stderr.mockRestore();
    expect(await scan(dock, 'KID-2')).toMatchObject({ ok: true, value: { result: 'linked', message: 'Linked KID-2 → SB00001 (2)' } });
    expect(integrity(t)).toBe('ok');
    expect(count(t, "SELECT count(*) n FROM scans WHERE result IN ('parent', 'linked')")).toBe(3);
    log.logger.warn('space is back');
    await log.flush();
    const logText = fs
      .readdirSync(path.join(dataDir, 'logs'))
      .map((f) => fs.readFileSync(path.join(dataDir, 'logs', f), 'utf8'))
      .join('');
    expect(logText).toContain('space is back');
    expect(logText).toContain('disk full');
  });
});
