import ExcelJS from 'exceljs';
import { afterEach, describe, expect, it } from 'vitest';
import { BATCH_CELLS, inspectFile, readRows } from '../../src/main/imports/sheets';
import { releaseAll } from '../support/cleanup';
import { allRows, eventually, fileOf, openFiles, refusal } from '../support/sheets';
import { inlineRows, stylesPart, workbookParts, zipBuffer, type HandWorkbook } from '../support/workbooks';

afterEach(releaseAll);

const TOO_LONG = { problem: 'a cell of more than 10,000 characters' };

async function xlsxFile(book: HandWorkbook, name = 'bags.xlsx', store = false): Promise<string> {
  return fileOf(name, await zipBuffer(workbookParts(book), { store }));
}

describe('xlsx written by hand', () => {
  it('reads every kind of cell as the file holds it', async () => {
    const file = await xlsxFile({
      sharedStrings: `<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="4" uniqueCount="4">
        <si><t>SB00001</t></si>
        <si><r><rPr><b/></rPr><t>Rich</t></r><r><t xml:space="preserve"> text</t></r><rPh sb="0" eb="1"><t>ルビ</t></rPh><phoneticPr fontId="1"/></si>
        <si><t>Tom &amp; Jerry &#8364;&#x41; line_x000D__x000A_two</t></si>
        <si><t/></si></sst>`,
      // cell styles: 0 General, 1 built-in date 14, 2 custom date, 3 custom number with "d" in quotes, 4 custom time
      styles: stylesPart([0, 14, 164, 165, 166], { 164: 'yyyy-mm-dd;@', 165: '0" d"', 166: '[h]:mm' }),
      sheets: [
        {
          name: 'Bags',
          data: `<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c></row>
            <row r="2"><c r="A2"><v>42</v></c><c r="B2" s="0"><v>-1.5E3</v></c><c r="C2" s="3"><v>7</v></c><c r="D2" t="n"><v>0012</v></c></row>
            <row r="3"><c r="A3" s="1"><v>45000</v></c><c r="B3" s="2"><v>45000.75</v></c><c r="C3" s="4"><v>1.5</v></c><c r="D3" t="d"><v>2024-02-29T00:00:00Z</v></c></row>
            <row r="4"><c r="A4" t="b"><v>1</v></c><c r="B4" t="b"><v>0</v></c><c r="C4" t="e"><v>#N/A</v></c><c r="D4" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>
            <row r="5"><c r="A5" t="str"><f>A1&amp;"x"</f><v>SB00001x</v></c><c r="B5"><f>2*21</f><v>42</v></c><c r="C5"><f>NOW()</f></c><c r="D5" t="inlineStr"><is><t>inline</t></is></c></row>
            <row r="6"><c r="B6" t="inlineStr"><is><r><t>in</t></r><r><t>line rich</t></r></is></c><c r="D6" s="1"/><c r="E6" t="s"/></row>
            <row r="7" spans="1:3"><c r="A7" s="1"/></row>
            <row r="9"><c r="C9" t="s"><v>0</v></c></row>`,
        },
      ],
    });
    expect(await allRows(file, 'bags.xlsx')).toEqual([
      { line: 1, cells: ['SB00001', 'Rich text', 'Tom & Jerry €A line\r\ntwo'] },
      { line: 2, cells: [42, -1500, 7, 12] },
      { line: 3, cells: [{ date: '2023-03-15' }, { date: '2023-03-15T18:00:00' }, { date: '1900-01-01T12:00:00' }, { date: '2024-02-29' }] },
      { line: 4, cells: [true, false, { problem: 'an error value (#N/A)' }, { problem: 'an error value (#DIV/0!)' }] },
      {
        line: 5,
        cells: ['SB00001x', 42, { problem: 'a formula without a saved value: open the file in Excel and save it again, or paste values' }, 'inline'],
      },
      { line: 6, cells: [null, 'inline rich'] },
      { line: 9, cells: [null, null, 'SB00001'] },
    ]);
  });

  it('counts dates from 1904 when the workbook says so', async () => {
    const file = await xlsxFile({
      date1904: true,
      styles: stylesPart([0, 14]),
      sheets: [{ name: 'Mac', data: '<row r="1"><c r="A1" s="1"><v>43465</v></c><c r="B1"><v>43465</v></c></row>' }],
    });
    expect(await allRows(file, 'mac.xlsx')).toEqual([{ line: 1, cells: [{ date: '2023-01-01' }, 43465] }]);
  });

  it('places cells and rows without r= after the previous one', async () => {
    const file = await xlsxFile({
      sheets: [
        {
          name: 'Bags',
          data:
            '<row><c t="inlineStr"><is><t>Parent</t></is></c><c t="inlineStr"><is><t>Child</t></is></c></row>' +
            '<row><c><v>1</v></c><c r="D2"><v>4</v></c><c><v>5</v></c></row>' +
            '<row r="10"><c r="B10"><v>2</v></c></row>' +
            '<row><c><v>11</v></c></row>',
        },
      ],
    });
    expect(await allRows(file, 'bags.xlsx')).toEqual([
      { line: 1, cells: ['Parent', 'Child'] },
      { line: 2, cells: [1, null, null, 4, 5] },
      { line: 10, cells: [null, 2] },
      { line: 11, cells: [11] },
    ]);
  });

  it('reads a sheet written by the OpenXML SDK (x: prefixes) and absolute relationship targets', async () => {
    const file = await xlsxFile({
      prefix: 'x',
      absoluteTargets: true,
      sharedStrings: ['Parent', 'Child'],
      sheets: [
        {
          name: 'Bags',
          data: '<x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c><x:c r="B1" t="s"><x:v>1</x:v></x:c></x:row><x:row r="2"><x:c r="A2"><x:v>3</x:v></x:c></x:row>',
        },
      ],
    });
    expect(await allRows(file, 'sdk.xlsx')).toEqual([
      { line: 1, cells: ['Parent', 'Child'] },
      { line: 2, cells: [3] },
    ]);
  });

  it('lists every sheet with its row count, and reads the one asked for, title rows included', async () => {
    const file = await xlsxFile({
      sheets: [
        { name: 'Read me', data: '<row r="1"><c r="A1" t="inlineStr"><is><t>Notes</t></is></c></row><row r="2"/><row r="3"><c r="A3" s="1"/></row>' },
        { name: 'Old & new', state: 'hidden', data: '' },
        { name: 'Chart', chart: true },
        {
          name: 'Bags',
          data: () =>
            (function* () {
              yield '<row r="1"><c r="A1" t="inlineStr"><is><t>Bag list, January</t></is></c></row>';
              yield* inlineRows(2500, (r, c) => (r === 3 ? ['Parent', 'Child'][c] : `${c ? 'C' : 'SB'}${r}`), 3);
            })(),
        },
      ],
    });
    expect(await inspectFile(file, 'book.xlsx')).toEqual({
      kind: 'xlsx',
      sheets: [
        { index: 0, name: 'Read me', rows: 1 },
        { index: 1, name: 'Old & new', rows: 0, hidden: true },
        { index: 2, name: 'Chart', rows: null, problem: '“Chart” is a chart, not a sheet of cells: choose another sheet' },
        { index: 3, name: 'Bags', rows: 2501 },
      ],
    });
    // The title row is a row like any other: finding the header is the caller's job.
    const rows = await allRows(file, 'book.xlsx', { kind: 'xlsx', sheet: 3 });
    expect(rows).toHaveLength(2501);
    expect(rows.slice(0, 3)).toEqual([
      { line: 1, cells: ['Bag list, January'] },
      { line: 3, cells: ['Parent', 'Child'] },
      { line: 4, cells: ['SB4', 'C4'] },
    ]);
    expect(rows.at(-1)).toEqual({ line: 2502, cells: ['SB2502', 'C2502'] });
    expect(await allRows(file, 'book.xlsx', { kind: 'xlsx' })).toEqual([{ line: 1, cells: ['Notes'] }]); // the first sheet by default
  });

  it('turns over-long cells into problems: shared, inline, and a number', async () => {
    const long = 'x'.repeat(10_001);
    const file = await xlsxFile(
      {
        sharedStrings: [long, 'ok', 'y'.repeat(10_000)],
        sheets: [
          {
            name: 'Bags',
            data: () =>
              (function* () {
                yield '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>';
                // 30 MB in one inline cell, stored so that it passes the compression-ratio limit
                yield '<row r="2"><c r="A2" t="inlineStr"><is><t>';
                for (let i = 0; i < 30; i++) yield 'z'.repeat(1 << 20);
                yield `</t></is></c><c r="B2"><v>${'9'.repeat(20_000)}</v></c><c r="C2" t="inlineStr"><is><t>after</t></is></c></row>`;
              })(),
          },
        ],
      },
      'long.xlsx',
      true,
    );
    const rows = await allRows(file, 'long.xlsx');
    expect(rows[0].cells.slice(0, 2)).toEqual([TOO_LONG, 'ok']);
    expect(rows[0].cells[2]).toHaveLength(10_000);
    expect(rows[1]).toEqual({ line: 2, cells: [TOO_LONG, TOO_LONG, 'after'] });
  });

  it('reads the XML as Excel writes it: UTF-16 parts, CDATA, comments, quoted > and entities in attributes', async () => {
    const utf16 = (s: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')]);
    const parts = workbookParts({ sheets: [{ name: 'Tom & Co' }] });
    parts['xl/worksheets/sheet1.xml'] = utf16(
      '<?xml version="1.0" encoding="UTF-16"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><!-- made by hand --><sheetData>' +
        '<row r="1" note="a > b"><c r="A1" t="inlineStr"><is><t><![CDATA[<SB00001> & co]]></t></is></c><c r="B1" t="inlineStr"><is><t>東京</t></is></c></row>' +
        '</sheetData></worksheet>',
    );
    const file = fileOf('utf16.xlsx', await zipBuffer(parts));
    expect((await inspectFile(file, 'utf16.xlsx')).sheets[0]).toEqual({ index: 0, name: 'Tom & Co', rows: 1 });
    expect(await allRows(file, 'utf16.xlsx')).toEqual([{ line: 1, cells: ['<SB00001> & co', '東京'] }]);
  });

  it('hands on very wide rows in smaller batches, and refuses a sheet of more than 16 million cells', async () => {
    // A value at column XFD makes its row 16,384 cells: 40 bytes of XML each, 1,000 of them 16.4 million cells.
    const file = await xlsxFile({
      sheets: [
        {
          name: 'Wide',
          data: () =>
            Array.from({ length: 1000 }, (_, i) => `<row r="${i + 1}"><c r="A${i + 1}"><v>0</v></c><c r="XFD${i + 1}"><v>${i}</v></c></row>`),
        },
      ],
    });
    const sizes: number[] = [];
    const reading = (async () => {
      for await (const batch of readRows(file, 'wide.xlsx', { kind: 'xlsx' })) {
        sizes.push(batch.length);
        expect(batch.reduce((cells, row) => cells + row.cells.length, 0)).toBeLessThanOrEqual(BATCH_CELLS + 16_384);
        expect(batch[0].cells).toEqual([0, ...Array<null>(16_382).fill(null), batch[0].line - 1]);
      }
    })();
    expect(await refusal(reading)).toBe(
      'wide.xlsx: “Wide” holds more than 16,000,000 cells, counting the empty ones left of each row’s last value: clear the columns far to the right, or save the sheet as .csv',
    );
    expect(Math.max(...sizes)).toBe(Math.ceil(BATCH_CELLS / 16_384));
    expect(sizes.reduce((a, b) => a + b)).toBeGreaterThan(950);
  });

  it('closes the file when the reader stops early', async () => {
    const file = await xlsxFile({ sheets: [{ name: 'Bags', data: () => inlineRows(5000, (r, c) => `${c}-${r}`) }] });
    const before = openFiles();
    for await (const batch of readRows(file, 'bags.xlsx', { kind: 'xlsx' })) {
      expect(batch).toHaveLength(1000);
      break;
    }
    await eventually(() => openFiles() === before, 'the file is closed');
  });
});

describe('xlsx written by exceljs', () => {
  it('reads what exceljs writes: shared strings, numbers, dates, formulas, rich text, booleans, errors', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('Bags');
    ws.addRow(['Parent', 'Child', 'When', 'Count', 'Double', 'Note', 'Checked', 'Error']);
    ws.addRow([
      'SB00001',
      '0012',
      new Date(Date.UTC(2024, 2, 1, 9, 30)),
      7,
      { formula: 'D2*2', result: 14 },
      { richText: [{ text: 'fra' }, { font: { bold: true }, text: 'gile' }] },
      true,
      { error: '#REF!' },
    ]);
    ws.addRow([]);
    ws.addRow(['SB00002', 'C2']);
    ws.getCell('C2').numFmt = 'dd/mm/yyyy hh:mm';
    const file = fileOf('exceljs.xlsx', Buffer.from(await wb.xlsx.writeBuffer()));
    expect(await inspectFile(file, 'exceljs.xlsx')).toEqual({ kind: 'xlsx', sheets: [{ index: 0, name: 'Bags', rows: 3 }] });
    expect(await allRows(file, 'exceljs.xlsx')).toEqual([
      { line: 1, cells: ['Parent', 'Child', 'When', 'Count', 'Double', 'Note', 'Checked', 'Error'] },
      { line: 2, cells: ['SB00001', '0012', { date: '2024-03-01T09:30:00' }, 7, 14, 'fragile', true, { problem: 'an error value (#REF!)' }] },
      { line: 4, cells: ['SB00002', 'C2'] },
    ]);
  });

  it('reads what the exceljs streaming writer writes (inline strings, no styles)', async () => {
    const file = fileOf('stream.xlsx', Buffer.alloc(0));
    const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: false, useStyles: false });
    const ws = wb.addWorksheet('Bags');
    ws.addRow(['Parent Bag', 'Child Bag']).commit();
    for (let i = 0; i < 2345; i++) ws.addRow([`SB${i}`, `C${i}`]).commit();
    ws.commit();
    await wb.commit();
    const rows = await allRows(file, 'stream.xlsx');
    expect(rows).toHaveLength(2346);
    expect(rows.at(-1)).toEqual({ line: 2346, cells: ['SB2344', 'C2344'] });
  });
});
