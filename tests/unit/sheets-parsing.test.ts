import { describe, expect, it } from 'vitest';
import {
  CappedText,
  TOO_LONG as TOO_LONG_CELL,
  isBuiltinDateFormat,
  isDateFormatCode,
  isoDateCell,
  serialToIso,
  unescapeOoxml,
} from '../../src/main/imports/sheets/cells';
import { CsvRecords, detectDelimiter } from '../../src/main/imports/sheets/csv';
import { SharedStrings } from '../../src/main/imports/sheets/shared-strings';
import { columnOf } from '../../src/main/imports/sheets/xlsx';
import { resolveTarget } from '../../src/main/imports/sheets/workbook';
import { MAX_CELL_CHARS, type SourceRow } from '../../src/main/imports/sheets/types';
import { XmlDamage, XmlScanner, type XmlHandler } from '../../src/main/imports/sheets/xml';

/** Every event the scanner reports, text joined per run, with the attributes `r` and `t` of each start tag. */
function events(chunks: string[], textIn = ['t', 'v']): string[] {
  const out: string[] = [];
  let text = '';
  const open: string[] = [];
  const flush = () => {
    if (text) out.push(`text:${text}`);
    text = '';
  };
  const handler: XmlHandler = {
    get wantsText() {
      return textIn.includes(open[open.length - 1]);
    },
    open(name, tag) {
      flush();
      open.push(name);
      out.push(`open:${name} r=${tag.attr('r') ?? '-'} t=${tag.attr('t') ?? '-'}`);
    },
    close(name) {
      flush();
      open.pop();
      out.push(`close:${name}`);
    },
    text(piece) {
      text += piece;
    },
  };
  const scanner = new XmlScanner(handler);
  for (const chunk of chunks) scanner.write(chunk);
  scanner.end();
  return out;
}

/** The same text cut at every position into two chunks, and into one-character chunks. */
function splits(s: string): string[][] {
  const out = [[s], [...s]];
  for (let i = 1; i < s.length; i++) out.push([s.slice(0, i), s.slice(i)]);
  return out;
}

const XML =
  '<?xml version="1.0" encoding="UTF-8"?>\n<!-- a comment with <tags> --><x:sheetData xmlns:x="urn:x"><x:row r="2" spans="1:2">' +
  '<x:c r="A2" t=\'s\' weird="a>b"><x:v>7</x:v></x:c><c t="inlineStr"><is><t xml:space="preserve"> a &amp; b &lt;&#233;&#x4E2D;&gt; </t></is></c>' +
  '<c><v><![CDATA[1<2]]></v></c><c r="C2"/></x:row ></x:sheetData>';

describe('XML scanner', () => {
  it('reports the same events wherever the chunks are cut', () => {
    const expected = events([XML]);
    expect(expected).toEqual([
      'open:sheetData r=- t=-',
      'open:row r=2 t=-',
      'open:c r=A2 t=s',
      'open:v r=- t=-',
      'text:7',
      'close:v',
      'close:c',
      'open:c r=- t=inlineStr',
      'open:is r=- t=-',
      'open:t r=- t=-',
      'text: a & b <é中> ',
      'close:t',
      'close:is',
      'close:c',
      'open:c r=- t=-',
      'open:v r=- t=-',
      'text:1<2',
      'close:v',
      'close:c',
      'open:c r=C2 t=-',
      'close:c',
      'close:row',
      'close:sheetData',
    ]);
    for (const chunks of splits(XML)) expect(events(chunks)).toEqual(expected);
  });

  it('skips text nobody asked for', () => {
    expect(events(['<a><b>hidden</b><t>shown</t></a>'], ['t'])).toEqual([
      'open:a r=- t=-',
      'open:b r=- t=-',
      'close:b',
      'open:t r=- t=-',
      'text:shown',
      'close:t',
      'close:a',
    ]);
  });

  it.each([
    ['a tag left open at the end', '<a><b></b>'],
    ['an end tag that closes another element', '<a><b></a></b>'],
    ['a part cut inside a tag', '<a><b r="1'],
    ['a DOCTYPE (it could declare entities)', '<!DOCTYPE a [<!ENTITY x "y">]><a/>'],
    ['no XML at all', '   '],
    ['two root elements', '<a/><b/>'],
    ['a < inside a tag', '<a <b/>'],
  ])('finds damage: %s', (_, xml) => {
    expect(() => events([xml])).toThrow(XmlDamage);
  });

  it('refuses a tag longer than 64 KB instead of holding it, and elements nested 257 deep', () => {
    expect(() => events(['<a>'.repeat(257) + '</a>'.repeat(257)])).toThrow(XmlDamage);
    expect(events(['<a>'.repeat(256) + '</a>'.repeat(256)])).toHaveLength(512);
    const scanner = new XmlScanner({ wantsText: false, open() {}, close() {}, text() {} });
    scanner.write('<a><b attr="');
    expect(() => {
      for (let i = 0; i < 20; i++) scanner.write('x'.repeat(10_000));
    }).toThrow(XmlDamage);
  });

  it('skips to the end of an element, wherever the chunks are cut', () => {
    const xml = '<x:d xmlns:x="u"><x:row><x:c><x:v>1</x:v></x:c><x:c><x:v>2</x:v></x:c></x:row><x:rows/><x:row><x:c/></x:row ></x:d>';
    const run = (chunks: string[]) => {
      const seen: string[] = [];
      const scanner = new XmlScanner({
        wantsText: false,
        open(name, tag) {
          seen.push(name);
          if (name === 'v') tag.skipTo('row');
        },
        close(name) {
          seen.push(`/${name}`);
        },
        text() {},
      });
      for (const chunk of chunks) scanner.write(chunk);
      scanner.end();
      return seen.join(' ');
    };
    for (const chunks of splits(xml)) expect(run(chunks)).toBe('d row c v /row rows /rows row c /c /row /d');
  });
});

describe('cells', () => {
  it('keeps text up to the limit and then only the fact it was too long', () => {
    const text = new CappedText();
    text.add('a'.repeat(MAX_CELL_CHARS - 1));
    text.add('b');
    expect(text.value).toHaveLength(MAX_CELL_CHARS);
    expect(text.tooLong).toBe(false);
    text.add('c');
    expect(text).toMatchObject({ tooLong: true, value: '' });
    text.add('d'.repeat(1_000_000));
    expect(text.value).toBe('');
  });

  it.each([
    [1, false, '1900-01-01'],
    [59, false, '1900-02-28'],
    [60, false, '1900-02-29'], // Excel's Lotus 1-2-3 leap day
    [61, false, '1900-03-01'],
    [44927, false, '2023-01-01'],
    [45000.5, false, '2023-03-15T12:00:00'],
    [45000.999999, false, '2023-03-16'],
    [0, true, '1904-01-01'],
    [43465, true, '2023-01-01'],
    [2958465, false, '9999-12-31'],
  ])('serial %s (1904: %s) is %s', (serial, date1904, iso) => {
    expect(serialToIso(serial, date1904)).toBe(iso);
  });

  it('has no date for serials Excel cannot show', () => {
    expect(serialToIso(-1, false)).toBeNull();
    expect(serialToIso(2958466, false)).toBeNull();
  });

  it('reads t="d" cells', () => {
    expect(isoDateCell('2024-03-01T00:00:00Z')).toEqual({ date: '2024-03-01' });
    expect(isoDateCell('2024-03-01T13:45:10.250')).toEqual({ date: '2024-03-01T13:45:10' });
    expect(isoDateCell('2024-03-01T13:45')).toEqual({ date: '2024-03-01T13:45:00' });
    expect(isoDateCell('yesterday')).toEqual({ problem: 'a date that cannot be read (yesterday)' });
  });

  it.each([
    ['yyyy-mm-dd', true],
    ['d/m/yyyy h:mm', true],
    ['[$-409]mmmm d, yyyy;@', true],
    ['[h]:mm:ss', true],
    ['hh:mm AM/PM', true],
    ['General', false],
    ['0.00', false],
    ['#,##0 "days"', false],
    ['0.0\\h', false],
    ['[Red]0;[Blue]-0', false],
    ['_(* #,##0_);_(* (#,##0);_(* "-"_);_(@_)', false],
    ['@', false],
  ])('format %s is a date: %s', (code, date) => {
    expect(isDateFormatCode(code)).toBe(date);
  });

  it('knows the built-in date formats', () => {
    expect([13, 14, 22, 23, 45, 47, 48].map(isBuiltinDateFormat)).toEqual([false, true, true, false, true, true, false]);
  });

  it('unescapes the characters Excel writes as _xHHHH_', () => {
    expect(unescapeOoxml('a_x000D__x000A_b_x005F_x0041_')).toBe('a\r\nb_x0041_');
  });

  it('reads cell references and part targets', () => {
    expect(['A1', 'Z9', 'AA10', '$AB$3', 'xfd1', '1'].map(columnOf)).toEqual([0, 25, 26, 27, 16383, -1]);
    expect(resolveTarget('xl/workbook.xml', 'worksheets/sheet1.xml')).toBe('xl/worksheets/sheet1.xml');
    expect(resolveTarget('xl/workbook.xml', '/xl/worksheets/sheet1.xml')).toBe('xl/worksheets/sheet1.xml');
    expect(resolveTarget('xl/workbook.xml', '../xl/./worksheets/My%20Sheet.xml')).toBe('xl/worksheets/My Sheet.xml');
    expect(resolveTarget('', 'xl/workbook.xml')).toBe('xl/workbook.xml');
  });
});

describe('shared strings store', () => {
  it('gives back every string, across pages and offset blocks, with the over-long ones as problems', () => {
    const store = new SharedStrings();
    // 1.2 million strings: past one block of offsets, over many 1 MiB pages, some multi-byte, some empty.
    const text = (i: number) => (i % 97 === 0 ? '' : i % 13 === 0 ? `é東${i}€` : `C${i}`.padEnd(i % 40, 'x'));
    for (let i = 0; i < 1_200_000; i++) store.add(i === 5 ? TOO_LONG_CELL : text(i));
    store.add('y'.repeat(MAX_CELL_CHARS));
    expect(store.size).toBe(1_200_001);
    for (let i = 0; i < 1_200_000; i += i < 5000 ? 1 : 7) expect(store.get(i)).toBe(i === 5 ? TOO_LONG_CELL : text(i));
    expect(store.get(1_200_000)).toBe('y'.repeat(MAX_CELL_CHARS));
    expect([store.get(-1), store.get(1_200_001), store.get(1.5), store.get(NaN)]).toEqual([undefined, undefined, undefined, undefined]);
  });
});

function csvRows(chunks: string[], delimiter: ',' | ';' | '\t' | '|' = ','): SourceRow[] {
  const parser = new CsvRecords(delimiter, 'bags.csv');
  for (const chunk of chunks) parser.write(chunk);
  parser.end();
  return parser.rows;
}

describe('CSV records', () => {
  const text = 'Parent,Child\r\nSB1,"C,1"\r\n\r\n"SB ""2""","multi\r\nline"\rSB3,C3\n,,\n"x"y,z ,\nlast,"';

  it('splits like Excel, wherever the chunks are cut', () => {
    const expected = [
      { line: 1, cells: ['Parent', 'Child'] },
      { line: 2, cells: ['SB1', 'C,1'] },
      { line: 4, cells: ['SB "2"', 'multi\r\nline'] },
      { line: 5, cells: ['SB3', 'C3'] },
      { line: 7, cells: ['xy', 'z '] },
      { line: 8, cells: ['last'] }, // an empty last field is a trailing empty cell
    ];
    const closed = text + '"';
    expect(csvRows([closed])).toEqual(expected);
    for (const chunks of splits(closed)) expect(csvRows(chunks)).toEqual(expected);
  });

  it('says so when a quote is never closed', () => {
    expect(() => csvRows([text])).toThrow(
      'bags.csv has a quote (") on line 8 that is never closed: fix the quotes in a text editor, or save the file from Excel again',
    );
  });

  it('turns an over-long field into a problem, wherever it is cut', () => {
    const long = 'x'.repeat(MAX_CELL_CHARS + 1);
    for (const chunks of [[`a,${long},b\n`], [`a,${long.slice(0, 5000)}`, `${long.slice(5000)},b\n`], [`a,"${long}`, '",b\n']])
      expect(csvRows(chunks)).toEqual([{ line: 1, cells: ['a', { problem: 'a cell of more than 10,000 characters' }, 'b'] }]);
  });

  it('detects each delimiter, respecting quotes', () => {
    for (const d of [',', ';', '\t', '|'] as const) {
      const sample = `Parent${d}Child${d}Note\r\nSB1${d}C1${d}"a, b; c|d\te"\r\nSB2${d}C2${d}x\r\n`;
      expect(detectDelimiter(sample, true)).toBe(d);
    }
    expect(detectDelimiter('Parent;Child;Weight\nSB1;C1;1,5\nSB1;C2;2,0\n', true)).toBe(';');
    expect(detectDelimiter('a;b,c\nd;e,f\n', true)).toBe(','); // a tie
    expect(detectDelimiter('SB00001\nSB00002\n', true)).toBe(','); // one column
    // The sample's last, cut-off record does not count.
    expect(detectDelimiter('a;b\nc;d\ne;f\ng,h,i,j,k', false)).toBe(';');
  });
});
