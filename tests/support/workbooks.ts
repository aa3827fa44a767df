/**
 * Spreadsheet files made in code for the sheet reader's tests and bench/hostile.ts: workbooks
 * written part by part (the XML by hand, so every corner of the format can be reached), zips
 * with lying tables of contents, OLE files. Big parts are generated as streams, never in memory.
 */
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import yazl from 'yazl';

/** A part's content: text, bytes, or a generator for parts too big to hold. */
export type PartContent = string | Buffer | (() => AsyncIterable<string | Buffer> | Iterable<string | Buffer>);
export type Parts = Record<string, PartContent>;

export interface ZipOptions {
  /** Store instead of deflate (a big part then passes the compression-ratio check). */
  store?: boolean;
  /** deflate level, 1–9 */
  level?: number;
}

function zipOf(parts: Parts, options: ZipOptions = {}): yazl.ZipFile {
  const zip = new yazl.ZipFile();
  const entry = options.store ? { compress: false } : { compress: true, compressionLevel: options.level ?? 6 };
  const mtime = new Date(Date.UTC(2026, 0, 1));
  for (const [name, content] of Object.entries(parts)) {
    if (typeof content === 'function') {
      const chunks = content();
      async function* asBuffers() {
        for await (const chunk of chunks) yield typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      }
      zip.addReadStream(Readable.from(asBuffers()), name, { ...entry, mtime });
    } else {
      zip.addBuffer(typeof content === 'string' ? Buffer.from(content) : content, name, { ...entry, mtime });
    }
  }
  zip.end();
  return zip;
}

export async function zipBuffer(parts: Parts, options?: ZipOptions): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of zipOf(parts, options).outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function writeZip(file: string, parts: Parts, options?: ZipOptions): Promise<void> {
  await pipeline(zipOf(parts, options).outputStream, fs.createWriteStream(file));
}

/**
 * A zip of small parts, stored, written by hand: yazl takes time quadratic in the number of
 * entries (100,000 take minutes). Past 65,535 entries the end record is in ZIP64 form, as yazl
 * and Excel write it.
 */
export function storedZip(parts: Record<string, string | Buffer>): Buffer {
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  const names = Object.keys(parts);
  for (const name of names) {
    const data = Buffer.from(parts[name]);
    const fileName = Buffer.from(name);
    const header = (size: number) => {
      const b = Buffer.alloc(size);
      b.writeUInt16LE(0x0800, size === 30 ? 6 : 8); // names in UTF-8
      b.writeUInt32LE(zlib.crc32(data), size === 30 ? 14 : 16);
      b.writeUInt32LE(data.length, size === 30 ? 18 : 20);
      b.writeUInt32LE(data.length, size === 30 ? 22 : 24);
      b.writeUInt16LE(fileName.length, size === 30 ? 26 : 28);
      return b;
    };
    const local = header(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    const record = header(46);
    record.writeUInt32LE(0x02014b50, 0);
    record.writeUInt16LE(20, 4);
    record.writeUInt16LE(20, 6);
    record.writeUInt32LE(offset, 42);
    chunks.push(local, fileName, data);
    central.push(record, fileName);
    offset += local.length + fileName.length + data.length;
  }
  const directory = Buffer.concat(central);
  const count = names.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Math.min(count, 0xffff), 8);
  end.writeUInt16LE(Math.min(count, 0xffff), 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  if (count <= 0xffff) return Buffer.concat([...chunks, directory, end]);
  const zip64 = Buffer.alloc(56 + 20);
  zip64.writeUInt32LE(0x06064b50, 0);
  zip64.writeBigUInt64LE(44n, 4);
  zip64.writeUInt16LE(45, 12);
  zip64.writeUInt16LE(45, 14);
  zip64.writeBigUInt64LE(BigInt(count), 24);
  zip64.writeBigUInt64LE(BigInt(count), 32);
  zip64.writeBigUInt64LE(BigInt(directory.length), 40);
  zip64.writeBigUInt64LE(BigInt(offset), 48);
  zip64.writeUInt32LE(0x07064b50, 56); // its locator
  zip64.writeBigUInt64LE(BigInt(offset + directory.length), 64);
  zip64.writeUInt32LE(1, 72);
  return Buffer.concat([...chunks, directory, zip64, end]);
}

const MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const PKG_REL = 'http://schemas.openxmlformats.org/package/2006/relationships';
const XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

export const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export interface HandSheet {
  name: string;
  /** The inside of `<sheetData>`, or a whole part with `part`. */
  data?: PartContent;
  part?: PartContent;
  state?: 'hidden' | 'veryHidden';
  /** A chart sheet: listed, not readable. */
  chart?: boolean;
}

export interface HandWorkbook {
  sheets: HandSheet[];
  /** Shared strings as plain texts, or the whole sharedStrings.xml. */
  sharedStrings?: string[] | PartContent;
  /** The whole styles.xml. */
  styles?: string;
  date1904?: boolean;
  /** Relationship targets as absolute part names (`/xl/worksheets/sheet1.xml`), as some writers do. */
  absoluteTargets?: boolean;
  /** Written by the OpenXML SDK: every element in an `x:` prefix. */
  prefix?: string;
}

/** A worksheet part around the given `<sheetData>` content. */
export function sheetPart(data: PartContent, prefix = ''): PartContent {
  const p = prefix ? `${prefix}:` : '';
  const ns = prefix ? `xmlns:${prefix}="${MAIN}"` : `xmlns="${MAIN}"`;
  const head = `${XML_HEAD}<${p}worksheet ${ns} xmlns:r="${REL}"><${p}dimension ref="A1"/><${p}sheetData>`;
  const tail = `</${p}sheetData><${p}pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></${p}worksheet>`;
  if (typeof data !== 'function') return head + data.toString() + tail;
  return async function* () {
    yield head;
    yield* data();
    yield tail;
  };
}

/** The parts of an .xlsx as Excel lays them out, from sheets written by hand. */
export function workbookParts(book: HandWorkbook): Parts {
  const p = book.prefix ? `${book.prefix}:` : '';
  const ns = book.prefix ? `xmlns:${book.prefix}="${MAIN}"` : `xmlns="${MAIN}"`;
  const target = (t: string) => (book.absoluteTargets ? `/xl/${t}` : t);
  const parts: Parts = {};
  const rels: string[] = [];
  const overrides: string[] = [];
  const sheetTags = book.sheets.map((sheet, i) => {
    const id = `rId${i + 1}`;
    const file = sheet.chart ? `chartsheets/sheet${i + 1}.xml` : `worksheets/sheet${i + 1}.xml`;
    const type = sheet.chart ? 'chartsheet' : 'worksheet';
    rels.push(`<Relationship Id="${id}" Type="${REL}/${type}" Target="${target(file)}"/>`);
    overrides.push(`<Override PartName="/xl/${file}" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.${type}+xml"/>`);
    parts[`xl/${file}`] = sheet.chart
      ? `${XML_HEAD}<chartsheet xmlns="${MAIN}" xmlns:r="${REL}"><drawing r:id="rId1"/></chartsheet>`
      : (sheet.part ?? sheetPart(sheet.data ?? '', book.prefix));
    return `<${p}sheet name="${escapeXml(sheet.name)}" sheetId="${i + 1}"${sheet.state ? ` state="${sheet.state}"` : ''} r:id="${id}"/>`;
  });
  const n = book.sheets.length;
  if (book.sharedStrings !== undefined) {
    rels.push(`<Relationship Id="rId${n + 1}" Type="${REL}/sharedStrings" Target="${target('sharedStrings.xml')}"/>`);
    parts['xl/sharedStrings.xml'] = Array.isArray(book.sharedStrings)
      ? `${XML_HEAD}<sst xmlns="${MAIN}" count="${book.sharedStrings.length}" uniqueCount="${book.sharedStrings.length}">${book.sharedStrings
          .map((s) => `<si><t xml:space="preserve">${escapeXml(s)}</t></si>`)
          .join('')}</sst>`
      : book.sharedStrings;
  }
  if (book.styles !== undefined) {
    rels.push(`<Relationship Id="rId${n + 2}" Type="${REL}/styles" Target="${target('styles.xml')}"/>`);
    parts['xl/styles.xml'] = book.styles;
  }
  parts['xl/workbook.xml'] =
    `${XML_HEAD}<${p}workbook ${ns} xmlns:r="${REL}"><${p}workbookPr${book.date1904 ? ' date1904="1"' : ''}/><${p}sheets>${sheetTags.join('')}</${p}sheets></${p}workbook>`;
  parts['xl/_rels/workbook.xml.rels'] = `${XML_HEAD}<Relationships xmlns="${PKG_REL}">${rels.join('')}</Relationships>`;
  parts['_rels/.rels'] =
    `${XML_HEAD}<Relationships xmlns="${PKG_REL}"><Relationship Id="rId1" Type="${REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>`;
  parts['[Content_Types].xml'] =
    `${XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>${overrides.join('')}</Types>`;
  return parts;
}

/** styles.xml with the given custom number formats and one cell style per entry of `cellFormats` (numFmtId). */
export function stylesPart(cellFormats: number[], custom: Record<number, string> = {}): string {
  const numFmts = Object.entries(custom).map(([id, code]) => `<numFmt numFmtId="${id}" formatCode="${escapeXml(code)}"/>`);
  return (
    `${XML_HEAD}<styleSheet xmlns="${MAIN}">` +
    (numFmts.length ? `<numFmts count="${numFmts.length}">${numFmts.join('')}</numFmts>` : '') +
    `<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills>` +
    `<borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="22" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
    `<cellXfs count="${cellFormats.length}">${cellFormats.map((id) => `<xf numFmtId="${id}" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>`).join('')}</cellXfs>` +
    `<dxfs count="1"><dxf><numFmt numFmtId="14" formatCode="d/m/yyyy"/></dxf></dxfs></styleSheet>`
  );
}

/** Rows `first` to `first + rows - 1` of two inline-string cells each, as sheet XML (with addresses, as Excel writes them). */
export function* inlineRows(rows: number, cell: (row: number, column: number) => string, first = 1): Generator<string> {
  let chunk = '';
  for (let r = first; r < first + rows; r++) {
    chunk += `<row r="${r}" spans="1:2"><c r="A${r}" t="inlineStr"><is><t>${cell(r, 0)}</t></is></c><c r="B${r}" t="inlineStr"><is><t>${cell(r, 1)}</t></is></c></row>`;
    if (chunk.length > 1 << 16) {
      yield chunk;
      chunk = '';
    }
  }
  yield chunk;
}

/** `count` times `text`, in pieces of about 1 MiB: a huge cell without a huge string. */
export function* repeated(text: string, count: number): Generator<string> {
  const per = Math.max(1, Math.floor((1 << 20) / text.length));
  const piece = text.repeat(per);
  for (let left = count; left > 0; left -= per) yield left >= per ? piece : text.repeat(left);
}

/** Where each entry's central directory record is, by name. */
function centralRecords(zip: Buffer): Map<string, number> {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const records = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const nameLength = zip.readUInt16LE(at + 28);
    records.set(zip.toString('utf8', at + 46, at + 46 + nameLength), at);
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return records;
}

/** What the table of contents says of a part's size, packed and unpacked. */
export function entrySizes(zip: Buffer, name: string): { compressed: number; uncompressed: number } {
  const at = centralRecords(zip).get(name);
  if (at === undefined) throw new Error(`no ${name} in the zip`);
  return { compressed: zip.readUInt32LE(at + 20), uncompressed: zip.readUInt32LE(at + 24) };
}

/**
 * Rewrites what the table of contents says about a part — sizes a hostile file would claim, or
 * the "encrypted" flag — without touching its data.
 */
export function patchEntry(zip: Buffer, name: string, patch: { uncompressedSize?: number; compressedSize?: number; encrypted?: boolean }): Buffer {
  const out = Buffer.from(zip);
  const at = centralRecords(out).get(name);
  if (at === undefined) throw new Error(`no ${name} in the zip`);
  if (patch.uncompressedSize !== undefined) out.writeUInt32LE(patch.uncompressedSize, at + 24);
  if (patch.compressedSize !== undefined) out.writeUInt32LE(patch.compressedSize, at + 20);
  if (patch.encrypted) {
    out.writeUInt16LE(out.readUInt16LE(at + 8) | 1, at + 8);
    const local = out.readUInt32LE(at + 42);
    out.writeUInt16LE(out.readUInt16LE(local + 6) | 1, local + 6);
  }
  return out;
}

/**
 * A minimal OLE compound file (the container of old .xls files and of password-protected .xlsx)
 * whose directory names the given streams: enough for a reader that looks at the names.
 */
export function oleFile(streams: string[]): Buffer {
  const SECTOR = 512;
  const FREE = 0xffffffff;
  const END = 0xfffffffe;
  const FAT = 0xfffffffd;
  const entries = ['Root Entry', ...streams];
  const dirSectors = Math.ceil(entries.length / 4);
  const file = Buffer.alloc(SECTOR * (2 + dirSectors));
  Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(file, 0);
  file.writeUInt16LE(0x3e, 0x18); // minor version
  file.writeUInt16LE(3, 0x1a); // major version: 512-byte sectors
  file.writeUInt16LE(0xfffe, 0x1c); // byte order
  file.writeUInt16LE(9, 0x1e); // sector shift
  file.writeUInt16LE(6, 0x20); // mini sector shift
  file.writeUInt32LE(1, 0x2c); // FAT sectors
  file.writeUInt32LE(1, 0x30); // first directory sector
  file.writeUInt32LE(4096, 0x38); // mini stream cutoff
  file.writeUInt32LE(END, 0x3c); // first mini FAT sector
  file.writeUInt32LE(END, 0x44); // first DIFAT sector
  file.writeUInt32LE(0, 0x4c); // the FAT is sector 0
  for (let i = 1; i < 109; i++) file.writeUInt32LE(FREE, 0x4c + i * 4);
  // Sector 0: the FAT. Sector 0 is the FAT itself; sectors 1.. the directory chain.
  const fat = SECTOR;
  for (let i = 0; i < SECTOR / 4; i++) file.writeUInt32LE(FREE, fat + i * 4);
  file.writeUInt32LE(FAT, fat);
  for (let s = 1; s <= dirSectors; s++) file.writeUInt32LE(s === dirSectors ? END : s + 1, fat + s * 4);
  entries.forEach((entryName, i) => {
    const at = SECTOR * 2 + i * 128;
    file.write(entryName, at, 'utf16le');
    file.writeUInt16LE((entryName.length + 1) * 2, at + 0x40);
    file[at + 0x42] = i === 0 ? 5 : 2; // root storage, or a stream
    file.writeUInt32LE(FREE, at + 0x44);
    file.writeUInt32LE(FREE, at + 0x48);
    file.writeUInt32LE(i === 0 && entries.length > 1 ? 1 : FREE, at + 0x4c);
    file.writeUInt32LE(END, at + 0x74);
  });
  return file;
}
