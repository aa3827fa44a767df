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

export interface ImportPreview {
  uploadId: string;
  fileName: string;
  kind: 'csv' | 'xlsx';
  headers: string[];
  headerLine: number;
  mapping: ImportMapping;
  /** The first data rows, as they will be treated. */
  rows: { line: number; parent: string; child: string; status: ImportRowStatus; reason: string | null }[];
  totals: ImportTotals;
  /** The first rejected rows with reasons; the full list downloads after the import. */
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
const mapping = z.strictObject({ parent: z.number().int().min(0).max(200), child: z.number().int().min(0).max(200) });

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
    request: z.strictObject({ uploadId, mapping: mapping.optional() }),
    access: ['admin', 'biller'],
    summary: 'Read the whole file without writing: column mapping, first rows, and what would be rejected.',
  }),
  'imports/start': channel<JobView>()({
    request: z.strictObject({ uploadId, mapping }),
    access: ['admin', 'biller'],
    summary: 'Import the uploaded file as a background job, in batches.',
  }),
  'imports/rejected-report': channel<ExportedFile>()({
    request: z.strictObject({ jobId: id }),
    access: ['admin', 'biller'],
    summary: 'The rejected rows of an import, with reasons, as CSV.',
  }),
};
