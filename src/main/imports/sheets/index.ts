/**
 * Reads spreadsheets people upload (.xlsx and CSV) safely: hostile files — zip bombs, gigabyte
 * cells, binary junk, files that are not what their name says — are refused with a sentence the
 * person can act on, and memory stays small whatever the file holds.
 *
 *   const info = await inspectFile(path, name);        // kind, sheets with row counts, CSV delimiter and encoding
 *   for await (const batch of readRows(path, name, { kind: info.kind, sheet: 0, delimiter: info.delimiter, encoding: info.encoding })) …
 *
 * Every failure is a DomainError('invalid', sentence) that names the file. Plain Node, no
 * Electron and no database: it runs in a worker thread.
 */
import path from 'node:path';
import { DomainError } from '../../../shared/envelope';
import { detectDelimiter, detectEncoding, readCsvRows, readSample } from './csv';
import { refusals } from './messages';
import { sniff } from './sniff';
import type { FileInfo, ReadOptions, SourceRow } from './types';
import { inspectXlsx, readXlsxRows } from './xlsx';

export { MAX_CELL_CHARS, MAX_COLUMNS, BATCH_ROWS, BATCH_CELLS } from './types';
export type { CsvEncoding, Delimiter, FileInfo, FileKind, RawCell, ReadOptions, SheetInfo, SourceRow } from './types';
export { MAX_CSV_RECORD_CHARS } from './csv';
export { MAX_SHEET_CELLS } from './xlsx';
export { MAX_RATIO, MAX_SHARED_STRINGS_BYTES, MAX_SHEET_BYTES, MAX_UNPACKED_BYTES, MAX_ZIP_ENTRIES, RATIO_CHECKED_FROM } from './zip';

/**
 * Failures the reading code did not put into words (the disk refusing a read, a file gone before
 * it was read) get a sentence too: a person never sees an error's own text.
 */
function asRefusal(error: unknown, name: string): DomainError {
  return error instanceof DomainError ? error : refusals.unreadable(name);
}

/**
 * What the file is and what it holds. XLSX: every sheet in workbook order with the rows it holds
 * (one streaming pass per sheet). CSV: one sheet named after the file (rows not counted), its
 * delimiter (from the first 64 KiB) and its encoding (a pass over the file's bytes).
 */
export async function inspectFile(file: string, name: string): Promise<FileInfo> {
  try {
    const sniffed = await sniff(file, name);
    if (sniffed.kind === 'xlsx') return await inspectXlsx(file, name);
    const encoding = await detectEncoding(file, name, sniffed);
    const { sample, complete } = await readSample(file, encoding);
    return {
      kind: 'csv',
      sheets: [{ index: 0, name: path.parse(name).name || name, rows: null }],
      delimiter: detectDelimiter(sample, complete),
      encoding,
    };
  } catch (error) {
    throw asRefusal(error, name);
  }
}

/**
 * The rows of one sheet (XLSX) or of the file (CSV), in batches of at most 1,000 (fewer when the
 * rows are very wide: BATCH_CELLS), streamed: the file is never in memory whole. Rows that hold no value are left out; `line` is the row number
 * Excel shows. The bytes are sniffed again, so a file is never read as what it is not.
 */
export async function* readRows(file: string, name: string, opts: ReadOptions): AsyncGenerator<SourceRow[]> {
  try {
    const sniffed = await sniff(file, name);
    if (sniffed.kind !== opts.kind) throw sniffed.kind === 'xlsx' ? refusals.notCsv(name) : refusals.notXlsx(name);
    if (sniffed.kind === 'xlsx') {
      yield* readXlsxRows(file, name, opts.sheet);
      return;
    }
    const encoding = opts.encoding ?? (await detectEncoding(file, name, sniffed));
    let delimiter = opts.delimiter;
    if (!delimiter) {
      const { sample, complete } = await readSample(file, encoding);
      delimiter = detectDelimiter(sample, complete);
    }
    yield* readCsvRows(file, name, encoding, delimiter);
  } catch (error) {
    throw asRefusal(error, name);
  }
}
