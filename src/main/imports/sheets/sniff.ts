import fs from 'node:fs';
import { refusals } from './messages';
import type { CsvEncoding, FileKind } from './types';

/** What the first bytes say: the kind, and for text in UTF-16 the encoding (its zero bytes are not binary data). */
export interface Sniffed {
  kind: FileKind;
  utf16?: Extract<CsvEncoding, 'utf-16le' | 'utf-16be'>;
}

const HEAD_BYTES = 4096;
const OLE_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
/** Directory sectors followed at most: the streams of a workbook are named in the first few. */
const OLE_MAX_DIRECTORY_SECTORS = 64;

/**
 * Decides the kind from the bytes, not the name: a renamed PDF, image or old .xls is refused here
 * with the reason, before anything is parsed.
 */
export async function sniff(path: string, name: string): Promise<Sniffed> {
  const fd = await fs.promises.open(path, 'r');
  try {
    const head = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fd.read(head, 0, head.length, 0);
    const bytes = head.subarray(0, bytesRead);
    if (bytesRead === 0) throw refusals.empty(name);
    if (bytes.length >= 4 && bytes.readUInt32BE(0) === 0x504b0304) return { kind: 'xlsx' };
    if (bytes.subarray(0, 8).equals(OLE_MAGIC)) {
      // Excel saves a password-protected .xlsx inside an OLE file too, beside the old .xls format.
      if ((await oleStreamNames(fd, bytes)).some((s) => s === 'EncryptedPackage' || s === 'EncryptionInfo')) throw refusals.passwordProtected(name);
      throw refusals.oldExcel(name);
    }
    if (bytes.subarray(0, 5).toString('latin1') === '%PDF-') throw refusals.pdf(name);
    const utf16 = utf16Of(bytes);
    if (utf16) return { kind: 'csv', utf16 };
    if (bytes.includes(0)) throw refusals.binary(name);
    if (/\.xlsx$/i.test(name)) throw refusals.xlsxNameNotZip(name);
    return { kind: 'csv' };
  } finally {
    await fd.close();
  }
}

/**
 * UTF-16 text, by its byte-order mark (Excel's "Unicode Text") or, without one, by the zero byte
 * every Latin character brings in every other position.
 */
function utf16Of(bytes: Buffer): Sniffed['utf16'] {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  if (bytes.length < 16) return undefined;
  let evenZeros = 0;
  let oddZeros = 0;
  const pairs = bytes.length >> 1;
  for (let i = 0; i < pairs * 2; i += 2) {
    if (bytes[i] === 0) evenZeros++;
    if (bytes[i + 1] === 0) oddZeros++;
  }
  if (oddZeros > pairs * 0.4 && evenZeros < pairs * 0.02) return 'utf-16le';
  if (evenZeros > pairs * 0.4 && oddZeros < pairs * 0.02) return 'utf-16be';
  return undefined;
}

/**
 * The names of the streams in an OLE compound file's directory (the header gives the first
 * directory sector; the allocation table, the next ones).
 */
async function oleStreamNames(fd: fs.promises.FileHandle, header: Buffer): Promise<string[]> {
  if (header.length < 512) return [];
  const sectorSize = 1 << header.readUInt16LE(0x1e);
  if (sectorSize !== 512 && sectorSize !== 4096) return [];
  const perFatSector = sectorSize / 4;
  const read = async (position: number, length: number) => {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await fd.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  };
  const names: string[] = [];
  let sector = header.readUInt32LE(0x30);
  for (let n = 0; n < OLE_MAX_DIRECTORY_SECTORS && sector < 0xfffffffa; n++) {
    const directory = await read((sector + 1) * sectorSize, sectorSize);
    for (let at = 0; at + 128 <= directory.length; at += 128) {
      const length = directory.readUInt16LE(at + 0x40);
      if (length >= 2 && length <= 64) names.push(directory.toString('utf16le', at, at + length - 2));
    }
    // The next directory sector, from the allocation table sector the header's list points to.
    const fatIndex = Math.floor(sector / perFatSector);
    if (fatIndex >= 109) break;
    const fatSector = header.readUInt32LE(0x4c + fatIndex * 4);
    const next = await read((fatSector + 1) * sectorSize + (sector % perFatSector) * 4, 4);
    if (next.length < 4) break;
    sector = next.readUInt32LE(0);
  }
  return names;
}
