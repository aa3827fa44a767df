import yauzl from 'yauzl';
import { DomainError } from '../../../shared/envelope';
import { refusals } from './messages';

/**
 * An .xlsx file's zip, opened from its central directory (the table of contents at the end of the
 * file) with the limits checked before a single byte is inflated. yauzl then checks every entry
 * against the sizes it declared while inflating it, so a part cannot unpack to more than the
 * table of contents said: the limits below hold for what is actually read.
 */

const MiB = 1 << 20;
const GiB = 1 << 30;

/** Excel writes 10–30 files into a workbook, a few hundred with many sheets and pictures. */
export const MAX_ZIP_ENTRIES = 10_000;
/**
 * Everything inside, unpacked. A 1,000,000-row two-column workbook is about 110–150 MB unpacked
 * (its sheet plus shared strings), and Excel's own row limit puts a ten-column one near 600 MB.
 */
export const MAX_UNPACKED_BYTES = GiB;
/**
 * Spreadsheet XML deflates 10–40 times, rarely 100; a gigabyte of zeros deflates about 1,000
 * times. Parts under a few MB are let through at any ratio: they cannot do harm.
 */
export const MAX_RATIO = 200;
export const RATIO_CHECKED_FROM = 4 * MiB;
/** One sheet unpacked: a 1,000,000-row two-column sheet is 110–130 MB, so four times that and more. */
export const MAX_SHEET_BYTES = 512 * MiB;
/**
 * sharedStrings.xml unpacked. It is held in memory (as UTF-8, no larger than the XML), so this
 * bounds what a file can make the reader keep: a million different 10-character ids are ~30 MB,
 * two million 20-character ones ~70 MB.
 */
export const MAX_SHARED_STRINGS_BYTES = 128 * MiB;
/** workbook.xml, styles.xml and relationship parts: a few KB normally, a few MB at most. */
export const MAX_SMALL_PART_BYTES = 64 * MiB;

export interface ZipPart {
  /** Its name in the zip, as written. */
  name: string;
  size: number;
  entry: yauzl.Entry;
}

/** yauzl's words for a zip-encrypted entry; everything else it says means a damaged file. */
const ENCRYPTED = /encrypt/i;

/** Any failure while reading a workbook, in the person's words: limits pass through, the rest is "damaged". */
export function asRefusal(error: unknown, name: string): DomainError {
  if (error instanceof DomainError) return error;
  if (error instanceof Error && ENCRYPTED.test(error.message)) return refusals.passwordProtected(name);
  return refusals.damaged(name);
}

export class WorkbookZip {
  /** By lower-case name: part names in a package are case-insensitive. */
  private readonly parts = new Map<string, ZipPart>();

  private constructor(
    private readonly zip: yauzl.ZipFile,
    private readonly name: string,
  ) {}

  /**
   * Opens the zip and reads its table of contents, refusing (in this order) too many entries,
   * too much unpacked data and a part packed too tightly, all before inflating anything.
   */
  static async open(path: string, name: string): Promise<WorkbookZip> {
    let zip: yauzl.ZipFile;
    try {
      zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false, validateEntrySizes: true, decodeStrings: true });
    } catch (error) {
      throw asRefusal(error, name);
    }
    const book = new WorkbookZip(zip, name);
    try {
      if (zip.entryCount > MAX_ZIP_ENTRIES) throw refusals.tooManyParts(name, zip.entryCount, MAX_ZIP_ENTRIES);
      // The whole table of contents first (at most MAX_ZIP_ENTRIES records), so the sentence names the true total.
      let unpacked = 0;
      let tightest = 0;
      for await (const entry of zip.eachEntry()) {
        unpacked += entry.uncompressedSize;
        if (entry.uncompressedSize > RATIO_CHECKED_FROM) tightest = Math.max(tightest, entry.uncompressedSize / Math.max(1, entry.compressedSize));
        const key = entry.fileName.toLowerCase();
        if (book.parts.has(key)) throw refusals.damaged(name); // two parts of one name: not a zip Excel wrote
        book.parts.set(key, { name: entry.fileName, size: entry.uncompressedSize, entry });
      }
      if (unpacked > MAX_UNPACKED_BYTES) throw refusals.unpacksTooBig(name, unpacked, MAX_UNPACKED_BYTES);
      if (tightest > MAX_RATIO) throw refusals.packedTooTight(name, tightest, MAX_RATIO);
      return book;
    } catch (error) {
      book.close();
      throw asRefusal(error, name);
    }
  }

  part(partName: string): ZipPart | undefined {
    return this.parts.get(partName.toLowerCase());
  }

  has(partName: string): boolean {
    return this.parts.has(partName.toLowerCase());
  }

  /**
   * A part's text as it inflates, in chunks of about 16 KB: UTF-8, or UTF-16 when the part starts
   * with its byte-order mark (OOXML allows both). Errors are the person's sentences.
   */
  async *text(part: ZipPart): AsyncGenerator<string> {
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.zip.openReadStreamPromise(part.entry);
    } catch (error) {
      throw asRefusal(error, this.name);
    }
    let decoder: InstanceType<typeof TextDecoder> | undefined;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        decoder ??= new TextDecoder(
          chunk[0] === 0xff && chunk[1] === 0xfe ? 'utf-16le' : chunk[0] === 0xfe && chunk[1] === 0xff ? 'utf-16be' : 'utf-8',
        );
        const text = decoder.decode(chunk, { stream: true });
        if (text) yield text;
      }
      const rest = decoder?.decode();
      if (rest) yield rest;
    } catch (error) {
      throw asRefusal(error, this.name);
    } finally {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
    }
  }

  close(): void {
    this.zip.close();
  }
}
