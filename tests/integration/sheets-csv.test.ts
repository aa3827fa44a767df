import crypto from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { BATCH_CELLS, inspectFile, readRows, type Delimiter } from '../../src/main/imports/sheets';
import { releaseAll } from '../support/cleanup';
import { allRows, fileOf, refusal, refusals } from '../support/sheets';

afterEach(releaseAll);

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const utf16le = (s: string, bom = true) => Buffer.concat([bom ? Buffer.from([0xff, 0xfe]) : Buffer.alloc(0), Buffer.from(s, 'utf16le')]);
const utf16be = (s: string) => {
  const bytes = Buffer.from(s, 'utf16le');
  for (let i = 0; i < bytes.length; i += 2) [bytes[i], bytes[i + 1]] = [bytes[i + 1], bytes[i]];
  return Buffer.concat([Buffer.from([0xfe, 0xff]), bytes]);
};
/** windows-1252 as Excel writes it on a European Windows: Latin-1, with € at 0x80. */
const cp1252 = (s: string) => Buffer.from(s.replace(/€/g, '\x80'), 'latin1');

describe('CSV delimiters and encodings', () => {
  it.each([',', ';', '\t', '|'] as Delimiter[])('finds %j with a byte-order mark and CRLF', async (d) => {
    const text = `Parent${d}Child${d}Note\r\nSB00001${d}C0000001${d}"one${d} two"\r\nSB00001${d}C0000002${d}\r\n`;
    const file = fileOf('bags.csv', Buffer.concat([BOM, Buffer.from(text)]));
    expect(await inspectFile(file, 'bags.csv')).toEqual({
      kind: 'csv',
      sheets: [{ index: 0, name: 'bags', rows: null }],
      delimiter: d,
      encoding: 'utf-8',
    });
    expect(await allRows(file, 'bags.csv')).toEqual([
      { line: 1, cells: ['Parent', 'Child', 'Note'] },
      { line: 2, cells: ['SB00001', 'C0000001', `one${d} two`] },
      { line: 3, cells: ['SB00001', 'C0000002'] },
    ]);
  });

  it('reads Excel’s "Unicode Text": UTF-16 LE, tab-separated; and UTF-16 BE, and UTF-16 without its mark', async () => {
    const text = 'Parent\tChild\tLieu\r\nSB00001\tC1\t東京\r\n';
    const rows = [
      { line: 1, cells: ['Parent', 'Child', 'Lieu'] },
      { line: 2, cells: ['SB00001', 'C1', '東京'] },
    ];
    for (const [bytes, encoding] of [
      [utf16le(text), 'utf-16le'],
      [utf16be(text), 'utf-16be'],
      [utf16le(text, false), 'utf-16le'],
    ] as const) {
      const file = fileOf('unicode.txt', bytes);
      expect(await inspectFile(file, 'unicode.txt')).toMatchObject({ delimiter: '\t', encoding });
      expect(await allRows(file, 'unicode.txt')).toEqual(rows);
    }
  });

  it('reads Excel’s "CSV" from a European Windows: ; and windows-1252', async () => {
    const file = fileOf('bags.csv', cp1252('Parent;Child;Remarque\r\nSB00001;C1;Café crème 2,5 €\r\nSB00002;C2;Müller\r\n'));
    expect(await inspectFile(file, 'bags.csv')).toMatchObject({ delimiter: ';', encoding: 'windows-1252' });
    expect(await allRows(file, 'bags.csv')).toEqual([
      { line: 1, cells: ['Parent', 'Child', 'Remarque'] },
      { line: 2, cells: ['SB00001', 'C1', 'Café crème 2,5 €'] },
      { line: 3, cells: ['SB00002', 'C2', 'Müller'] },
    ]);
  });

  it('checks the whole file for UTF-8, not just its start, and a character cut by a read is still UTF-8', async () => {
    const ascii = 'Parent,Child\n' + 'SB00001,C0000001\n'.repeat(100_000); // 1.7 MB of ASCII first
    expect((await inspectFile(fileOf('late.csv', Buffer.concat([Buffer.from(ascii), cp1252('SB9,Café\n')])), 'late.csv')).encoding).toBe(
      'windows-1252',
    );
    const euros = 'Parent,Note\n' + 'SB1,€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€\n'.repeat(30_000); // 3-byte characters across 1 MiB reads
    const file = fileOf('euro.csv', euros);
    expect((await inspectFile(file, 'euro.csv')).encoding).toBe('utf-8');
    const rows = await allRows(file, 'euro.csv');
    expect(rows).toHaveLength(30_001);
    expect(rows.every((r) => r.line === 1 || r.cells[1] === '€'.repeat(40))).toBe(true);
  });

  it('takes the delimiter the person chose over the one found', async () => {
    const file = fileOf('bags.csv', 'Parent;Child\nSB1;C1\n');
    expect(await allRows(file, 'bags.csv', { kind: 'csv', delimiter: ',' })).toEqual([
      { line: 1, cells: ['Parent;Child'] },
      { line: 2, cells: ['SB1;C1'] },
    ]);
  });
});

describe('CSV records', () => {
  it('numbers records as Excel numbers rows: quoted line breaks inside a record, blank lines counted', async () => {
    const file = fileOf('bags.csv', 'Parent,Child\r"SB1","two\r\nlines"\r\r"SB ""2""",C2\rSB3,C3');
    expect(await allRows(file, 'bags.csv')).toEqual([
      { line: 1, cells: ['Parent', 'Child'] },
      { line: 2, cells: ['SB1', 'two\r\nlines'] },
      { line: 4, cells: ['SB "2"', 'C2'] },
      { line: 5, cells: ['SB3', 'C3'] },
    ]);
  });

  it('keeps every field as text and every empty field as null', async () => {
    const file = fileOf('bags.csv', 'id,n,flag,when\n007,1e5,TRUE,2024-03-01\n,,x,\n');
    expect(await allRows(file, 'bags.csv')).toEqual([
      { line: 1, cells: ['id', 'n', 'flag', 'when'] },
      { line: 2, cells: ['007', '1e5', 'TRUE', '2024-03-01'] },
      { line: 3, cells: [null, null, 'x'] },
    ]);
  });

  it('streams a long file in batches of at most 1,000 rows, lines in order', async () => {
    const file = fileOf('long.csv', 'Parent,Child\n' + Array.from({ length: 25_000 }, (_, i) => `SB${i},C${i}\n`).join(''));
    const rows = await allRows(file, 'long.csv');
    expect(rows).toHaveLength(25_001);
    expect(rows.every((r, i) => r.line === i + 1)).toBe(true);
  });

  it('hands on very wide rows in smaller batches', async () => {
    const file = fileOf('wide.csv', `${','.repeat(16_383)}x\n`.repeat(300));
    const sizes: number[] = [];
    for await (const batch of readRows(file, 'wide.csv', { kind: 'csv', delimiter: ',' })) {
      sizes.push(batch.length);
      expect(batch.reduce((cells, row) => cells + row.cells.length, 0)).toBeLessThanOrEqual(BATCH_CELLS + 16_384);
    }
    expect(sizes.reduce((a, b) => a + b)).toBe(300);
    expect(Math.max(...sizes)).toBe(Math.ceil(BATCH_CELLS / 16_384));
  });

  it('turns an over-long field into a problem and reads on', async () => {
    const file = fileOf('long.csv', `a,${'x'.repeat(500_000)},b\nc,d\n`);
    expect(await allRows(file, 'long.csv')).toEqual([
      { line: 1, cells: ['a', { problem: 'a cell of more than 10,000 characters' }, 'b'] },
      { line: 2, cells: ['c', 'd'] },
    ]);
  });

  it('refuses a line of more than 1,000,000 characters, a quote never closed, 16,385 columns', async () => {
    const long = fileOf('one-line.csv', 'SB00001 C0000001 '.repeat(70_000));
    expect(await refusal(allRows(long, 'one-line.csv'))).toBe(
      'one-line.csv has a line longer than 1,000,000 characters (line 1): it is not a list of rows. Check that it is the right file',
    );
    const quote = fileOf('quote.csv', 'Parent,Child\nSB1,"C1\nSB2,C2\n');
    expect(await refusal(allRows(quote, 'quote.csv'))).toBe(
      'quote.csv has a quote (") on line 2 that is never closed: fix the quotes in a text editor, or save the file from Excel again',
    );
    const wide = fileOf('wide.csv', 'a,b\n' + ','.repeat(16_384) + '\n');
    expect(await refusal(allRows(wide, 'wide.csv'))).toBe(
      'wide.csv has more than 16,384 columns on row 2, more than Excel allows: it is not a list of rows. Check that it is the right file',
    );
  });

  it('refuses binary data, at the start or further in', async () => {
    const sentence = (name: string) => `${name} is not a spreadsheet (it holds binary data): choose an .xlsx or .csv file`;
    expect(await refusals(fileOf('random.csv', crypto.randomBytes(1 << 20)), 'random.csv', 'csv')).toEqual([
      sentence('random.csv'),
      sentence('random.csv'),
    ]);
    const later = fileOf('later.csv', Buffer.concat([Buffer.from('Parent,Child\n' + 'SB1,C1\n'.repeat(10_000)), Buffer.from([0, 1, 2, 3])]));
    expect(await refusals(later, 'later.csv', 'csv')).toEqual([sentence('later.csv'), sentence('later.csv')]);
  });

  it('a file of nothing but a byte-order mark has no rows', async () => {
    const file = fileOf('bom.csv', BOM);
    expect(await inspectFile(file, 'bom.csv')).toMatchObject({ delimiter: ',', encoding: 'utf-8' });
    expect(await allRows(file, 'bom.csv')).toEqual([]);
  });
});
