import { afterEach, describe, expect, it } from 'vitest';
import { csv, bagRows, uploadFile } from '../support/imports';
import { IMPORT_BATCH_ROWS } from '../../src/main/imports/commit';
import { releaseAll } from '../support/cleanup';
import { makeStation, ManualClock, signInAs, withAdmin } from '../support/station';
import { SimulatedHidBus } from '../../src/main/scanners/simulated';
import { ENTER, typed } from '../fixtures/hid-reports';

afterEach(releaseAll);

describe('closing the station', () => {
  it('stops a running import between batches and waits for it before the database closes', async () => {
    const t = await withAdmin();
    const uploadId = await uploadFile(t.admin, 'big.csv', csv(bagRows(400, 100)));
    const preview = await t.admin.ok('imports/preview', { uploadId });
    const job = await t.admin.ok('imports/start', { uploadId, mapping: preview.mapping! });
    await t.close(); // must not reject, and must leave the job finished, not "running"
    const again = await makeStation({ dataDir: t.dataDir });
    const w = again.window();
    await signInAs(again, w, 'boss', 'correct horse');
    const after = await w.ok('jobs/get', { jobId: job.id });
    expect(['cancelled', 'succeeded']).toContain(after.status);
    if (after.status === 'cancelled') expect(after.error).toContain('Dockside was closing');
    const rows = again.station.database.sqlite.prepare('SELECT count(*) AS n FROM bag_links').get() as { n: number };
    expect(rows.n % IMPORT_BATCH_ROWS === 0 || rows.n === 40_000).toBe(true); // whole batches only
  });
});

describe('audited in the name of the person who did it', () => {
  it('pairing, renaming and removing a scanner name the admin, not nobody', async () => {
    const bus = new SimulatedHidBus();
    const t = await withAdmin({ hid: { ok: true, backend: bus }, scannerPollMs: 0 });
    bus.plug({ path: '/dev/hidraw3', vendorId: 0x0c2e, productId: 0x0b87, product: 'Voyager 1250g', usagePage: 0x01, usage: 0x06 });
    const { code } = await t.admin.ok('scanners/pair-start', {});
    for (const r of [...typed(code), ...ENTER]) bus.report('/dev/hidraw3', r);
    const [paired] = (await t.admin.ok('scanners/status', {})).scanners;
    await t.admin.ok('scanners/update', { id: paired.id, name: 'Door 4' });
    await t.admin.ok('scanners/remove', { id: paired.id });
    const rows = (await t.admin.ok('audit/list', { action: 'scanners' })).rows;
    expect(rows.map((r) => r.action).sort()).toEqual(['scanners.paired', 'scanners.removed', 'scanners.updated']);
    expect(rows.every((r) => r.username === 'boss')).toBe(true);
  });

  it('an export is named by the station clock’s date, not the machine’s', async () => {
    const t = await withAdmin({ clock: new ManualClock(Date.UTC(2031, 0, 2, 12, 0, 0)) });
    const job = await t.admin.ok('exports/start', { what: 'bags', format: 'csv' });
    const params = t.station.jobs.params<{ fileName: string }>(job.id);
    expect(params.fileName).toBe('dockside-bags-2031-01-02.csv');
  });
});
