import { DomainError } from '../../../shared/envelope';

/** Every refusal of a file, in one place: what is wrong with it and what the person can do. */

const n = (count: number) => count.toLocaleString('en-US');

/** Sizes as Windows Explorer shows them (1 GB = 1024³ bytes). */
export function size(bytes: number): string {
  if (bytes >= 1 << 30) return `${+(bytes / (1 << 30)).toFixed(1)} GB`;
  if (bytes >= 1 << 20) return `${Math.round(bytes / (1 << 20))} MB`;
  return `${Math.ceil(bytes / 1024)} KB`;
}

const refuse = (sentence: string) => new DomainError('invalid', sentence);

export const refusals = {
  empty: (name: string) => refuse(`${name} is empty`),
  oldExcel: (name: string) => refuse(`${name} is an old Excel 97–2003 (.xls) file: save it as .xlsx or .csv and try again`),
  passwordProtected: (name: string) => refuse(`${name} is password-protected: save it without a password and try again`),
  pdf: (name: string) => refuse(`${name} is a PDF: choose an .xlsx or .csv file`),
  binary: (name: string) => refuse(`${name} is not a spreadsheet (it holds binary data): choose an .xlsx or .csv file`),
  xlsxNameNotZip: (name: string) => refuse(`${name} is named .xlsx but is not an Excel file: it may be damaged`),
  notWorkbook: (name: string) => refuse(`${name} is a zip file but not an Excel workbook: choose an .xlsx or .csv file`),
  binaryWorkbook: (name: string) => refuse(`${name} is an Excel binary workbook (.xlsb): save it as .xlsx or .csv and try again`),
  openDocument: (name: string) => refuse(`${name} is an OpenDocument file (LibreOffice, OpenOffice): save it as .xlsx or .csv and try again`),
  unreadable: (name: string) => refuse(`${name} could not be read from the disk: upload it again`),
  damaged: (name: string) => refuse(`${name} is damaged or not a complete Excel file: open it in Excel and save it again`),
  notCsv: (name: string) => refuse(`${name} is an Excel file, not a CSV file: read it as .xlsx`),
  notXlsx: (name: string) => refuse(`${name} is a text (CSV) file, not an Excel file: read it as CSV`),

  // Zip bombs and their kin, refused from the zip's table of contents before anything is unpacked.
  tooManyParts: (name: string, parts: number, limit: number) =>
    refuse(
      `${name} holds ${n(parts)} files inside (an Excel workbook holds a few dozen; Dockside reads at most ${n(limit)}): it is not an ordinary spreadsheet. Open it in Excel and save the sheet you need as a new .xlsx or .csv file`,
    ),
  unpacksTooBig: (name: string, bytes: number, limit: number) =>
    refuse(
      `${name} unpacks to ${size(bytes)}, more than the ${size(limit)} Dockside reads: it is not an ordinary spreadsheet. Save the sheet you need as .csv, or split it into smaller files`,
    ),
  packedTooTight: (name: string, ratio: number, limit: number) =>
    refuse(
      `${name} holds a part that unpacks ${n(Math.round(ratio))} times larger than it is stored (a spreadsheet stays under ${n(limit)} times): it is built to exhaust the computer (a "zip bomb"), so Dockside does not open it. Ask for the file as saved by Excel`,
    ),
  sheetTooBig: (sheet: string, bytes: number, limit: number) =>
    `“${sheet}” unpacks to ${size(bytes)}, more than the ${size(limit)} Dockside reads in one sheet: split it into smaller files or save it as .csv`,
  textTooBig: (name: string, bytes: number, limit: number) =>
    refuse(
      `${name} holds ${size(bytes)} of text, more than the ${size(limit)} Dockside reads: split it into smaller files or save the sheet as .csv`,
    ),
  partTooBig: (name: string, part: string, bytes: number, limit: number) =>
    refuse(
      `${name} has a ${part} of ${size(bytes)}, more than the ${size(limit)} Dockside reads: open it in Excel, save it as a new .xlsx file and try again`,
    ),

  // Sheets.
  noSheet: (name: string, index: number) => refuse(`${name} has no sheet number ${index + 1}: choose one of its sheets`),
  sheetRefused: (name: string, problem: string) => refuse(`${name}: ${problem}`),
  notCells: (sheet: string, chart: boolean) =>
    `“${sheet}” is ${chart ? 'a chart' : 'a macro or dialog sheet'}, not a sheet of cells: choose another sheet`,
  tooManyCells: (name: string, sheet: string, limit: number) =>
    refuse(
      `${name}: “${sheet}” holds more than ${n(limit)} cells, counting the empty ones left of each row’s last value: clear the columns far to the right, or save the sheet as .csv`,
    ),
  tooManyColumns: (name: string, line: number, limit: number) =>
    refuse(
      `${name} has more than ${n(limit)} columns on row ${n(line)}, more than Excel allows: it is not a list of rows. Check that it is the right file`,
    ),

  // CSV.
  csvLineTooLong: (name: string, line: number, limit: number) =>
    refuse(`${name} has a line longer than ${n(limit)} characters (line ${n(line)}): it is not a list of rows. Check that it is the right file`),
  csvQuotedTooLong: (name: string, line: number, limit: number) =>
    refuse(
      `${name} has a quoted field on line ${n(line)} that runs past ${n(limit)} characters: a quote (") is probably never closed. Fix the quotes in a text editor, or save the file from Excel again`,
    ),
  csvQuoteNeverClosed: (name: string, line: number) =>
    refuse(`${name} has a quote (") on line ${n(line)} that is never closed: fix the quotes in a text editor, or save the file from Excel again`),
};
