import ExcelJS from 'exceljs';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobView } from '../../src/shared/contract/jobs';
import { releaseAll } from '../support/cleanup';
import { bagRows, csv, importFile, waitForJob } from '../support/imports';
import { exportFile } from '../support/exports';
import { withAdmin } from '../support/station';

afterEach(releaseAll);

describe('exports', () => {
  it('bags as CSV and XLSX: fixed header order, ids as text with leading zeros', async () => {
    const t = await withAdmin();
    const dock = await t.signedIn('dispatcher', 'dock1');
    await dock.ok('bags/scan', { code: 'SB00001', source: 'manual' });
    await dock.ok('bags/scan', { code: '00042', source: 'manual' });
    await dock.ok('bags/scan', { code: '=cmd', source: 'manual' });

    const c = await exportFile(t.admin, 'bags', 'csv');
    expect(c.name).toMatch(/^dockside-bags-\d{4}-\d{2}-\d{2}\.csv$/);
    const lines = c.bytes.toString('utf8').split('\r\n');
    expect(lines[0]).toBe('\uFEFFBag,Kind,Parent,Bill,Created at,Created by,Origin');
    expect(lines[2]).toMatch(/^00042,child,SB00001,,\d{4}-.*,dock1,scan$/);
    expect(lines[3]).toMatch(/^'=CMD,child,SB00001/); // neutralised for spreadsheets

    const x = await exportFile(t.admin, 'bags', 'xlsx');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(x.bytes as unknown as ArrayBuffer);
    const ws = wb.getWorksheet('bags')!;
    expect((ws.getRow(1).values as unknown[]).slice(1)).toEqual(['Bag', 'Kind', 'Parent', 'Bill', 'Created at', 'Created by', 'Origin']);
    expect(ws.getRow(3).getCell(1).value).toBe('00042');
    expect(ws.getRow(3).getCell(1).numFmt).toBe('@');
    expect(x.result.rows).toBe(3);
  });

  it('bills and the audit trail export too', async () => {
    const t = await withAdmin();
    const bill = await t.admin.ok('bills/create', { note: 'Truck 1' });
    const b = await exportFile(t.admin, 'bills', 'csv');
    expect(b.bytes.toString('utf8')).toContain(`${bill.number},draft,0,0,0,Truck 1,`);
    const a = await exportFile(t.admin, 'audit', 'xlsx');
    expect(a.result.rows).toBeGreaterThanOrEqual(2);
  });

  it.each(['xlsx', 'csv'] as const)(
    'a scan between the pages of a large %s export commits at once, on the same connection, while the export goes on',
    async (format) => {
      const t = await withAdmin();
      await importFile(t.admin, 'many.csv', csv(bagRows(200, 30))); // 6,200 bags: two pages of 5,000
      const dock = await t.signedIn('dispatcher', 'dock1');
      await dock.ok('bags/scan', { code: 'SB90000', source: 'manual' });
      const job = await t.admin.ok('exports/start', { what: 'bags', format });
      // The export pushes progress after each page it has written; answering it runs before the next page is read.
      const page = await t.admin.event((e) => e.event === 'job/progress' && (e.data as JobView).id === job.id);
      expect((page.data as JobView).rowsDone).toBe(5000);
      expect((await dock.ok('bags/scan', { code: 'LIVE-1', source: 'manual' })).result).toBe('linked');
      expect(await t.admin.ok('jobs/get', { jobId: job.id })).toMatchObject({ status: 'running', rowsDone: 5000 });
      const done = await waitForJob(t.admin, job.id);
      expect(done.status).toBe('succeeded');
      expect((done.result as { rows: number }).rows).toBeGreaterThanOrEqual(6_201);
    },
  );

  it('only admins and billers export bags; an unfinished export or a job that is not an export cannot be read', async () => {
    const t = await withAdmin();
    const dock = await t.signedIn('dispatcher', 'dock1');
    expect(await dock.call('exports/start', { what: 'bags', format: 'csv' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await dock.call('exports/chunk', { jobId: 1, offset: 0 })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const running = await t.admin.ok('exports/start', { what: 'audit', format: 'csv' }); // its work starts after this answer
    expect(await t.admin.call('exports/chunk', { jobId: running.id, offset: 0 })).toMatchObject({
      ok: false,
      error: { code: 'conflict', message: 'The export is not finished' },
    });
    const imported = await importFile(t.admin, 'few.csv', csv(bagRows(1, 2)));
    expect(await t.admin.call('exports/chunk', { jobId: imported.job.id, offset: 0 })).toMatchObject({
      ok: false,
      error: { code: 'not_found', message: 'Not an export' },
    });
    expect(await t.admin.call('exports/chunk', { jobId: 999, offset: 0 })).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('a job is seen and cancelled only by the person who started it, or an admin', async () => {
    const t = await withAdmin();
    const alice = await t.signedIn('biller', 'alice');
    const bob = await t.signedIn('biller', 'bob');
    const job = await alice.ok('exports/start', { what: 'bills', format: 'csv' }); // the audit trail is admins' only
    expect((await waitForJob(alice, job.id)).status).toBe('succeeded');
    expect(await bob.call('jobs/get', { jobId: job.id })).toMatchObject({ ok: false, error: { code: 'not_found', message: `No job ${job.id}` } });
    expect(await bob.call('jobs/cancel', { jobId: job.id })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await bob.call('imports/rejected-report', { jobId: job.id })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect((await t.admin.ok('jobs/get', { jobId: job.id })).status).toBe('succeeded');
  });

  it('a biller cannot read another biller’s export', async () => {
    const t = await withAdmin();
    const alice = await t.signedIn('biller', 'alice');
    const bob = await t.signedIn('biller', 'bob');
    const job = await alice.ok('exports/start', { what: 'bills', format: 'csv' }); // the audit trail is admins' only
    expect((await waitForJob(alice, job.id)).status).toBe('succeeded');
    expect((await alice.call('exports/chunk', { jobId: job.id, offset: 0 })).ok).toBe(true);
    const r = await bob.call('exports/chunk', { jobId: job.id, offset: 0 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(['not_found', 'forbidden']).toContain(r.error.code);
  });
});
