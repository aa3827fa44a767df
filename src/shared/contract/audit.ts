import { z } from 'zod';
import { channel } from './define';

export interface AuditRow {
  id: number;
  at: number;
  username: string | null;
  action: string;
  entity: string | null;
  entityId: string | null;
  before: unknown;
  after: unknown;
  detail: string | null;
}

export const auditChannels = {
  'audit/list': channel<{ rows: AuditRow[]; nextCursor: number | null }>()({
    request: z.strictObject({
      action: z.string().trim().min(1).max(64).optional(),
      username: z.string().trim().min(1).max(32).optional(),
      entityId: z.string().trim().min(1).max(64).optional(),
      from: z.number().int().min(0).optional(),
      to: z.number().int().min(0).optional(),
      cursor: z.number().int().positive().optional(),
      limit: z.number().int().min(1).max(200).optional(),
    }),
    access: ['admin'],
    summary: 'The audit trail, newest first, with filters.',
  }),
};
