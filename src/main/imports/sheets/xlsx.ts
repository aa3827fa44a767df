import {
  CappedText,
  FORMULA_WITHOUT_VALUE,
  StringItem,
  TOO_LONG,
  UNREADABLE_NUMBER,
  errorValue,
  isoDateCell,
  serialDateCell,
  unescapeOoxml,
} from './cells';
import { refusals } from './messages';
import { loadSharedStrings, type SharedStrings } from './shared-strings';
import { BATCH_CELLS, MAX_COLUMNS, nextBatch, waitingCells, type FileInfo, type RawCell, type SheetInfo, type SourceRow } from './types';
import { openWorkbook, scanChunks, type SheetEntry, type Workbook } from './workbook';
import type { XmlHandler, XmlTag } from './xml';

/** A sheet of wide rows is scanned this much at a time (~25 rows), so rows are handed on before many pile up. */
const WIDE_SLICE_CHARS = 1024;
/** A cell's address, type and style, read in one pass over its tag. */
const CELL_ATTRIBUTES = ['r', 't', 's'];
/**
 * Cells a sheet may hand on, counting the empty ones left of each row's last value: 8 bytes each,
 * so this bounds what a sheet can make the reader allocate (128 MB) whenever the garbage collector
 * runs. A 1,000,000-row two-column sheet is 2 million; 16 million is a million rows of 16 columns.
 * But a row of one value at column XFD is 40 bytes of XML and 16,384 cells: 200,000 such rows
 * (a 1.4 MB file) would be 3 billion cells to build and look through. Such a file is refused
 * after ~980 rows, in about a second.
 */
export const MAX_SHEET_CELLS = 16_000_000;
/** A gap of more empty cells than this before a value is filled by one allocation of the row's length. */
const LONG_GAP = 64;
/** Excel's longest sheet. */
const MAX_ROW_NUMBER = 1_048_576;

/** The 0-based column of a cell reference ("AB12", "$AB$12"), or -1 when it names none. */
export function columnOf(ref: string): number {
  let column = 0;
  for (let i = 0; i < ref.length; i++) {
    let c = ref.charCodeAt(i);
    if (c === 36) continue; // $
    if (c >= 97) c -= 32; // lower case
    if (c < 65 || c > 90) break;
    column = column * 26 + (c - 64);
    if (column > MAX_COLUMNS) return MAX_COLUMNS;
  }
  return column - 1;
}

/**
 * Turns `<sheetData>` into rows. `r` is optional on rows and cells, as the format allows: a row
 * without it follows the previous row, a cell without it follows the previous cell. Cells hold
 * their cached value (`<v>`), formulas included; inline strings are read like shared ones.
 */
class SheetRowsHandler implements XmlHandler {
  wantsText = false;
  /** Finished rows, taken by the reader in batches. */
  rows: SourceRow[] = [];
  private inData = false;
  private inRow = false;
  private line = 0;
  private cells: RawCell[] = [];
  private lastColumn = -1;
  // The cell being read.
  private inCell = false;
  private column = 0;
  private type = 'n';
  private style = 0;
  private hasFormula = false;
  private hasValue = false;
  private inValue = false;
  private inInline = false;
  private hasInline = false;
  private readonly value = new CappedText();
  private readonly inline = new StringItem();
  private readonly attributes: (string | undefined)[] = [undefined, undefined, undefined];

  /** Cells handed on so far, the empty ones left of each row's last value included. */
  private cellsRead = 0;

  constructor(
    private readonly book: Workbook,
    private readonly sheet: SheetEntry,
    private readonly strings: SharedStrings,
  ) {}

  open(name: string, tag: XmlTag): void {
    if (this.inCell) {
      if (name === 'v') {
        this.inValue = this.hasValue = this.wantsText = true;
      } else if (name === 'f') {
        this.hasFormula = true;
      } else if (name === 'is') {
        this.inInline = this.hasInline = true;
        this.inline.start();
      } else if (this.inInline) {
        this.inline.open(name);
        this.wantsText = this.inline.wantsText;
      }
    } else if (name === 'c' && this.inData) {
      if (!this.inRow) throw refusals.damaged(this.book.name);
      tag.attrs(CELL_ATTRIBUTES, this.attributes);
      const [ref, type, style] = this.attributes;
      this.column = ref === undefined ? this.lastColumn + 1 : columnOf(ref);
      if (this.column < 0) throw refusals.damaged(this.book.name);
      if (this.column >= MAX_COLUMNS) throw refusals.tooManyColumns(this.book.name, this.line, MAX_COLUMNS);
      this.type = type ?? 'n';
      this.style = style === undefined ? 0 : Number(style);
      this.inCell = true;
      this.hasFormula = this.hasValue = this.hasInline = false;
      this.value.reset();
    } else if (name === 'row') {
      if (!this.inData) return;
      const r = tag.attr('r');
      const line = r === undefined ? this.line + 1 : Number(r);
      if (!Number.isInteger(line) || line < 1 || line > MAX_ROW_NUMBER) throw refusals.damaged(this.book.name);
      this.line = line;
      this.cells = [];
      this.lastColumn = -1;
      this.inRow = true;
    } else if (name === 'sheetData') {
      this.inData = true;
    }
  }

  close(name: string): void {
    if (this.inCell) {
      if (name === 'c') {
        this.inCell = false;
        this.finishCell();
      } else if (name === 'v') {
        this.inValue = this.wantsText = false;
      } else if (name === 'is') {
        this.inInline = this.wantsText = false;
      } else if (this.inInline) {
        this.inline.close(name);
        this.wantsText = this.inline.wantsText;
      }
    } else if (name === 'row' && this.inRow) {
      this.inRow = false;
      if (!this.cells.length) return;
      this.rows.push({ line: this.line, cells: this.cells });
      this.cellsRead += this.cells.length;
      if (this.cellsRead > MAX_SHEET_CELLS) throw refusals.tooManyCells(this.book.name, this.sheet.name, MAX_SHEET_CELLS);
    } else if (name === 'sheetData') {
      this.inData = false;
    }
  }

  text(piece: string): void {
    if (this.inValue) this.value.add(piece);
    else this.inline.text.add(piece);
  }

  private finishCell(): void {
    this.lastColumn = this.column;
    const cell = this.cellValue();
    if (cell === null) return;
    let cells = this.cells;
    if (this.column - cells.length > LONG_GAP) {
      // One array of the row's exact length: growing one to column XFD would allocate it twice over.
      cells = new Array<RawCell>(this.column + 1).fill(null);
      for (let i = 0; i < this.cells.length; i++) cells[i] = this.cells[i];
      this.cells = cells;
    } else {
      while (cells.length < this.column) cells.push(null);
    }
    cells[this.column] = cell;
  }

  private cellValue(): RawCell {
    if (this.hasInline) return this.inline.result();
    if (!this.hasValue) return this.hasFormula ? FORMULA_WITHOUT_VALUE : null;
    if (this.value.tooLong) return TOO_LONG;
    const v = this.value.value;
    switch (this.type) {
      case 's': {
        if (v === '') return null;
        const text = this.strings.get(Number(v));
        if (text === undefined) throw refusals.damaged(this.book.name); // points past the shared strings
        return text === '' ? null : text;
      }
      case 'str':
      case 'inlineStr':
        return v === '' ? null : unescapeOoxml(v);
      case 'b':
        return v === '1' || v === 'true' ? true : v === '0' || v === 'false' ? false : UNREADABLE_NUMBER;
      case 'e':
        return errorValue(v);
      case 'd':
        return isoDateCell(v);
      default: {
        if (v === '') return null;
        const x = Number(v);
        if (!Number.isFinite(x)) return UNREADABLE_NUMBER;
        return this.book.dateStyles[this.style] === 1 ? serialDateCell(x, this.book.date1904) : x;
      }
    }
  }
}

/**
 * Counts the rows of `<sheetData>` that hold a value, a formula or an inline string, without
 * reading a cell: at a row's first value it skips to the row's end tag.
 */
class RowCounter implements XmlHandler {
  readonly wantsText = false;
  rows = 0;
  private inData = false;
  private inRow = false;

  open(name: string, tag: XmlTag): void {
    if (!this.inData) {
      this.inData = name === 'sheetData';
    } else if (name === 'row') {
      this.inRow = true;
    } else if (this.inRow && (name === 'v' || name === 'is' || name === 'f')) {
      this.rows++;
      this.inRow = false;
      tag.skipTo('row');
    }
  }

  close(name: string): void {
    if (name === 'row') this.inRow = false;
    else if (name === 'sheetData') this.inData = false;
  }

  text(): void {}
}

function sheetInfo(sheet: SheetEntry, rows: number | null): SheetInfo {
  return {
    index: sheet.index,
    name: sheet.name,
    rows,
    ...(sheet.hidden ? { hidden: true } : {}),
    ...(sheet.problem ? { problem: sheet.problem } : {}),
  };
}

/** Every sheet of the workbook, in order, with its rows counted (one streaming pass over each sheet, no cell read). */
export async function inspectXlsx(path: string, name: string): Promise<FileInfo> {
  const book = await openWorkbook(path, name);
  try {
    const sheets: SheetInfo[] = [];
    for (const sheet of book.sheets) {
      if (!sheet.part || sheet.problem) {
        sheets.push(sheetInfo(sheet, null));
        continue;
      }
      const counter = new RowCounter();
      for await (const _ of scanChunks(book, sheet.part, counter, name));
      sheets.push(sheetInfo(sheet, counter.rows));
    }
    return { kind: 'xlsx', sheets };
  } finally {
    book.zip.close();
  }
}

/** The sheet asked for, or the first sheet of cells. */
function chooseSheet(book: Workbook, index: number | undefined): SheetEntry {
  const sheet = index === undefined ? (book.sheets.find((s) => s.part) ?? book.sheets[0]) : book.sheets[index];
  if (!sheet) throw refusals.noSheet(book.name, index ?? 0);
  if (sheet.problem || !sheet.part) throw refusals.sheetRefused(book.name, sheet.problem ?? refusals.notCells(sheet.name, true));
  return sheet;
}

/** One sheet's rows in batches (nextBatch), streamed: the shared strings are in memory, the sheet never is. */
export async function* readXlsxRows(path: string, name: string, index: number | undefined): AsyncGenerator<SourceRow[]> {
  const book = await openWorkbook(path, name);
  try {
    const sheet = chooseSheet(book, index);
    const handler = new SheetRowsHandler(book, sheet, await loadSharedStrings(book));
    // Once rows prove wide (a chunk left more than a batch of cells waiting), the sheet is scanned
    // in slices of 1 KB: at most ~25 rows come from one slice, however wide. Narrow sheets are not
    // sliced, which would cost ~6% on a 1,000,000-row two-column sheet.
    let wide = false;
    for await (const _ of scanChunks(book, sheet.part!, handler, name, () => (wide ? WIDE_SLICE_CHARS : Infinity))) {
      wide ||= waitingCells(handler.rows) > BATCH_CELLS;
      for (let batch; (batch = nextBatch(handler.rows, false));) yield batch;
    }
    for (let batch; (batch = nextBatch(handler.rows, true));) yield batch;
  } finally {
    book.zip.close();
  }
}
