import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSweeper } from '../../src/main/files/sweep';
import { UploadStore } from '../../src/main/imports/uploads';
import { silentLogger } from '../../src/main/platform/logger';
import { releaseAll } from '../support/cleanup';
import { bagRows, csv, importFile, uploadFile, waitForJob } from '../support/imports';
import { makeStation, ManualClock, signInAs, tempDir, withAdmin } from '../support/station';

afterEach(releaseAll);

const HOUR = 60 * 60_000;
const DAY = 24 * HOUR;
type Admin = Awaited<ReturnType<typeof withAdmin>>;

/** Time passes at the station; the admin, idle-locked or signed out at the shift's end meanwhile, is back at the window. */
async function later(t: Admin, ms: number): Promise<void> {
  t.clock.advance(ms);
  t.station.auth.lockIdleSessions();
  if (t.admin.session.userId === null) await signInAs(t, t.admin, 'boss', 'correct horse');
  if (t.admin.session.locked) await t.admin.ok('auth/unlock', { secret: 'correct horse' });
}

const files = (dataDir: string, folder: string) =>
  fs.existsSync(path.join(dataDir, folder)) ? fs.readdirSync(path.join(dataDir, folder)).sort() : [];

describe('an upload lives until its import ends', () => {
  it('a finished import deletes its upload', async () => {
    const t = await withAdmin();
    await importFile(t.admin, 'truck.csv', csv(bagRows(2, 3)));
    expect(files(t.dataDir, 'uploads')).toEqual([]);
  });

  it('a failed import deletes its upload', async () => {
    const t = await withAdmin();
    const uploadId = await uploadFile(t.admin, 'scan.pdf', Buffer.from('%PDF-1.7\n1 0 obj\n'));
    const job = await t.admin.ok('imports/start', { uploadId, mapping: { parent: 0, child: 1 } });
    expect((await waitForJob(t.admin, job.id)).status).toBe('failed');
    expect(files(t.dataDir, 'uploads')).toEqual([]);
  });

  it('a cancelled import deletes its upload: the same file chosen again finishes it', async () => {
    const t = await withAdmin();
    const file = csv(bagRows(1000, 30)); // six batches
    const uploadId = await uploadFile(t.admin, 'big.csv', file);
    const preview = await t.admin.ok('imports/preview', { uploadId });
    const job = await t.admin.ok('imports/start', { uploadId, mapping: preview.mapping! });
    // Registered as importing before the job's first step: the sweep leaves it alone from here.
    expect(t.station.imports.uploadsInUse().importing(uploadId)).toBe(true);
    await t.admin.ok('jobs/cancel', { jobId: job.id });
    expect((await waitForJob(t.admin, job.id)).status).toBe('cancelled');
    expect(t.station.imports.uploadsInUse().importing(uploadId)).toBe(false);
    expect(files(t.dataDir, 'uploads')).toEqual([]);
    expect(await t.admin.call('imports/start', { uploadId, mapping: preview.mapping! })).toMatchObject({
      ok: false,
      error: { code: 'not_found', message: 'That upload is unknown, unfinished or deleted: choose the file again' },
    });
    const again = await importFile(t.admin, 'big.csv', file);
    expect(again.result.linked + again.result.alreadyPresent).toBe(30_000);
  });
});

describe('abandoned uploads are swept', () => {
  it('one only previewed and one half sent are deleted a day after they began, not before', async () => {
    const t = await withAdmin({ filesSweepEveryMs: 0 });
    const previewed = await uploadFile(t.admin, 'looked-at.csv', csv(bagRows(1, 2)));
    await t.admin.ok('imports/preview', { uploadId: previewed });
    const half = await t.admin.ok('imports/upload', { name: 'half.csv', chunk: Buffer.from('Parent,Child\n').toString('base64'), last: false });
    expect(files(t.dataDir, 'uploads')).toEqual([previewed, `${previewed}.json`, `${half.uploadId}.json`, `${half.uploadId}.part`].sort());

    await later(t, DAY - 1);
    expect(await t.station.files.sweep()).toMatchObject({ uploads: 0 });
    expect(files(t.dataDir, 'uploads')).toHaveLength(4);

    await later(t, 1);
    const swept = await t.station.files.sweep();
    expect(swept.uploads).toBe(2);
    expect(swept.bytes).toBeGreaterThan(0);
    expect(files(t.dataDir, 'uploads')).toEqual([]);
    // The half-sent one cannot be finished any more: the person is told to choose the file again.
    expect(
      await t.admin.call('imports/upload', {
        uploadId: half.uploadId,
        name: 'half.csv',
        chunk: Buffer.from('SB00001,C1\n').toString('base64'),
        last: true,
      }),
    ).toMatchObject({ ok: false, error: { code: 'not_found', message: 'That upload is finished or unknown: choose the file again' } });
  });

  it('an upload whose import is running is never deleted, however old', async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    const store = new UploadStore(dir, clock.now);
    const { uploadId } = await store.upload({ name: 'slow.csv', chunk: Buffer.from('Parent,Child\n').toString('base64'), last: true });
    clock.advance(30 * DAY);
    const { station } = await makeStation({ clock });
    const sweeper = new FileSweeper({
      sqlite: station.database.sqlite,
      filesDir: dir,
      now: clock.now,
      keepDays: () => 7,
      uploads: { store, importing: (id) => id === uploadId },
      log: silentLogger,
    });
    expect(await sweeper.sweep()).toMatchObject({ uploads: 0 });
    expect(store.get(uploadId).name).toBe('slow.csv');
  });

  it('runs at start: a day later the station deletes what nobody imported, and at once an upload whose import a crash cut short', async () => {
    const first = await withAdmin();
    const abandoned = await uploadFile(first.admin, 'abandoned.csv', csv(bagRows(1, 2)));
    await later(first, 12 * HOUR);
    const fresh = await uploadFile(first.admin, 'fresh.csv', csv(bagRows(1, 2)));
    const cut = await uploadFile(first.admin, 'cut-short.csv', csv(bagRows(1, 2)));
    // What a kill mid-import leaves: the job row still "running", its upload on disk.
    first.station.database.sqlite
      .prepare("INSERT INTO jobs (kind, status, params, created_at, started_at, attempts) VALUES ('import', 'running', ?, ?, ?, 1)")
      .run(JSON.stringify({ uploadId: cut, fileName: 'cut-short.csv', mapping: { parent: 0, child: 1 } }), first.clock.t, first.clock.t);
    await first.close();

    const clock = new ManualClock(first.clock.t + 12 * HOUR + 1);
    const second = await makeStation({ dataDir: first.dataDir, clock, filesSweepEveryMs: 0 });
    await expect.poll(() => files(second.dataDir, 'uploads'), { timeout: 10_000 }).toEqual([fresh, `${fresh}.json`].sort());
    expect(files(second.dataDir, 'uploads')).not.toContain(abandoned);
  });
});

describe('exports and reports are kept for the set number of days', () => {
  it('an export is deleted after 7 days, and downloading it then says so', async () => {
    const t = await withAdmin({ filesSweepEveryMs: 0 });
    const job = await waitForJob(t.admin, (await t.admin.ok('exports/start', { what: 'audit', format: 'csv' })).id);
    expect(files(t.dataDir, 'exports')).toEqual([`${job.id}.csv`]);
    await later(t, 7 * DAY - 1);
    expect(await t.station.files.sweep()).toMatchObject({ exports: 0 });
    expect((await t.admin.ok('exports/chunk', { jobId: job.id, offset: 0 })).size).toBeGreaterThan(0);

    await later(t, 1);
    expect(await t.station.files.sweep()).toMatchObject({ exports: 1 });
    expect(files(t.dataDir, 'exports')).toEqual([]);
    expect(await t.admin.call('exports/chunk', { jobId: job.id, offset: 0 })).toEqual({
      ok: false,
      error: { code: 'not_found', message: 'This export was deleted: exports are kept 7 days (Admin → Station). Export again to get a new copy.' },
    });
  });

  it('a rejected-rows report follows the setting (here 1 day), and asking for it then says so', async () => {
    const t = await withAdmin({ filesSweepEveryMs: 0 });
    await t.admin.ok('settings/update', { filesKeepDays: 1 });
    const { job } = await importFile(
      t.admin,
      'bad-rows.csv',
      csv([
        ['Parent', 'Child'],
        ['SB00001', 'C1'],
        ['NOT-A-PARENT', 'C2'],
      ]),
    );
    expect(files(t.dataDir, 'reports')).toEqual([`import-${job.id}-rejected.csv`]);
    expect((await t.admin.ok('imports/rejected-report', { jobId: job.id })).fileName).toBe('bad-rows-rejected.csv');

    await later(t, DAY);
    expect(await t.station.files.sweep()).toMatchObject({ reports: 1 });
    expect(await t.admin.call('imports/rejected-report', { jobId: job.id })).toEqual({
      ok: false,
      error: {
        code: 'not_found',
        message: 'The rejected rows of this import were deleted: reports are kept 1 day (Admin → Station). Preview the file again to see them.',
      },
    });
  });
});

describe('Admin → Station: the data folder and its disk', () => {
  it('says how much the database, uploads, exports and reports and logs take, and what is free; admins only', async () => {
    const t = await withAdmin({ filesSweepEveryMs: 0 });
    const uploadId = await uploadFile(t.admin, 'waiting.csv', csv(bagRows(50, 20)));
    await waitForJob(t.admin, (await t.admin.ok('exports/start', { what: 'audit', format: 'csv' })).id);
    fs.mkdirSync(path.join(t.dataDir, 'logs'), { recursive: true }); // the station makes it at start (0700)
    fs.writeFileSync(path.join(t.dataDir, 'logs', 'dockside.1.log'), 'x'.repeat(3000));

    const usage = await t.admin.ok('files/usage', {});
    const part = (p: string) => usage.parts.find((x) => x.part === p)!;
    expect(usage.folder).toBe(t.dataDir);
    const dbBytes = ['dockside.sqlite', 'dockside.sqlite-wal', 'dockside.sqlite-shm']
      .map((f) => path.join(t.dataDir, f))
      .filter((f) => fs.existsSync(f))
      .reduce((sum, f) => sum + fs.statSync(f).size, 0);
    expect(part('database').bytes).toBe(dbBytes);
    expect(part('uploads')).toMatchObject({ files: 2 });
    expect(part('uploads').bytes).toBeGreaterThan(fs.statSync(path.join(t.dataDir, 'uploads', uploadId)).size);
    expect(part('exports')).toMatchObject({ files: 1 });
    expect(part('logs')).toMatchObject({ bytes: 3000, files: 1 });
    expect(usage.totalBytes).toBe(usage.parts.reduce((s, p) => s + p.bytes, 0));
    expect(usage.disk!.freeBytes).toBeGreaterThan(0);
    expect(usage.disk!.sizeBytes).toBeGreaterThanOrEqual(usage.disk!.freeBytes);
    expect(usage.keepDays).toBe(7);

    const biller = await t.signedIn('biller');
    expect(await biller.call('files/usage', {})).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });
});

describe('station settings for files and uploads', () => {
  it('"uploads must match the scan id patterns" is off by default, saved, audited and kept over a restart', async () => {
    const t = await withAdmin();
    expect(await t.admin.ok('settings/get', {})).toMatchObject({ importEnforceFormats: false, filesKeepDays: 7 });
    await t.admin.ok('settings/update', { importEnforceFormats: true, filesKeepDays: 30 });
    const audit = t.station.database.sqlite.prepare("SELECT after FROM audit_log WHERE action = 'settings.updated' ORDER BY id DESC").get() as {
      after: string;
    };
    expect(JSON.parse(audit.after)).toMatchObject({ importEnforceFormats: true, filesKeepDays: 30 });
    expect(await t.admin.call('settings/update', { filesKeepDays: 0 })).toMatchObject({
      ok: false,
      error: { issues: [{ path: 'filesKeepDays', message: 'At least 1 day' }] },
    });
    await t.close();

    const again = await makeStation({ dataDir: t.dataDir });
    expect(again.station.settings.get()).toMatchObject({ importEnforceFormats: true, filesKeepDays: 30 });
  });
});
