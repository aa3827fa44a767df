import type { Delimiter, ImportColumn, ImportMapping, ImportReadOptions } from '../../shared/contract/imports';
import { DomainError } from '../../shared/envelope';
import { guessMapping } from './mapping';
import { inspectFile, readRows, type FileInfo, type FileKind, type RawCell, type SourceRow } from './sheets';
import type { Upload } from './uploads';

/** Rows looked at to find the header row and to show the person the top of the sheet. */
const HEAD_ROWS = 12;
/** A chosen header row must be this near the top: the rows above it are read before any data. */
const MAX_HEADER_LINE = 5_000;
const SAMPLES = 4;
/** Columns offered in the preview (and the most a mapping may name). */
const MAX_COLUMNS = 200;

/** A cell as the preview shows it. */
export function displayCell(c: RawCell | undefined): string {
  if (c === null || c === undefined) return '';
  if (typeof c === 'string') return c.trim();
  if (typeof c === 'number') return String(c);
  if (typeof c === 'boolean') return c ? 'TRUE' : 'FALSE';
  if ('date' in c) return c.date;
  return '⚠';
}

/** "A", "B", … "Z", "AA": the spreadsheet's own column names. */
export function columnLetter(i: number): string {
  let s = '';
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

const filled = (r: SourceRow) => r.cells.reduce<number>((n, c) => n + (displayCell(c) === '' ? 0 : 1), 0);

/**
 * The header row among the first rows: the first whose names give parent and child columns;
 * else the first row of two or more cells that are all text and not all ids (title rows above a
 * table have one cell); 0 when the first full row already looks like data (no header row).
 */
export function detectHeaderLine(head: SourceRow[]): number {
  const named = head.find((r) => guessMapping(r.cells.map(displayCell)) !== null);
  if (named) return named.line;
  const table = head.find((r) => filled(r) >= 2);
  if (!table) return head.find((r) => filled(r) > 0)?.line ?? 0;
  const values = table.cells.filter((c) => displayCell(c) !== '');
  const looksLikeData = values.some((c) => typeof c !== 'string') || values.every((c) => /\d/.test(displayCell(c)));
  return looksLikeData ? 0 : table.line;
}

export interface OpenedSheet {
  kind: FileKind;
  info: FileInfo;
  sheet: number;
  delimiter: Delimiter | null;
  headerLine: number;
  headers: string[];
  firstRows: { line: number; cells: string[] }[];
  columns: ImportColumn[];
  mapping: ImportMapping | null;
  /** The data rows below the header, in batches. */
  rows: AsyncGenerator<SourceRow[]>;
}

/** Reads rows until `enough` says stop; returns them and the generator positioned after them. */
async function readHead(batches: AsyncGenerator<SourceRow[]>, enough: (rows: SourceRow[]) => boolean): Promise<SourceRow[]> {
  const head: SourceRow[] = [];
  while (!enough(head)) {
    const r = await batches.next();
    if (r.done) break;
    head.push(...r.value);
  }
  return head;
}

/**
 * An uploaded file opened for reading as the person chose, or as detected: the sheet (the first
 * whose header names parent and child columns, else the first with rows), the CSV delimiter, the
 * header row (title rows above it skipped), the columns with samples, then the data rows.
 */
export async function openSheet(upload: Upload, options: ImportReadOptions & { mapping?: ImportMapping } = {}): Promise<OpenedSheet> {
  const info = await inspectFile(upload.path, upload.name);
  const delimiter = info.kind === 'csv' ? (options.delimiter ?? info.delimiter ?? ',') : null;
  if (options.sheet !== undefined && !info.sheets.some((s) => s.index === options.sheet))
    throw new DomainError('invalid', `${upload.name} has no sheet ${options.sheet + 1}: choose one of its ${info.sheets.length} sheets`);
  const open = (sheet: number) =>
    readRows(upload.path, upload.name, {
      kind: info.kind,
      sheet,
      ...(delimiter ? { delimiter } : {}),
      ...(info.encoding ? { encoding: info.encoding } : {}),
    });
  const headerLine = options.headerLine;
  if (headerLine !== undefined && headerLine > MAX_HEADER_LINE)
    throw new DomainError('invalid', `The header row must be within the first ${MAX_HEADER_LINE.toLocaleString('en-US')} rows`);
  const enough = (rows: SourceRow[]) =>
    rows.filter((r) => filled(r) > 0).length >= HEAD_ROWS + 1 && (headerLine === undefined || (rows.at(-1)?.line ?? 0) > headerLine);

  // The sheet: as chosen; else the first whose header row names the columns; else the first with rows.
  let sheet = options.sheet;
  let batches: AsyncGenerator<SourceRow[]> | undefined;
  let head: SourceRow[] = [];
  if (sheet === undefined) {
    const candidates = info.sheets.filter((s) => s.rows !== 0 && !s.problem);
    if (candidates.length === 0) {
      const problem = info.sheets.find((s) => s.problem)?.problem;
      throw new DomainError('invalid', problem ?? `${upload.name} has no rows: every sheet is empty`);
    }
    for (const s of candidates) {
      const b = open(s.index);
      const h = await readHead(b, enough);
      const line = headerLine ?? detectHeaderLine(h.filter((r) => filled(r) > 0).slice(0, HEAD_ROWS));
      const row = h.find((r) => r.line === line);
      if (sheet === undefined || (row && guessMapping(row.cells.map(displayCell)))) {
        if (batches) await batches.return(undefined);
        sheet = s.index;
        batches = b;
        head = h;
        if (row && guessMapping(row.cells.map(displayCell))) break;
      } else await b.return(undefined);
    }
  } else {
    batches = open(sheet);
    head = await readHead(batches, enough);
  }
  const shown = head.filter((r) => filled(r) > 0);
  if (shown.length === 0) throw new DomainError('invalid', `${upload.name} has no rows: the sheet is empty`);
  const line = headerLine ?? detectHeaderLine(shown.slice(0, HEAD_ROWS));
  const header = line === 0 ? undefined : head.find((r) => r.line === line);
  if (line !== 0 && !header) throw new DomainError('invalid', `Row ${line} of ${upload.name} is empty or missing: choose another header row`);
  const data = head.filter((r) => r.line > line);
  const width = Math.min(MAX_COLUMNS, Math.max(header?.cells.length ?? 0, ...shown.map((r) => r.cells.length)));
  const headers = Array.from({ length: width }, (_, i) => (header ? displayCell(header.cells[i]) : ''));
  const columns: ImportColumn[] = headers.map((h, index) => {
    const values = data.map((r) => r.cells[index]).filter((c) => displayCell(c) !== '');
    return {
      index,
      name: h || `Column ${columnLetter(index)}`,
      samples: values.slice(0, SAMPLES).map(displayCell),
      numeric: values.some((c) => typeof c === 'number'),
    };
  });
  const mapping = options.mapping ?? (header ? guessMapping(headers) : null);
  if (mapping && (mapping.parent >= width || mapping.child >= width))
    throw new DomainError('invalid', `${upload.name} has ${width} columns: choose the parent and child among them`);
  async function* rows(): AsyncGenerator<SourceRow[]> {
    if (data.length) yield data;
    yield* batches!;
  }
  return {
    kind: info.kind,
    info,
    sheet: sheet!,
    delimiter,
    headerLine: line,
    headers,
    firstRows: shown.slice(0, HEAD_ROWS).map((r) => ({ line: r.line, cells: Array.from({ length: width }, (_, i) => displayCell(r.cells[i])) })),
    columns,
    mapping,
    rows: rows(),
  };
}
