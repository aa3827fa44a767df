/**
 * One file of bench/hostile.ts, read in a process of its own so its peak RSS is the file's:
 *   tsx bench/hostile-run.ts FILE NAME reader   → inspectFile, then readRows over every sheet
 *   tsx bench/hostile-run.ts FILE NAME exceljs  → exceljs's streaming reader over every sheet (the baseline)
 *   tsx bench/hostile-run.ts - - idle           → nothing: the peak RSS of Node, tsx and this module loaded
 * Prints one JSON line.
 */
import type ExcelJS from 'exceljs';
import { DomainError } from '../src/shared/envelope';
import { inspectFile, readRows } from '../src/main/imports/sheets';

const [file, name, mode] = process.argv.slice(2);

export interface Outcome {
  outcome: 'read' | 'refused' | 'crash';
  message?: string;
  rows?: number;
  problems?: number;
  /** Per sheet: rows read, or the sentence it was refused with. */
  sheets?: string[];
  inspect_s?: number;
  read_s?: number;
  peak_rss_mb?: number;
}

const seconds = (from: number) => +((performance.now() - from) / 1000).toFixed(3);

async function readWithReader(): Promise<Outcome> {
  let at = performance.now();
  const info = await inspectFile(file, name);
  const inspect_s = seconds(at);
  at = performance.now();
  let rows = 0;
  let problems = 0;
  const sheets: string[] = [];
  for (const sheet of info.sheets) {
    let sheetRows = 0;
    try {
      for await (const batch of readRows(file, name, { kind: info.kind, sheet: sheet.index, delimiter: info.delimiter, encoding: info.encoding })) {
        sheetRows += batch.length;
        for (const row of batch) for (const cell of row.cells) if (cell !== null && typeof cell === 'object' && 'problem' in cell) problems++;
      }
      sheets.push(`${sheet.name}: ${sheetRows.toLocaleString('en-US')}`);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      sheets.push(`${sheet.name}: ${error.message}`);
    }
    rows += sheetRows;
  }
  const extra = info.kind === 'csv' ? ` (${JSON.stringify(info.delimiter)}, ${info.encoding})` : '';
  return { outcome: 'read', rows, problems, sheets: sheets.map((s) => s + extra), inspect_s, read_s: seconds(at) };
}

/** What the import did before this reader: exceljs's streaming WorkbookReader with read.ts's options. */
async function readWithExceljs(): Promise<Outcome> {
  // Loaded here only: its import alone adds ~20 MB to the reader's runs.
  const { default: Excel } = await import('exceljs');
  const at = performance.now();
  const reader = new Excel.stream.xlsx.WorkbookReader(file, {
    sharedStrings: 'cache',
    worksheets: 'emit',
    hyperlinks: 'ignore',
    styles: 'cache',
    entries: 'ignore',
  });
  let rows = 0;
  for await (const sheet of reader) for await (const _ of sheet as AsyncIterable<ExcelJS.Row>) rows++;
  return { outcome: 'read', rows, read_s: seconds(at) };
}

let result: Outcome;
try {
  result = mode === 'idle' ? { outcome: 'read' } : mode === 'exceljs' ? await readWithExceljs() : await readWithReader();
} catch (error) {
  result =
    error instanceof DomainError
      ? { outcome: 'refused', message: error.message }
      : {
          outcome: 'crash',
          message: String((error as Error)?.stack ?? error)
            .split('\n')
            .slice(0, 3)
            .join(' | '),
        };
}
result.peak_rss_mb = Math.round(process.resourceUsage().maxRSS / 1024);
console.log(JSON.stringify(result));
