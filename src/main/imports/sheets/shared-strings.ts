import { StringItem, TOO_LONG } from './cells';
import type { RawCell } from './types';
import { scanChunks, type Workbook } from './workbook';
import type { XmlHandler } from './xml';

const PAGE_BITS = 20;
const PAGE = 1 << PAGE_BITS;
/** Offsets are kept in blocks of this many, so growing never copies them (a copy would double the peak). */
const BLOCK_BITS = 20;
const BLOCK = 1 << BLOCK_BITS;

/**
 * The workbook's shared strings, kept compactly: the text as UTF-8 in 1 MiB pages (never more
 * bytes than sharedStrings.xml had) and one 32-bit offset per string, instead of a JavaScript
 * string each (a million of those cost ~40 MB and the garbage collector's time). A string never
 * straddles two pages; the end of a string is where the next one starts, or its page's end.
 * The most a file can make it hold is bounded by MAX_SHARED_STRINGS_BYTES: 128 MB of text, or
 * 27 million empty strings (`<si/>`) at 4 bytes each.
 */
export class SharedStrings {
  private readonly pages: Buffer[] = [];
  /** Bytes used in each page. */
  private readonly used: number[] = [];
  /** Where string i starts, page * PAGE + offset in the page: starts[i >> BLOCK_BITS][i & (BLOCK - 1)]. */
  private readonly starts: Uint32Array[] = [];
  private count = 0;
  /** Strings longer than MAX_CELL_CHARS, kept as the fact only. */
  private readonly tooLong = new Set<number>();

  get size(): number {
    return this.count;
  }

  add(item: string | RawCell): void {
    const block = this.count >>> BLOCK_BITS;
    if (block === this.starts.length) this.starts.push(new Uint32Array(block ? BLOCK : 1024));
    else if ((this.count & (BLOCK - 1)) === this.starts[block].length) {
      // The first block starts small (most workbooks have a few strings) and grows to BLOCK once.
      const grown = new Uint32Array(BLOCK);
      grown.set(this.starts[block]);
      this.starts[block] = grown;
    }
    let page = this.pages.length - 1;
    if (typeof item !== 'string') {
      this.tooLong.add(this.count);
      item = '';
    }
    const bytes = Buffer.byteLength(item);
    if (page < 0 || bytes > PAGE - this.used[page]) {
      this.pages.push(Buffer.allocUnsafeSlow(PAGE));
      this.used.push(0);
      page++;
    }
    this.starts[block][this.count++ & (BLOCK - 1)] = page * PAGE + this.used[page];
    this.used[page] += this.pages[page].write(item, this.used[page], 'utf8');
  }

  private startOf(index: number): number {
    return this.starts[index >>> BLOCK_BITS][index & (BLOCK - 1)];
  }

  /** String `index` as a cell: its text, TOO_LONG, or undefined when the file has no such string. */
  get(index: number): RawCell | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.count) return undefined;
    if (this.tooLong.size && this.tooLong.has(index)) return TOO_LONG;
    const start = this.startOf(index);
    const page = start >>> PAGE_BITS;
    const next = index + 1 < this.count ? this.startOf(index + 1) : -1;
    const end = next >= 0 && next >>> PAGE_BITS === page ? next & (PAGE - 1) : this.used[page];
    return this.pages[page].toString('utf8', start & (PAGE - 1), end);
  }
}

/** Collects every `<si>` of sharedStrings.xml into the store. */
class SharedStringsHandler implements XmlHandler {
  private readonly item = new StringItem();
  private inItem = false;

  constructor(private readonly store: SharedStrings) {}

  get wantsText(): boolean {
    return this.inItem && this.item.wantsText;
  }

  open(name: string): void {
    if (name === 'si') {
      this.inItem = true;
      this.item.start();
    } else if (this.inItem) {
      this.item.open(name);
    }
  }

  close(name: string): void {
    if (name === 'si') {
      this.inItem = false;
      this.store.add(this.item.result());
    } else if (this.inItem) {
      this.item.close(name);
    }
  }

  text(piece: string): void {
    this.item.text.add(piece);
  }
}

/** Streams sharedStrings.xml (its size was checked against MAX_SHARED_STRINGS_BYTES when the workbook opened). */
export async function loadSharedStrings(book: Workbook): Promise<SharedStrings> {
  const store = new SharedStrings();
  if (!book.sharedStrings) return store;
  for await (const _ of scanChunks(book, book.sharedStrings, new SharedStringsHandler(store), book.name));
  return store;
}
