import { stringify as stringifyStream, type Stringifier } from 'csv-stringify';
import { stringify as stringifySync, type Options } from 'csv-stringify/sync';

/**
 * Every CSV the station writes goes through this module (a test checks that nothing else imports
 * csv-stringify), and every cell of it through `csvCell`.
 */
export type CsvValue = string | number | null | undefined;

/**
 * Spreadsheet apps run a cell that starts with = + - @ as a formula, and a leading tab or carriage
 * return can hide one (OWASP, "CSV Injection"): such a text gets a leading apostrophe, which makes
 * Excel and LibreOffice read the rest as plain text. The full-width ＝ ＋ － ＠ are included because
 * some Excel input settings turn them into their ASCII forms.
 *
 * Numbers are written as they are: a value the station holds as a number (counts, weights, line
 * numbers) prints as digits with at most a leading minus, which a spreadsheet reads as a number and
 * can never run. A string that looks like a number ("-5", an id) is still text and is neutralised:
 * only the JavaScript type says it is a number, never its look.
 */
export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  return /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/.test(value) ? `'${value}` : value;
}

/**
 * An id that is all digits (a 16-digit BioTrack id, a room id "07"): a spreadsheet opening the CSV
 * would read it as a number, dropping leading zeros and showing 16 digits as 2.02613E+15. CSV has
 * no text cells, so it gets csvCell's leading apostrophe, which spreadsheets read as "this is text";
 * the digits after it are exact. No formula (="…") is written: cells a spreadsheet runs stay banned.
 */
export function csvTextId(id: string | null): string | null {
  return id !== null && /^\d+$/.test(id) ? `'${id}` : id;
}

/**
 * csv-stringify casts every value by its type before quoting; each cast goes through csvCell, so a
 * record written to these writers cannot bypass it whatever its caller passes.
 */
const CSV_OPTIONS: Options = {
  // BOM so Excel reads UTF-8; CRLF as RFC 4180 says.
  bom: true,
  record_delimiter: 'windows',
  cast: {
    string: (v) => csvCell(v),
    number: (v) => csvCell(v),
    bigint: (v) => csvCell(String(v)),
    boolean: (v) => (v ? 'TRUE' : 'FALSE'),
    date: (v) => csvCell(v.toISOString()),
    object: (v) => csvCell(JSON.stringify(v)),
  },
};

/** A whole CSV file in memory: a header row, then the records. */
export function csvFile(header: readonly string[], records: readonly (readonly CsvValue[])[]): Buffer {
  return Buffer.from(stringifySync([header, ...records] as CsvValue[][], CSV_OPTIONS), 'utf8');
}

/** A streaming CSV writer for files too big to hold (exports, rejected-row reports): pipe it to the file. */
export function csvWriter(header: readonly string[]): Stringifier {
  return stringifyStream({ ...CSV_OPTIONS, header: true, columns: [...header] });
}
