import type { ImportMapping, ImportReadOptions } from '../../../shared/contract/imports';
import type { ImportRules } from '../checking';
import type { Upload } from '../uploads';

/** What the import worker is asked to do; it runs one task and exits. */
export interface WorkerTask {
  kind: 'preview' | 'check';
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
  seq: number;
  /** Rows read in this batch, of which `empty` were blank. */
  rows: number;
  empty: number;
  lines: number[];
  parents: string[];
  children: string[];
  rejected: { line: number; parent: string; child: string; reason: string }[];
}

export type FromWorker =
  | { type: 'batch'; batch: CheckedBatch }
  | { type: 'done'; value: unknown }
  | { type: 'failed'; error: { code: string; message: string }; detail?: string };

export type ToWorker = { type: 'ack'; seq: number };
