import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inspectFile } from '../../src/main/imports/sheets';
import { releaseAll } from '../support/cleanup';
import { allRows, eventually, fileOf, openFiles, refusal, refusals } from '../support/sheets';
import { entrySizes, oleFile, patchEntry, repeated, sheetPart, storedZip, workbookParts, zipBuffer, type Parts } from '../support/workbooks';

/**
 * Hostile and broken files, small on disk: each is refused with its sentence, by inspectFile and
 * by readRows alike, and leaves no file open. Bombs are refused from the zip's table of contents,
 * before anything is inflated: several here have tables of contents that lie about data that is
 * not there, and would read as "damaged" if a byte were inflated.
 */

const MiB = 1 << 20;
const SHEET = 'xl/worksheets/sheet1.xml';
const TWO_ROWS =
  '<row r="1"><c r="A1" t="inlineStr"><is><t>Parent</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>SB00001</t></is></c></row>';
const book = (extra: Parts = {}) => ({ ...workbookParts({ sheets: [{ name: 'Bags', data: TWO_ROWS }] }), ...extra });
const damaged = (name: string) => `${name} is damaged or not a complete Excel file: open it in Excel and save it again`;

let filesBefore = 0;
beforeEach(() => {
  filesBefore = openFiles();
});
afterEach(async () => {
  await eventually(() => openFiles() <= filesBefore, 'every file the reader opened is closed');
  await releaseAll();
});

/** The same sentence from inspectFile and readRows. */
async function refusedWith(name: string, bytes: Buffer, sentence: string, kind: 'xlsx' | 'csv' = 'xlsx'): Promise<void> {
  expect(await refusals(fileOf(name, bytes), name, kind)).toEqual([sentence, sentence]);
}

describe('zip bombs and their kin, refused before inflating', () => {
  it('a sheet that unpacks a thousand times larger than it is stored', async () => {
    const zip = await zipBuffer(book({ [SHEET]: sheetPart(() => repeated(' ', 64 * MiB)) }), { level: 9 });
    const { compressed, uncompressed } = entrySizes(zip, SHEET);
    const ratio = Math.round(uncompressed / compressed).toLocaleString('en-US');
    expect(zip.length).toBeLessThan(MiB);
    await refusedWith(
      'bomb.xlsx',
      zip,
      `bomb.xlsx holds a part that unpacks ${ratio} times larger than it is stored (a spreadsheet stays under 200 times): it is built to exhaust the computer (a "zip bomb"), so Dockside does not open it. Ask for the file as saved by Excel`,
    );
  });

  it('parts that claim more than 1 GB together', async () => {
    let zip = await zipBuffer(book({ 'xl/media/a.bin': 'a', 'xl/media/b.bin': 'b' }));
    zip = patchEntry(zip, 'xl/media/a.bin', { uncompressedSize: 600 * MiB, compressedSize: 4 * MiB });
    zip = patchEntry(zip, 'xl/media/b.bin', { uncompressedSize: 600 * MiB, compressedSize: 4 * MiB });
    await refusedWith(
      'big.xlsx',
      zip,
      'big.xlsx unpacks to 1.2 GB, more than the 1 GB Dockside reads: it is not an ordinary spreadsheet. Save the sheet you need as .csv, or split it into smaller files',
    );
  });

  it('a zip of more than 10,000 files, in a ZIP64 end record as past 65,535', async () => {
    const parts = book() as Record<string, string>;
    for (let i = 0; i < 70_000; i++) parts[`customXml/item${i}.xml`] = '';
    await refusedWith(
      'many.xlsx',
      storedZip(parts),
      'many.xlsx holds 70,005 files inside (an Excel workbook holds a few dozen; Dockside reads at most 10,000): it is not an ordinary spreadsheet. Open it in Excel and save the sheet you need as a new .xlsx or .csv file',
    );
    const few = { ...book(), 'customXml/item0.xml': '' } as Record<string, string>;
    expect(await allRows(fileOf('few.xlsx', storedZip(few)), 'few.xlsx')).toHaveLength(2); // the hand-made zip itself reads
  });

  it('shared strings too big to hold', async () => {
    const parts = workbookParts({ sheets: [{ name: 'Bags', data: TWO_ROWS }], sharedStrings: ['a'] });
    const zip = patchEntry(await zipBuffer(parts), 'xl/sharedStrings.xml', { uncompressedSize: 200 * MiB, compressedSize: 2 * MiB });
    await refusedWith(
      'text.xlsx',
      zip,
      'text.xlsx holds 200 MB of text, more than the 128 MB Dockside reads: split it into smaller files or save the sheet as .csv',
    );
  });

  it('one sheet too big: listed with its reason, the others readable', async () => {
    const parts = workbookParts({
      sheets: [
        { name: 'Huge', data: TWO_ROWS },
        { name: 'Bags', data: TWO_ROWS },
      ],
    });
    const file = fileOf('huge.xlsx', patchEntry(await zipBuffer(parts), SHEET, { uncompressedSize: 600 * MiB, compressedSize: 4 * MiB }));
    const problem = '“Huge” unpacks to 600 MB, more than the 512 MB Dockside reads in one sheet: split it into smaller files or save it as .csv';
    expect(await inspectFile(file, 'huge.xlsx')).toEqual({
      kind: 'xlsx',
      sheets: [
        { index: 0, name: 'Huge', rows: null, problem },
        { index: 1, name: 'Bags', rows: 2 },
      ],
    });
    expect(await refusal(allRows(file, 'huge.xlsx', { kind: 'xlsx', sheet: 0 }))).toBe(`huge.xlsx: ${problem}`);
    expect(await allRows(file, 'huge.xlsx', { kind: 'xlsx', sheet: 1 })).toHaveLength(2);
  });

  it('a part that inflates to more than its table of contents says', async () => {
    const zip = await zipBuffer(book({ [SHEET]: sheetPart(TWO_ROWS + '<row r="3"/>'.repeat(10_000)) }));
    await refusedWith('lies.xlsx', patchEntry(zip, SHEET, { uncompressedSize: 300 }), damaged('lies.xlsx'));
  });
});

describe('files that are not workbooks', () => {
  it('a password-protected workbook (Excel wraps it in an OLE file)', async () => {
    await refusedWith(
      'locked.xlsx',
      oleFile(['EncryptionInfo', 'EncryptedPackage', '\u0006DataSpaces']),
      'locked.xlsx is password-protected: save it without a password and try again',
    );
  });

  it('a zip whose parts are encrypted', async () => {
    const zip = patchEntry(await zipBuffer(book()), SHEET, { encrypted: true });
    await refusedWith('zipcrypto.xlsx', zip, 'zipcrypto.xlsx is password-protected: save it without a password and try again');
  });

  it('an old .xls, even named .xlsx', async () => {
    await refusedWith(
      'old.xlsx',
      oleFile(['Workbook', '\u0005SummaryInformation']),
      'old.xlsx is an old Excel 97–2003 (.xls) file: save it as .xlsx or .csv and try again',
    );
  });

  it('a zip of something else, a Word document, an OpenDocument sheet, a binary workbook', async () => {
    await refusedWith(
      'photos.xlsx',
      await zipBuffer({ 'readme.txt': 'hello' }),
      'photos.xlsx is a zip file but not an Excel workbook: choose an .xlsx or .csv file',
    );
    const docx = {
      '_rels/.rels':
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
      'word/document.xml': '<w:document xmlns:w="urn:w"><w:body/></w:document>',
    };
    await refusedWith('letter.xlsx', await zipBuffer(docx), 'letter.xlsx is a zip file but not an Excel workbook: choose an .xlsx or .csv file');
    await refusedWith(
      'calc.xlsx',
      await zipBuffer({ mimetype: 'application/vnd.oasis.opendocument.spreadsheet', 'content.xml': '<office:document-content/>' }),
      'calc.xlsx is an OpenDocument file (LibreOffice, OpenOffice): save it as .xlsx or .csv and try again',
    );
    await refusedWith(
      'binary.xlsx',
      await zipBuffer({ 'xl/workbook.bin': 'x' }),
      'binary.xlsx is an Excel binary workbook (.xlsb): save it as .xlsx or .csv and try again',
    );
  });

  it('a PDF, binary data, a text file named .xlsx, an empty file', async () => {
    await refusedWith('scan.xlsx', Buffer.from('%PDF-1.7\n1 0 obj\n'), 'scan.xlsx is a PDF: choose an .xlsx or .csv file');
    await refusedWith(
      'photo.csv',
      Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46]),
      'photo.csv is not a spreadsheet (it holds binary data): choose an .xlsx or .csv file',
      'csv',
    );
    await refusedWith('bags.xlsx', Buffer.from('Parent,Child\nSB00001,C1\n'), 'bags.xlsx is named .xlsx but is not an Excel file: it may be damaged');
    await refusedWith('nothing.csv', Buffer.alloc(0), 'nothing.csv is empty', 'csv');
  });

  it('a file gone from the disk, or a folder', async () => {
    const gone = fileOf('gone.xlsx', 'x') + '.missing';
    expect(await refusals(gone, 'gone.xlsx')).toEqual([
      'gone.xlsx could not be read from the disk: upload it again',
      'gone.xlsx could not be read from the disk: upload it again',
    ]);
    const folder = path.dirname(gone);
    expect(await refusal(inspectFile(folder, 'folder.csv'))).toBe('folder.csv could not be read from the disk: upload it again');
  });

  it('a workbook read as CSV, and CSV read as a workbook', async () => {
    expect(await refusal(allRows(fileOf('a.csv', await zipBuffer(book())), 'a.csv', { kind: 'csv' }))).toBe(
      'a.csv is an Excel file, not a CSV file: read it as .xlsx',
    );
    expect(await refusal(allRows(fileOf('b.csv', 'a,b\n'), 'b.csv', { kind: 'xlsx' }))).toBe(
      'b.csv is a text (CSV) file, not an Excel file: read it as CSV',
    );
  });
});

describe('damaged workbooks', () => {
  it('a download cut short', async () => {
    const zip = await zipBuffer(book());
    await refusedWith('cut.xlsx', zip.subarray(0, zip.length >> 1), damaged('cut.xlsx'));
  });

  it('damaged compressed data', async () => {
    const zip = await zipBuffer(
      book({ [SHEET]: sheetPart(Array.from({ length: 2000 }, (_, i) => `<row r="${i + 1}"><c><v>${i * 7919}</v></c></row>`).join('')) }),
    );
    const at = zip.indexOf(Buffer.from(SHEET)) + SHEET.length + 200; // inside the sheet's deflated data
    const broken = Buffer.from(zip);
    for (let i = 0; i < 64; i++) broken[at + i] ^= 0x5a;
    await refusedWith('noise.xlsx', broken, damaged('noise.xlsx'));
  });

  it.each([
    ['tags that do not match', sheetPart('<row r="1"><c><v>1</c></v></row>')],
    ['a sheet cut off in the middle', sheetPart(TWO_ROWS).toString().slice(0, -60)],
    ['a DOCTYPE', '<!DOCTYPE worksheet [<!ENTITY lol "lol">]>' + sheetPart(TWO_ROWS).toString()],
    ['a cell outside any row', sheetPart('<c><v>1</v></c>')],
    ['a shared string that is not there', sheetPart('<row r="1"><c t="s"><v>5</v></c></row>')],
    ['a row number that is not one', sheetPart('<row r="first"><c><v>1</v></c></row>')],
  ])('%s', async (_, sheet) => {
    await expect(refusal(allRows(fileOf('bad.xlsx', await zipBuffer(book({ [SHEET]: sheet }))), 'bad.xlsx'))).resolves.toBe(damaged('bad.xlsx'));
  });

  it('a sheet that the workbook names but the zip does not hold', async () => {
    const parts = book();
    delete parts[SHEET];
    await refusedWith('lost.xlsx', await zipBuffer(parts), damaged('lost.xlsx'));
  });

  it('a cell beyond Excel’s last column', async () => {
    const zip = await zipBuffer(book({ [SHEET]: sheetPart('<row r="7"><c r="XFE7"><v>1</v></c></row>') }));
    expect(await refusal(allRows(fileOf('wide.xlsx', zip), 'wide.xlsx'))).toBe(
      'wide.xlsx has more than 16,384 columns on row 7, more than Excel allows: it is not a list of rows. Check that it is the right file',
    );
  });
});
