import fs from 'node:fs';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import Database from 'better-sqlite3';
import ExcelJS from 'exceljs';
import type { ExportKind } from '../../shared/contract/exports';
import { refuseOnFullDisk } from '../platform/disk-full';
import type { workerSide } from '../platform/workers';
import { inReportOrder, type InventoryItem } from '../../shared/contract/biotrack';
import { csvTextId, csvWriter } from '../files/csv';

const iso = (ms: unknown) => (typeof ms === 'number' ? new Date(ms).toISOString() : '');

export interface ExportSpec {
  /**
   * Fixed header order; `text` columns are written as text cells (ids keep leading zeros);
   * `id` columns are all-digit ids, written in CSV so a spreadsheet keeps them as text (csvTextId).
   */
  columns: { header: string; key: string; text: boolean; id?: true; width?: number; map?: (v: unknown) => string | number | null }[];
  count: string;
  select: string;
}

/** The BioTrack inventory report: the station's cached copy (upstream_cache), not a table of its own. */
const INVENTORY_COLUMNS: ExportSpec['columns'] = [
  { header: 'Item ID', key: 'barcode', text: true, id: true, width: 20 },
  { header: 'Product', key: 'product', text: true, width: 28 },
  { header: 'Strain', key: 'strain', text: true, width: 20 },
  { header: 'Quantity', key: 'quantity', text: false },
  { header: 'Room ID', key: 'roomId', text: true, id: true },
  { header: 'Room', key: 'room', text: true, width: 18 },
  { header: 'Lab result', key: 'labResult', text: true },
  { header: 'Barcode ID', key: 'sampleId', text: true, id: true, width: 20 },
  { header: 'Total %', key: 'total', text: false },
  { header: 'THCA %', key: 'thca', text: false },
  { header: 'THC %', key: 'thc', text: false },
  { header: 'CBDA %', key: 'cbda', text: false },
  { header: 'CBD %', key: 'cbd', text: false },
];

const SPECS: Record<Exclude<ExportKind, 'inventory' | 'eta' | 'verify-compare'>, ExportSpec> = {
  bags: {
    columns: [
      { header: 'Bag', key: 'code', text: true, width: 20 },
      { header: 'Kind', key: 'kind', text: true },
      { header: 'Parent', key: 'parent', text: true, width: 16 },
      { header: 'Bill', key: 'bill', text: true },
      { header: 'Created at', key: 'created_at', text: true, width: 24, map: iso },
      { header: 'Created by', key: 'created_by', text: true },
      { header: 'Origin', key: 'origin', text: true },
    ],
    count: 'SELECT count(*) AS n FROM bags',
    select: `SELECT b.id AS _id, b.code, b.kind, p.code AS parent, bl.number AS bill, b.created_at, u.username AS created_by, b.origin
      FROM bags b LEFT JOIN bag_links l ON l.child_id = b.id LEFT JOIN bags p ON p.id = l.parent_id
      LEFT JOIN bill_parents bp ON bp.parent_id = coalesce(l.parent_id, b.id) LEFT JOIN bills bl ON bl.id = bp.bill_id
      LEFT JOIN users u ON u.id = b.created_by WHERE b.id > ? ORDER BY b.id LIMIT ?`,
  },
  bills: {
    columns: [
      { header: 'Bill', key: 'number', text: true },
      { header: 'Status', key: 'status', text: true },
      { header: 'Parents', key: 'parents', text: false },
      { header: 'Children', key: 'children', text: false },
      { header: 'Weight (kg)', key: 'weight', text: false },
      { header: 'Note', key: 'note', text: true, width: 24 },
      { header: 'Created at', key: 'created_at', text: true, width: 24, map: iso },
      { header: 'Finalized at', key: 'finalized_at', text: true, width: 24, map: iso },
    ],
    count: 'SELECT count(*) AS n FROM bills',
    select: `SELECT bl.id AS _id, bl.number, bl.status, bl.note, bl.created_at, bl.finalized_at,
      (SELECT count(*) FROM bill_parents bp WHERE bp.bill_id = bl.id) AS parents,
      coalesce(bl.total_children, (SELECT count(*) FROM bill_parents bp JOIN bag_links l ON l.parent_id = bp.parent_id WHERE bp.bill_id = bl.id)) AS children,
      bl.kg_per_child
      FROM bills bl WHERE bl.id > ? ORDER BY bl.id LIMIT ?`,
  },
  audit: {
    columns: [
      { header: 'When', key: 'at', text: true, width: 24, map: iso },
      { header: 'User', key: 'username', text: true },
      { header: 'Action', key: 'action', text: true, width: 22 },
      { header: 'Entity', key: 'entity', text: true },
      { header: 'Id', key: 'entity_id', text: true, width: 16 },
      { header: 'Detail', key: 'detail', text: true, width: 30 },
      { header: 'Before', key: 'before', text: true, width: 40 },
      { header: 'After', key: 'after', text: true, width: 40 },
    ],
    count: 'SELECT count(*) AS n FROM audit_log',
    select: 'SELECT id AS _id, at, username, action, entity, entity_id, detail, before, after FROM audit_log WHERE id > ? ORDER BY id LIMIT ?',
  },
};

/** An export as the worker writes it: a table of the station's database to a file. */
export interface ExportTask {
  kind: 'export';
  /** The file name people download. */
  subject: string;
  dbPath: string;
  what: ExportKind;
  format: 'csv' | 'xlsx';
  /** Where to write it. */
  file: string;
  kgPerChild: number;
  /** For `inventory`: the upstream_cache key of this facility's copy. */
  cacheKey?: string;
  /** For `eta` and `verify-compare`: the report as main filtered, scrubbed and ordered it (columns in their fixed order). */
  table?: { columns: ExportSpec['columns']; rows: Record<string, unknown>[] };
}

/** A table main prepared (an ETA report, a verification compare), in pages of 5,000. */
function preparedPages(table: ExportTask['table']): Rows {
  if (!table) throw new Error('No report rows were given to export');
  return {
    total: table.rows.length,
    *pages() {
      for (let i = 0; i < table.rows.length; i += 5000) yield table.rows.slice(i, i + 5000);
    },
  };
}

type Rows = { total: number; pages: () => Generator<Record<string, unknown>[]> };

/** Keyset pages of a table, each read whole before the next await: an iterator left open across an await would make every other statement on this connection (scans!) fail as "busy". */
function tablePages(db: Database.Database, spec: ExportSpec): Rows {
  const page = db.prepare(spec.select);
  return {
    total: (db.prepare(spec.count).get() as { n: number }).n,
    *pages() {
      let after = 0;
      for (;;) {
        const batch = page.all(after, 5000) as Record<string, unknown>[];
        if (batch.length === 0) return;
        yield batch;
        after = batch.at(-1)!._id as number;
      }
    },
  };
}

/** The cached inventory in report order (room, product, id), in pages of 5,000. */
function inventoryPages(db: Database.Database, cacheKey: string | undefined): Rows {
  const row = db.prepare('SELECT value FROM upstream_cache WHERE key = ?').get(cacheKey ?? '') as { value: string } | undefined;
  if (!row) throw new Error('No BioTrack inventory is saved on this station yet: open Reports → Inventory when BioTrack can be reached');
  const items = JSON.parse(row.value) as (InventoryItem & Record<string, unknown>)[];
  items.sort(inReportOrder);
  return {
    total: items.length,
    *pages() {
      for (let i = 0; i < items.length; i += 5000) yield items.slice(i, i + 5000);
    },
  };
}

/**
 * In the worker: streams a table to a file row by row (millions of bags never sit in memory at
 * once), reading on a read-only connection of its own, so formatting never holds the main thread.
 */
export async function runExportTask(
  task: ExportTask,
  side: Pick<ReturnType<typeof workerSide>, 'progress'>,
): Promise<{ fileName: string; rows: number; bytes: number }> {
  const { what, format, file, kgPerChild, subject: fileName } = task;
  const db = new Database(task.dbPath, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  try {
    const prepared = what === 'eta' || what === 'verify-compare';
    const spec = what === 'inventory' ? { columns: INVENTORY_COLUMNS } : prepared ? { columns: task.table?.columns ?? [] } : SPECS[what];
    const { total, pages } =
      what === 'inventory' ? inventoryPages(db, task.cacheKey) : prepared ? preparedPages(task.table) : tablePages(db, SPECS[what]);
    const value = (row: Record<string, unknown>, c: ExportSpec['columns'][number]): string | number | null => {
      if (what === 'bills' && c.key === 'weight') return Math.round(Number(row.children) * Number(row.kg_per_child ?? kgPerChild) * 1000) / 1000;
      const v = c.map ? c.map(row[c.key]) : (row[c.key] as string | number | null);
      return v === null || v === undefined ? null : v;
    };
    let rows = 0;
    if (format === 'csv') {
      const csv = csvWriter(spec.columns.map((c) => c.header));
      // pipeline() listens for the file's errors (a full disk) from the start: a write that fails
      // ends the export with the reason instead of an unhandled 'error' event.
      const written = pipeline(csv, fs.createWriteStream(file));
      written.catch(() => undefined); // awaited below; this only stops an early failure counting as unhandled
      for (const batch of pages()) {
        for (const row of batch) {
          // Text columns as text (ids keep leading zeros); csvWriter neutralises formula-like cells.
          const record = spec.columns.map((c) => {
            const v = value(row, c);
            if (v === null || !c.text) return v;
            return c.id ? csvTextId(String(v)) : String(v);
          });
          if (!csv.write(record)) await Promise.race([once(csv, 'drain'), written]);
        }
        rows += batch.length;
        side.progress(rows, total);
      }
      csv.end();
      await written;
    } else {
      const out = fs.createWriteStream(file);
      // exceljs listens for the file's errors only while committing; one before that (a full disk)
      // would otherwise be unhandled, and the commit would wait for a 'finish' that never comes.
      const failed = new Promise<never>((_, reject) => out.once('error', reject));
      failed.catch(() => undefined);
      const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useSharedStrings: false, useStyles: true });
      const ws = wb.addWorksheet(what);
      ws.columns = spec.columns.map((c) => ({
        header: c.header,
        key: c.key,
        width: c.width ?? Math.max(12, c.header.length + 2),
        style: c.text ? { numFmt: '@' } : {},
      }));
      ws.getRow(1).font = { bold: true };
      for (const batch of pages()) {
        for (const row of batch) {
          const values: Record<string, unknown> = {};
          for (const c of spec.columns) {
            const v = value(row, c);
            values[c.key] = v === null ? null : c.text ? String(v) : v;
          }
          ws.addRow(values).commit();
        }
        rows += batch.length;
        side.progress(rows, total);
        await Promise.race([new Promise((r) => setImmediate(r)), failed]);
      }
      ws.commit();
      await Promise.race([wb.commit(), failed]);
    }
    side.progress(rows, rows);
    return { fileName, rows, bytes: fs.statSync(file).size };
  } catch (error) {
    throw refuseOnFullDisk(
      error,
      "The station's disk is full: the export was not written, and the part written is deleted. Tell IT; export again when space is freed.",
    );
  } finally {
    db.close();
  }
}
