import ExcelJS from 'exceljs';
import type { ExportedFile } from '../../shared/contract/bills';
import { csvFile } from '../files/csv';

export interface Column<Row> {
  header: string;
  value: (row: Row) => string | number | null;
  /** Text columns (ids) are written as text cells, so "00123" stays "00123" in Excel. */
  kind: 'text' | 'number';
  width?: number;
}

export interface Sheet<Row> {
  name: string;
  columns: Column<Row>[];
  rows: Row[];
}

/** Text columns as text (a number id too); cells a spreadsheet would run are neutralised by csvFile. */
export function toCsv<Row>(sheet: Sheet<Row>): Buffer {
  const records = sheet.rows.map((r) =>
    sheet.columns.map((c) => {
      const v = c.value(r);
      return v !== null && c.kind === 'text' ? String(v) : v;
    }),
  );
  return csvFile(
    sheet.columns.map((c) => c.header),
    records,
  );
}

// Sheets of different row types side by side: each sheet's value functions only ever see its own rows.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function toXlsx(sheets: Sheet<any>[]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Dockside';
  for (const sheet of sheets) {
    const ws = wb.addWorksheet(sheet.name.slice(0, 31));
    ws.columns = sheet.columns.map((c) => ({ header: c.header, width: c.width ?? Math.max(12, c.header.length + 2) }));
    ws.getRow(1).font = { bold: true };
    ws.views = [{ state: 'frozen', ySplit: 1 }];
    for (const r of sheet.rows) {
      const row = ws.addRow(sheet.columns.map((c) => c.value(r)));
      sheet.columns.forEach((c, i) => {
        if (c.kind === 'text') {
          const cell = row.getCell(i + 1);
          cell.numFmt = '@';
          if (cell.value !== null) cell.value = String(cell.value);
        }
      });
    }
  }
  return Buffer.from(await wb.xlsx.writeBuffer());
}

export async function exportTable<Row>(
  format: 'csv' | 'xlsx',
  baseName: string,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as toXlsx: each sheet its own row type
  sheets: [Sheet<Row>, ...Sheet<any>[]],
): Promise<ExportedFile> {
  const safeName = baseName.replace(/[^A-Za-z0-9._-]+/g, '_');
  if (format === 'csv') {
    return { fileName: `${safeName}.csv`, mimeType: 'text/csv', base64: toCsv(sheets[0]).toString('base64') };
  }
  return {
    fileName: `${safeName}.xlsx`,
    mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    base64: (await toXlsx(sheets)).toString('base64'),
  };
}
