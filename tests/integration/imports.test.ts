import { afterEach, describe, expect, it } from 'vitest';
import type { ImportResult } from '../../src/shared/contract/imports';
import { IMPORT_BATCH_ROWS } from '../../src/main/imports/commit';
import { releaseAll } from '../support/cleanup';
import { bagRows, csv, importFile, uploadFile, waitForJob, xlsx } from '../support/imports';
import { withAdmin } from '../support/station';

afterEach(releaseAll);

const count = (t: Awaited<ReturnType<typeof withAdmin>>, table: string) =>
  (t.station.database.sqlite.prepare(`SELECT count(*) n FROM ${table}`).get() as { n: number }).n;
const bagData = (t: Awaited<ReturnType<typeof withAdmin>>) => [count(t, 'bags'), count(t, 'bag_links'), count(t, 'outbox')];

describe('import', () => {
  it('previews, then imports in batches with audit and outbox rows; the same file again changes nothing', async () => {
    const t = await withAdmin();
    const rows = bagRows(400, 30); // 12,000 rows
    rows.splice(5, 0, ['=SB1234', 'C-BAD-PARENT'], ['SB00001', '']);
    const batches = 12_000 / IMPORT_BATCH_ROWS;
    const file = csv(rows);
    const { preview, job, result } = await importFile(t.admin, 'bags.csv', file);
    expect(preview).toMatchObject({
      kind: 'csv',
      headers: ['Parent', 'Child'],
      mapping: { parent: 0, child: 1 },
      totals: { rows: 12_002, linked: 12_000, rejected: 2 },
    });
    expect(preview.errors).toEqual([
      { line: 6, reason: 'Parent “=SB1234” looks like a spreadsheet formula' },
      { line: 7, reason: 'Child is empty' },
    ]);
    expect(preview.reasons).toEqual([
      { kind: 'rejected', reason: 'Looks like a spreadsheet formula', rows: 1, lines: [6] },
      { kind: 'rejected', reason: 'Child is empty', rows: 1, lines: [7] },
    ]);
    expect(preview.rows[0]).toEqual({ line: 2, parent: 'SB00000', child: 'C0000000', status: 'link', reason: null });
    expect(job.status).toBe('succeeded');
    expect(result).toMatchObject({
      rows: 12_002,
      linked: 12_000,
      rejected: 2,
      parentsCreated: 400,
      childrenCreated: 12_000,
      batchesCommitted: batches,
      cancelled: false,
    });
    expect(count(t, 'bag_links')).toBe(12_000);
    expect((await t.admin.ok('audit/list', { action: 'bags.imported', limit: 100 })).rows).toHaveLength(batches);
    expect(count(t, "outbox WHERE op = 'import_links@1'")).toBe(batches);

    const report = await t.admin.ok('imports/rejected-report', { jobId: job.id });
    expect(report.fileName).toBe('bags-rejected.csv');
    expect(Buffer.from(report.base64, 'base64').toString('utf8')).toBe(
      "\uFEFFLine,Parent,Child,Reason\r\n6,'=SB1234,C-BAD-PARENT,Parent “=SB1234” looks like a spreadsheet formula\r\n7,SB00001,,Child is empty\r\n",
    );

    const before = bagData(t);
    const again = await importFile(t.admin, 'bags.csv', file);
    expect(again.preview.totals).toMatchObject({ linked: 0, alreadyPresent: 12_000, rejected: 2 });
    expect(again.result).toMatchObject({ linked: 0, alreadyPresent: 12_000, parentsCreated: 0, childrenCreated: 0 });
    expect(bagData(t)).toEqual(before);
  });

  it('matches headers loosely, counts duplicates and empty rows, refuses contradictions and children on other parents', async () => {
    const t = await withAdmin();
    const dock = await t.signedIn('dispatcher', 'dock1');
    await dock.ok('bags/scan', { code: 'SB00099', source: 'manual' });
    await dock.ok('bags/scan', { code: 'TAKEN-1', source: 'manual' });
    const file = csv([
      ['Notes', 'CHILD_barcode', ' Parent Bag ID '],
      ['x', 'k-1', 'sb00001'],
      ['x', 'K-1', 'SB00001'], // duplicate of the row above
      ['', '', ''],
      ['x', 'K-1', 'SB00002'], // contradicts row 2
      ['x', 'TAKEN-1', 'SB00001'], // on SB00099 in the database
      ['x', 'K-2', 'SB00001'],
    ]);
    const { preview, result } = await importFile(t.admin, 'loose.csv', file);
    expect(preview.mapping).toEqual({ parent: 2, child: 1 });
    // The blank line (",,") is no row at all: the reader leaves out records with no value.
    expect(preview.totals).toEqual({ rows: 5, linked: 2, alreadyPresent: 0, duplicates: 1, empty: 0, rejected: 2 });
    expect(preview.errors.map((e) => e.reason)).toEqual(['K-1 is on SB00001 earlier in the file', 'TAKEN-1 is already on parent SB00099']);
    expect(result).toMatchObject({ linked: 2, duplicates: 1, empty: 0, rejected: 2 });
    expect((await t.admin.ok('bags/detail', { code: 'TAKEN-1' })).parentCode).toBe('SB00099');
  });

  it('uploads accept any id format; with the station switch on, they must match the scan patterns', async () => {
    const t = await withAdmin();
    const file = csv([
      ['Parent', 'Child'],
      ['PALLET-7', 'box 1'],
      ['SB00001', 'C-1'],
    ]);
    const free = await importFile(t.admin, 'any.csv', file);
    expect(free.result).toMatchObject({ linked: 2, rejected: 0 });
    expect((await t.admin.ok('bags/detail', { code: 'BOX 1' })).parentCode).toBe('PALLET-7');

    await t.admin.ok('settings/update', { importEnforceFormats: true });
    const strict = await importFile(
      t.admin,
      'strict.csv',
      csv([
        ['Parent', 'Child'],
        ['PALLET-8', 'box 2'],
        ['SB00002', 'C-2'],
      ]),
    );
    expect(strict.preview.errors).toEqual([{ line: 2, reason: 'Parent PALLET-8 is not a parent bag id' }]);
    expect(strict.preview.reasons).toEqual([{ kind: 'rejected', reason: 'Parent does not match the scan patterns', rows: 1, lines: [2] }]);
    expect(strict.result).toMatchObject({ linked: 1, rejected: 1 });
  });

  it('lets the person choose the columns when the headers say nothing', async () => {
    const t = await withAdmin();
    const uploadId = await uploadFile(
      t.admin,
      'plain.csv',
      csv([
        ['A', 'B'],
        ['SB00001', 'Z-1'],
      ]),
    );
    const asked = await t.admin.ok('imports/preview', { uploadId });
    expect(asked).toMatchObject({
      mapping: null,
      headerLine: 1,
      needs:
        'No column is named Parent or Child (the header row has A, B): choose which column holds the parent bag and which the child bag, or pick another header row.',
      columns: [
        { index: 0, name: 'A', samples: ['SB00001'], numeric: false },
        { index: 1, name: 'B', samples: ['Z-1'], numeric: false },
      ],
    });
    const p = await t.admin.ok('imports/preview', { uploadId, mapping: { parent: 0, child: 1 } });
    expect(p.totals.linked).toBe(1);
    expect(p.needs).toBeNull();
    expect(await t.admin.call('imports/preview', { uploadId, mapping: { parent: 1, child: 1 } })).toMatchObject({
      ok: false,
      error: { message: 'Invalid request — mapping: Choose two different columns for parent and child' },
    });
  });

  it('cancel keeps whole batches only, says so, and importing again finishes the file', async () => {
    const t = await withAdmin();
    const file = csv(bagRows(1000, 30)); // 30,000 rows, six batches
    const uploadId = await uploadFile(t.admin, 'big.csv', file);
    const preview = await t.admin.ok('imports/preview', { uploadId });
    const job = await t.admin.ok('imports/start', { uploadId, mapping: preview.mapping! });
    await t.admin.ok('jobs/cancel', { jobId: job.id });
    const done = await waitForJob(t.admin, job.id);
    expect(done.status).toBe('cancelled');
    const r = done.result as { linked: number; batchesCommitted: number; cancelled: boolean };
    expect(r.cancelled).toBe(true);
    expect(r.linked).toBe(r.batchesCommitted * IMPORT_BATCH_ROWS);
    expect(count(t, 'bag_links')).toBe(r.linked);
    expect(r.linked).toBeLessThan(30_000);

    const rest = await importFile(t.admin, 'big.csv', file);
    expect(rest.result).toMatchObject({ linked: 30_000 - r.linked, alreadyPresent: r.linked });
    expect(count(t, 'bag_links')).toBe(30_000);
  });

  it('only admins and billers import', async () => {
    const t = await withAdmin();
    const dock = await t.signedIn('dispatcher', 'dock1');
    expect(await dock.call('imports/upload', { name: 'x.csv', chunk: '', last: true })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });
});

describe('bad input gets a clear message and writes nothing', () => {
  /**
   * The preview refuses the file with the reason. Starting anyway (say, with columns chosen by
   * hand) writes no bags either: the job fails with the same reason, or — when only the columns
   * were wrong — reads every row and rejects it.
   */
  async function refused(name: string, bytes: Buffer, message: RegExp, startedAnyway: 'fails' | 'rejects every row' = 'fails') {
    const t = await withAdmin();
    const before = bagData(t);
    const uploadId = await uploadFile(t.admin, name, bytes);
    expect(await t.admin.call('imports/preview', { uploadId })).toMatchObject({
      ok: false,
      error: { code: 'invalid', message: expect.stringMatching(message) },
    });
    const job = await t.admin.ok('imports/start', { uploadId, mapping: { parent: 0, child: 1 } });
    const done = await waitForJob(t.admin, job.id);
    expect(done).toMatchObject(
      startedAnyway === 'fails'
        ? { status: 'failed', error: expect.stringMatching(message) }
        : { status: 'succeeded', result: { linked: 0, rejected: (done.result as ImportResult).rows } },
    );
    expect(bagData(t)).toEqual(before);
  }

  it('a PDF named .csv', () => refused('bags.csv', Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj'), /bags\.csv is a PDF/));
  it('a binary file', () => refused('photo.csv', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 13]), /not a spreadsheet \(it holds binary data\)/));
  it('an old .xls', () => refused('old.xls', Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0]), /old Excel 97–2003 \(\.xls\)/));
  it('a text file named .xlsx', () => refused('bags.xlsx', Buffer.from('Parent,Child\nSB00001,C1\n'), /named \.xlsx but is not an Excel file/));
  it('a corrupt zip', async () => {
    const good = await xlsx([
      ['Parent', 'Child'],
      ['SB00001', 'C1'],
    ]);
    await refused(
      'broken.xlsx',
      Buffer.concat([good.subarray(0, 200), Buffer.alloc(300, 7)]),
      /broken\.xlsx is damaged or not a complete Excel file: open it in Excel and save it again/,
    );
  });
  it('an empty file', () => refused('empty.csv', Buffer.alloc(0), /empty/));
  it('an empty sheet', async () => refused('empty.xlsx', await xlsx([]), /empty\.xlsx has no rows: every sheet is empty/));

  /** Not a dead end: the preview says what to choose and writes nothing. */
  async function needsChoice(name: string, bytes: Buffer, needs: string) {
    const t = await withAdmin();
    const before = bagData(t);
    const uploadId = await uploadFile(t.admin, name, bytes);
    expect((await t.admin.ok('imports/preview', { uploadId })).needs).toBe(needs);
    expect(bagData(t)).toEqual(before);
    return { t, uploadId, before };
  }
  it('a header and no rows: started anyway, the job fails and writes nothing', async () => {
    const { t, uploadId, before } = await needsChoice(
      'header.xlsx',
      await xlsx([['Parent', 'Child']]),
      'There are no bag rows below the header row (row 1): pick another header row or sheet.',
    );
    const job = await t.admin.ok('imports/start', { uploadId, mapping: { parent: 0, child: 1 } });
    expect(await waitForJob(t.admin, job.id)).toMatchObject({ status: 'failed', error: expect.stringMatching(/has a header row but no bag rows/) });
    expect(bagData(t)).toEqual(before);
  });
  it('missing columns', () =>
    needsChoice(
      'cols.csv',
      csv([
        ['Name', 'Weight'],
        ['x', 'kg'],
      ]),
      'No column is named Parent or Child (the header row has Name, Weight): choose which column holds the parent bag and which the child bag, or pick another header row.',
    ));
  it('a CSV line too long to be a record', () =>
    refused(
      'huge.csv',
      Buffer.from(`Parent,Child\nSB00001,"${'x'.repeat(1_100_000)}"\n`),
      /huge\.csv has a quoted field on line 2 that runs past 1,000,000 characters: a quote \("\) is probably never closed/,
    ));

  async function rowsRejected(bytes: Buffer, name: string, reasons: RegExp[]) {
    const t = await withAdmin();
    const before = bagData(t);
    const { preview, result } = await importFile(t.admin, name, bytes);
    expect(preview.totals.linked).toBe(0);
    expect(preview.errors).toHaveLength(reasons.length);
    preview.errors.forEach((e, i) => expect(e.reason).toMatch(reasons[i]));
    expect(result.linked).toBe(0);
    expect(bagData(t)).toEqual(before);
  }

  it('10,000-character cells', async () =>
    rowsRejected(
      csv([
        ['Parent', 'Child'],
        ['SB00001', 'y'.repeat(10_001)],
      ]),
      'long.csv',
      [/Child column holds a cell of more than 10,000 characters/],
    ));

  it('dates, booleans, decimals and numbers too long to be exact are refused; formulas give their saved value and whole numbers are ids', async () => {
    const t = await withAdmin();
    const before = bagData(t);
    const { preview, result } = await importFile(
      t.admin,
      'cells.xlsx',
      await xlsx([
        ['Parent', 'Child'],
        ['SB00001', new Date(Date.UTC(2026, 10, 25))],
        ['SB00001', true],
        ['SB00001', 12.5],
        ['SB00001', 1.2345678901234568e18], // 19 digits typed, Excel keeps 15
        ['SB00001', { formula: 'A2&"-1"', result: 'SB00001-1' }],
        ['SB00001', 12345],
        [123, 'C-1'],
      ]),
    );
    expect(preview.errors.map((e) => e.reason)).toEqual([
      'Child column holds a date (2026-11-25), not an id',
      'Child column holds a TRUE/FALSE value, not an id',
      'Child column holds a number with decimals (12.5), not an id',
      'Child column holds a number of more than 15 digits: Excel has already changed its last digits; format the column as Text and enter the ids again',
    ]);
    expect(preview.notes).toEqual([
      expect.stringMatching(/^1 Parent cells are numbers in the spreadsheet: they are read as whole-number ids\. Leading zeros cannot be recovered/),
      expect.stringMatching(/^3 Child cells are numbers/),
    ]);
    expect(result).toMatchObject({ linked: 3, rejected: 4 });
    expect(bagData(t)[1]).toBe(before[1] + 3);
    for (const [child, parent] of [
      ['SB00001-1', 'SB00001'],
      ['12345', 'SB00001'],
      ['C-1', '123'],
    ])
      expect((await t.admin.ok('bags/detail', { code: child })).parentCode).toBe(parent);
  });

  it('CSV cells that spreadsheets would run or have mangled', async () =>
    rowsRejected(
      csv([
        ['Parent', 'Child'],
        ['SB00001', '=HYPERLINK("x")'],
        ['SB00001', '1.23457E+11'],
        ['SB00001', '@SUM(A1)'],
      ]),
      'inject.csv',
      [/looks like a spreadsheet formula/, /scientific notation/, /looks like a spreadsheet formula/],
    ));
});
