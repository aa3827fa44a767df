import Database from 'better-sqlite3';
import type { ImportMapping, ImportPreview, ImportReadOptions } from '../../shared/contract/imports';
import { DomainError } from '../../shared/envelope';
import { LinkFactsReader } from '../bags/link-rules';
import type { workerSide } from '../platform/workers';
import { FileChecker, type ImportRules } from './checking';
import { previewImport } from './preview';
import { openSheet } from './sheet';
import type { Upload } from './uploads';

/** What the worker is asked to do with an upload: preview it, or read and check it for the commit. */
export interface ImportTask {
  kind: 'import-preview' | 'import-check';
  subject: string;
  /** The station's database file, opened read-only in the worker. */
  dbPath: string;
  /** Scratch space (the preview's SeenChildren). */
  tmpDir: string;
  upload: Upload;
  options: ImportReadOptions & { mapping?: ImportMapping };
  rules: ImportRules;
}

/** Rows read and checked on their own (not against the database): what the commit links. */
export interface CheckedBatch {
  /** Rows read in this batch, of which `empty` were blank. */
  rows: number;
  empty: number;
  lines: number[];
  parents: string[];
  children: string[];
  rejected: { line: number; parent: string; child: string; reason: string }[];
}

/** In the worker: the whole preview, with facts from a read-only connection of its own. */
export async function runPreviewTask(task: ImportTask): Promise<ImportPreview> {
  const db = new Database(task.dbPath, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  try {
    return await previewImport({ rules: task.rules, facts: new LinkFactsReader(db), tmpDir: task.tmpDir }, task.upload, task.options);
  } finally {
    db.close();
  }
}

/** In the worker: reads and checks every row, sending them to main in batches for the commit. */
export async function runCheckTask(task: ImportTask, side: ReturnType<typeof workerSide<CheckedBatch>>): Promise<{ rows: number }> {
  const sheet = await openSheet(task.upload, task.options);
  const mapping = task.options.mapping ?? sheet.mapping;
  if (!mapping) throw new DomainError('invalid', 'Choose the parent and child columns in the preview first');
  const checker = new FileChecker(task.rules);
  let rows = 0;
  for await (const read of sheet.rows) {
    const b: CheckedBatch = { rows: read.length, empty: 0, lines: [], parents: [], children: [], rejected: [] };
    for (const row of read) {
      const v = checker.check(row, mapping);
      if (v.kind === 'empty') b.empty++;
      else if (v.kind === 'rejected') b.rejected.push({ line: row.line, parent: v.parent, child: v.child, reason: v.reason });
      else {
        b.lines.push(row.line);
        b.parents.push(v.parent);
        b.children.push(v.child);
      }
    }
    rows += read.length;
    await side.batch(b);
  }
  return { rows };
}
