import { z } from 'zod';
import { channel } from './define';
import { id } from './fields';
import type { JobView } from './jobs';

export const EXPORT_KINDS = ['bags', 'bills', 'audit'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

export interface FileChunk {
  fileName: string;
  mimeType: string;
  size: number;
  offset: number;
  base64: string;
  done: boolean;
}

export const exportChannels = {
  'exports/start': channel<JobView>()({
    request: z.strictObject({ what: z.enum(EXPORT_KINDS), format: z.enum(['csv', 'xlsx']) }),
    access: ['admin', 'biller'],
    summary: 'Write bags, bills or the audit trail to a CSV or XLSX file, streaming, as a job.',
  }),
  'exports/chunk': channel<FileChunk>()({
    request: z.strictObject({ jobId: id, offset: z.number().int().min(0) }),
    access: ['admin', 'biller'],
    summary: 'Read a finished export, 1 MiB at a time.',
  }),
};
