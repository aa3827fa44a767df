import fs from 'node:fs';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse';
import { DomainError } from '../../shared/envelope';

/** A cell as read from the file: its text, or the reason it cannot be an id. */
export type Cell = string | { problem: string };

export interface SourceRow {
  /** 1-based row number in the sheet or file, as a person sees it in Excel. */
  line: number;
  cells: Cell[];
}

export const MAX_CELL_CHARS = 10_000;
const MAX_CSV_RECORD_BYTES = 1_000_000;

export type FileKind = 'xlsx' | 'csv';

/** Decides the kind from the bytes, not the name: a renamed PDF or image is refused here. */
export async function sniffFile(path: string, name: string): Promise<FileKind> {
  const fd = await fs.promises.open(path, 'r');
  const head = Buffer.alloc(4096);
  const { bytesRead } = await fd.read(head, 0, head.length, 0);
  await fd.close();
  const bytes = head.subarray(0, bytesRead);
  if (bytesRead === 0) throw new DomainError('invalid', `${name} is empty`);
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) return 'xlsx';
  if (bytes[0] === 0xd0 && bytes[1] === 0xcf) {
    throw new DomainError('invalid', `${name} is an old Excel 97–2003 (.xls) file: save it as .xlsx or .csv and try again`);
  }
  if (bytes.subarray(0, 5).toString('latin1') === '%PDF-') throw new DomainError('invalid', `${name} is a PDF: choose an .xlsx or .csv file`);
  if (bytes.includes(0)) throw new DomainError('invalid', `${name} is not a spreadsheet (it holds binary data): choose an .xlsx or .csv file`);
  if (/\.xlsx$/i.test(name)) throw new DomainError('invalid', `${name} is named .xlsx but is not an Excel file: it may be damaged`);
  return 'csv';
}

function textCell(s: string): Cell {
  if (s.length > MAX_CELL_CHARS)
    return { problem: `a cell of ${s.length.toLocaleString('en-US')} characters (at most ${MAX_CELL_CHARS.toLocaleString('en-US')})` };
  return s;
}

/** CSV cells are strings already: only an over-long one becomes a problem (no object per cell). */
function csvCells(record: string[]): Cell[] {
  for (let i = 0; i < record.length; i++) if (record[i].length > MAX_CELL_CHARS) return record.map(textCell);
  return record;
}

/** An Excel cell value → text, or why it is not usable as an id. */
export function excelCell(v: unknown): Cell {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return textCell(v);
  if (typeof v === 'number') return { problem: `a number (${v}), not text: format the id column as Text so leading zeros survive` };
  if (typeof v === 'boolean') return { problem: `a TRUE/FALSE value` };
  if (v instanceof Date) return { problem: `a date (${v.toISOString().slice(0, 10)}), not an id` };
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('formula' in o || 'sharedFormula' in o) return { problem: 'a formula: paste the values instead' };
    if (Array.isArray(o.richText)) return textCell((o.richText as { text: string }[]).map((r) => r.text).join(''));
    if (typeof o.text === 'string') return textCell(o.text); // hyperlink cell
    if ('error' in o) return { problem: `an error value (${String(o.error)})` };
  }
  return { problem: 'a value Dockside cannot read as text' };
}

const BATCH = 1000;

/**
 * Streams rows from an XLSX (first worksheet) or CSV file, in batches of up to 1,000: one await
 * per batch rather than per row (per-row async steps cost as much as the parsing), and never
 * the whole file in memory.
 */
export async function* readRows(path: string, kind: FileKind, name: string): AsyncGenerator<SourceRow[]> {
  let batch: SourceRow[] = [];
  if (kind === 'csv') {
    const parser = fs
      .createReadStream(path, { highWaterMark: 1 << 20 })
      .pipe(parse({ bom: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: false, max_record_size: MAX_CSV_RECORD_BYTES }));
    // A record is one spreadsheet row, whatever line breaks sit inside quotes: number records.
    let line = 0;
    try {
      for await (const record of parser as AsyncIterable<string[]>) {
        batch.push({ line: ++line, cells: csvCells(record) });
        if (batch.length === BATCH) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length) yield batch;
    } catch (error) {
      throw new DomainError('invalid', `${name} cannot be read as CSV: ${(error as Error).message.split('\n')[0].slice(0, 200)}`);
    }
    return;
  }
  let reader: ExcelJS.stream.xlsx.WorkbookReader;
  try {
    // Styles are read so date-formatted cells arrive as dates, not as serial numbers.
    reader = new ExcelJS.stream.xlsx.WorkbookReader(path, {
      sharedStrings: 'cache',
      worksheets: 'emit',
      hyperlinks: 'ignore',
      styles: 'cache',
      entries: 'ignore',
    });
  } catch (error) {
    throw new DomainError('invalid', `${name} cannot be opened as an Excel file: ${(error as Error).message}`);
  }
  try {
    for await (const sheet of reader) {
      for await (const row of sheet as AsyncIterable<ExcelJS.Row>) {
        const values = Array.isArray(row.values) ? row.values.slice(1) : [];
        batch.push({ line: row.number, cells: values.map(excelCell) });
        if (batch.length === BATCH) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length) yield batch;
      return; // the first worksheet only
    }
  } catch (error) {
    if (error instanceof DomainError) throw error;
    throw new DomainError(
      'invalid',
      `${name} is not a readable Excel file (damaged or not .xlsx): ${(error as Error).message.split('\n')[0].slice(0, 200)}`,
    );
  }
}
