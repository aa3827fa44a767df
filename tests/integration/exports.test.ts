import ExcelJS from 'exceljs';
import { afterEach, describe, expect, it } from 'vitest';
import { releaseAll } from '../support/cleanup';
import { bagRows, csv, importFile, waitForJob } from '../support/imports';
import { withAdmin, type TestWindow } from '../support/station';

async function exportFile(w: TestWindow, what: 'bags' | 'bills' | 'audit', format: 'csv' | 'xlsx') {
  const job = await w.ok('exports/start', { what, format });
  const done = await waitForJob(w, job.id);
  expect(done.status).toBe('succeeded');
  const parts: Buffer[] = [];
  let offset = 0;
  let name: string;
  for (;;) {
    const c = await w.ok('exports/chunk', { jobId: job.id, offset });
    parts.push(Buffer.from(c.base64, 'base64'));
    offset += parts.at(-1)!.length;
    name = c.fileName;
    if (c.done) break;
  }
  return { name, bytes: Buffer.concat(parts), result: done.result as { rows: number } };
}

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

  it('a large export does not block scanning on the same connection', async () => {
    const t = await withAdmin();
    await importFile(t.admin, 'many.csv', csv(bagRows(700, 30)));
    const dock = await t.signedIn('dispatcher', 'dock1');
    const job = await t.admin.ok('exports/start', { what: 'bags', format: 'xlsx' });
    await dock.ok('bags/scan', { code: 'SB90000', source: 'manual' });
    for (let i = 0; i < 20; i++) {
      expect((await dock.ok('bags/scan', { code: `LIVE-${i}`, source: 'manual' })).result).toBe('linked');
      await new Promise((r) => setImmediate(r));
    }
    const done = await waitForJob(t.admin, job.id);
    expect(done.status).toBe('succeeded');
    expect((done.result as { rows: number }).rows).toBeGreaterThanOrEqual(21_700);
  });

  it('only admins and billers export; unfinished or foreign jobs cannot be read', async () => {
    const t = await withAdmin();
    const dock = await t.signedIn('dispatcher', 'dock1');
    expect(await dock.call('exports/start', { what: 'bags', format: 'csv' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await t.admin.call('exports/chunk', { jobId: 999, offset: 0 })).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });
});
