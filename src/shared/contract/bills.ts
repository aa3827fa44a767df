import { z } from 'zod';
import { channel } from './define';
import { id } from './fields';

export type BillStatus = 'draft' | 'finalized';

export interface BillSummary {
  id: number;
  number: string;
  status: BillStatus;
  note: string | null;
  parentCount: number;
  childCount: number;
  weightKg: number;
  createdAt: number;
  createdBy: string | null;
  finalizedAt: number | null;
}

export interface BillView extends BillSummary {
  kgPerChild: number;
  finalizedBy: string | null;
  parents: { code: string; childCount: number; weightKg: number; addedAt: number }[];
}

export interface ExportedFile {
  fileName: string;
  mimeType: string;
  /** File bytes, base64: IPC carries JSON. */
  base64: string;
}

const billId = z.strictObject({ billId: id });
const parentCode = z.string().trim().min(1, 'Scan or type a parent id').max(64, 'At most 64 characters');

export const billChannels = {
  'bills/create': channel<BillView>()({
    request: z.strictObject({ note: z.string().trim().max(200, 'At most 200 characters').optional() }),
    access: ['admin', 'biller'],
    summary: 'Start a draft bill.',
  }),
  'bills/list': channel<{ rows: BillSummary[]; nextCursor: number | null }>()({
    request: z.strictObject({
      status: z.enum(['draft', 'finalized']).optional(),
      cursor: id.optional(),
      limit: z.number().int().min(1).max(100).optional(),
    }),
    access: ['admin', 'biller'],
    summary: 'Bills, newest first.',
  }),
  'bills/get': channel<BillView>()({
    request: billId,
    access: ['admin', 'biller'],
    summary: 'A bill with its parents, child counts and weight.',
  }),
  'bills/add-parent': channel<BillView>()({
    request: z.strictObject({ billId: id, code: parentCode }),
    access: ['admin', 'biller'],
    summary: 'Put a parent bag on a draft bill.',
  }),
  'bills/remove-parent': channel<BillView>()({
    request: z.strictObject({ billId: id, code: parentCode }),
    access: ['admin', 'biller'],
    summary: 'Take a parent bag off a draft bill.',
  }),
  'bills/finalize': channel<BillView>()({
    request: billId,
    access: ['admin', 'biller'],
    summary: 'Finalize a bill: its parents, children and weight are fixed from then on.',
  }),
  'bills/export': channel<ExportedFile>()({
    request: z.strictObject({ billId: id, format: z.enum(['csv', 'xlsx']) }),
    access: ['admin', 'biller'],
    summary: 'A bill as CSV or XLSX, ids kept as text.',
  }),
};
