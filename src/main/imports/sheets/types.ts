/** What the sheet reader returns: cells as the file holds them, rows with the number a person sees. */

export type FileKind = 'xlsx' | 'csv';
export type Delimiter = ',' | ';' | '\t' | '|';
/** TextDecoder labels of the encodings a CSV file is read in. */
export type CsvEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

/** A cell as the file holds it. */
export type RawCell =
  /** empty or missing (an empty CSV field too) */
  | null
  /** text: shared string, inline string, a formula's cached string result, a CSV field */
  | string
  /** a numeric cell that is not date-formatted (a formula's cached number too) */
  | number
  | boolean
  /**
   * A date-formatted number (the cell's style has a built-in date format or a custom code with
   * d/m/y/h/s), counted from 1900 or 1904 as the workbook says, or a t="d" cell: yyyy-mm-dd, with
   * Thh:mm:ss when the time is not midnight.
   */
  | { date: string }
  /** Why the cell cannot be taken as written, in words a clerk understands. */
  | { problem: string };

export interface SourceRow {
  /** 1-based row number as Excel shows it (the `r` of `<row>`; for CSV the record number, as Excel opens it). */
  line: number;
  /** Cells by column (0 = A); missing cells in between are null, trailing empty cells are left off. */
  cells: RawCell[];
}

export interface SheetInfo {
  /** 0-based position in the workbook's sheet order; pass it to readRows as `sheet`. */
  index: number;
  name: string;
  /** Rows holding any value (a `<v>`, an inline string or a formula); null when not counted (CSV, or a sheet with a `problem`). */
  rows: number | null;
  /** Hidden in Excel (hidden or very hidden). */
  hidden?: boolean;
  /** Why this sheet cannot be read (a chart sheet, a sheet too big); readRows refuses it with this sentence. */
  problem?: string;
}

export interface FileInfo {
  kind: FileKind;
  sheets: SheetInfo[];
  /** CSV: the delimiter found in the first 64 KiB (a person may choose another). */
  delimiter?: Delimiter;
  /** CSV: the encoding found (byte-order mark, or the whole file checked as UTF-8, else windows-1252). */
  encoding?: CsvEncoding;
}

export interface ReadOptions {
  kind: FileKind;
  /** XLSX: the sheet's `index` from inspectFile; the first sheet of cells when left out. */
  sheet?: number;
  /** CSV: the delimiter to split on; detected as inspectFile does when left out. */
  delimiter?: Delimiter;
  /** CSV: the encoding inspectFile reported; detected again (a pass over the file) when left out. */
  encoding?: CsvEncoding;
}

/** Longest cell kept: longer text becomes a problem, and is never built as a string. */
export const MAX_CELL_CHARS = 10_000;
/** Rows per batch from readRows: one await per batch, not per row. */
export const BATCH_ROWS = 1000;
/**
 * Cells per batch, at most (give or take a row): a row holding one cell at column XFD is 40 bytes
 * of XML but 16,384 cells, so a batch of wide rows has fewer than BATCH_ROWS. 2 MB of cells: small
 * enough that a batch is gone by the next young-generation collection, instead of being promoted
 * and piling up until a full one (1,000,000 cells a batch peaked at 300–420 MB on such a sheet).
 * Rows of up to 250 cells still come 1,000 to a batch.
 */
export const BATCH_CELLS = 250_000;

/** Cells in rows waiting to be handed on. */
export function waitingCells(rows: SourceRow[]): number {
  let cells = 0;
  for (const row of rows) cells += row.cells.length;
  return cells;
}

/**
 * Takes the next batch off `rows` (waiting to be handed on): BATCH_ROWS rows, or fewer when they
 * hold BATCH_CELLS cells; with `last`, whatever is left. Undefined when no batch is ready.
 */
export function nextBatch(rows: SourceRow[], last: boolean): SourceRow[] | undefined {
  let cells = 0;
  let n = 0;
  while (n < rows.length && n < BATCH_ROWS && cells < BATCH_CELLS) cells += rows[n++].cells.length;
  return n === BATCH_ROWS || cells >= BATCH_CELLS || (last && n > 0) ? rows.splice(0, n) : undefined;
}
/** Excel's widest sheet (column XFD): a row wider than this is not from a spreadsheet. */
export const MAX_COLUMNS = 16_384;
