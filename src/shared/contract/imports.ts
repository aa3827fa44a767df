import { z } from 'zod';
import type { ExportedFile } from './bills';
import { channel } from './define';
import { id } from './fields';
import type { JobView } from './jobs';

export interface ImportMapping {
  /** 0-based column indexes in the header row. */
  parent: number;
  child: number;
}

export interface ImportTotals {
  /** Data rows read (the header not counted). */
  rows: number;
  /** Rows that will link (preview) or linked (result) a child to its parent. */
  linked: number;
  /** Already linked the same way before this import: nothing to do. */
  alreadyPresent: number;
  /** The same parent/child pair earlier in the file: skipped. */
  duplicates: number;
  empty: number;
  rejected: number;
}

export type ImportRowStatus = 'link' | 'present' | 'duplicate' | 'empty' | 'rejected';

export type Delimiter = ',' | ';' | '\t' | '|';

/** How to read the file: chosen by the person in the preview, or detected when left out. */
export interface ImportReadOptions {
  /** 0-based sheet index (XLSX). */
  sheet?: number;
  /** 1-based line of the header row; 0 = the file has no header row. */
  headerLine?: number;
  delimiter?: Delimiter;
}

export interface ImportColumn {
  index: number;
  /** The header cell, or "Column C" when it is empty or the file has no header row. */
  name: string;
  /** The first few values under the header, as they will be read. */
  samples: string[];
  /** Some of the sampled cells are numbers in the spreadsheet (they become whole-number ids). */
  numeric: boolean;
}

export interface ImportReason {
  /** Rejected rows are not imported; skipped rows (repeats, empty) need nothing. */
  kind: 'rejected' | 'skipped';
  reason: string;
  rows: number;
  /** The first few lines with this reason. */
  lines: number[];
}

export interface ImportPreview {
  uploadId: string;
  fileName: string;
  kind: 'csv' | 'xlsx';
  /** Every sheet with its row count (CSV: one, uncounted). */
  sheets: { index: number; name: string; rows: number | null }[];
  sheet: number;
  /** CSV only: the delimiter read with, and the one detected. */
  delimiter: Delimiter | null;
  detectedDelimiter: Delimiter | null;
  encoding: string | null;
  /** 1-based; 0 = no header row. */
  headerLine: number;
  /** The first rows of the sheet, so the person can point at the header row. */
  firstRows: { line: number; cells: string[] }[];
  columns: ImportColumn[];
  headers: string[];
  /** null: the columns could not be told from the header; `needs` says what to choose. */
  mapping: ImportMapping | null;
  /** What the person must choose before importing, in words; null when ready. */
  needs: string | null;
  /** Things worth knowing before importing (numbers read as ids, …). */
  notes: string[];
  /** The first data rows, as they will be treated. */
  rows: { line: number; parent: string; child: string; status: ImportRowStatus; reason: string | null }[];
  totals: ImportTotals;
  /** Every reason rows are rejected or skipped, with counts. */
  reasons: ImportReason[];
  /** The first rejected rows with reasons (`totals.rejected` says how many there are); the full list downloads after the import. */
  errors: { line: number; reason: string }[];
}

export interface ImportResult extends ImportTotals {
  fileName: string;
  parentsCreated: number;
  childrenCreated: number;
  batchesCommitted: number;
  /** Cancelled: whole batches up to the cancel are kept; importing the file again finishes it. */
  cancelled: boolean;
}

const uploadId = z
  .string()
  .uuid('Not an upload id')
  .meta({ examples: ['6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b'] });
const mapping = z
  .strictObject({ parent: z.number().int().min(0).max(200), child: z.number().int().min(0).max(200) })
  .refine((m) => m.parent !== m.child, 'Choose two different columns for parent and child')
  .meta({ examples: [{ parent: 0, child: 1 }] });
const readOptions = {
  sheet: z.number().int().min(0).max(1000).optional(),
  headerLine: z.number().int().min(0).max(1_000_000).optional(),
  delimiter: z.enum([',', ';', '\t', '|']).optional(),
};

export const importChannels = {
  'imports/upload': channel<{ uploadId: string; bytes: number }>()({
    request: z.strictObject({
      uploadId: uploadId.optional(),
      name: z.string().trim().min(1, 'File name is required').max(200, 'File name too long'),
      /** Base64 of at most 1 MiB of the file. */
      chunk: z
        .string()
        .max(1_400_000, 'Chunk too large')
        .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'Chunk is not base64')
        .meta({ examples: ['UGFyZW50LENoaWxkCg=='] }),
      last: z.boolean(),
    }),
    access: ['admin', 'biller'],
    summary: 'Send a spreadsheet to main in chunks; the last chunk closes the upload.',
  }),
  'imports/preview': channel<ImportPreview>()({
    request: z.strictObject({ uploadId, mapping: mapping.optional(), ...readOptions }),
    access: ['admin', 'biller'],
    summary: 'Read the whole file without writing: sheets, header row, delimiter, columns, first rows, and what would be rejected.',
  }),
  'imports/start': channel<JobView>()({
    request: z.strictObject({ uploadId, mapping, ...readOptions }),
    access: ['admin', 'biller'],
    summary: 'Import the uploaded file as a background job, in batches.',
  }),
  'imports/rejected-report': channel<ExportedFile>()({
    request: z.strictObject({ jobId: id }),
    access: ['admin', 'biller'],
    summary: 'The rejected rows of an import, with reasons, as CSV.',
  }),
};
