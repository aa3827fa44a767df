import { z } from 'zod';
import { ROLES, type Role } from '../roles';
import { channel } from './define';
import { id } from './fields';
import type { JobView } from './jobs';

export const EXPORT_KINDS = ['bags', 'bills', 'audit', 'inventory', 'eta', 'verify-compare'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

/**
 * Who may export what: the one table main authorises by and the renderer shows buttons by, so the
 * screen and the station cannot disagree. The audit trail is admin-only, as its screen is; the
 * BioTrack inventory report is for everyone who sees Reports → Inventory.
 */
export const EXPORT_ROLES: Readonly<Record<ExportKind, readonly Role[]>> = {
  bags: ['admin', 'biller'],
  bills: ['admin', 'biller'],
  audit: ['admin'],
  inventory: ['admin', 'biller', 'dispatcher'],
  eta: ['admin', 'biller', 'dispatcher'],
  'verify-compare': ['admin', 'dispatcher'],
};

/** Words for each kind, for buttons and refusals. */
export const EXPORT_LABELS: Readonly<Record<ExportKind, string>> = {
  bags: 'Bags',
  bills: 'Bills',
  audit: 'Audit trail',
  inventory: 'Inventory',
  eta: 'ETA report',
  'verify-compare': 'Verification compare',
};

/** True only for a known role and a known kind that the table allows; anything else is refused. */
export function mayExport(role: unknown, what: unknown): boolean {
  if (typeof what !== 'string' || !Object.hasOwn(EXPORT_ROLES, what)) return false;
  return EXPORT_ROLES[what as ExportKind].some((r) => r === role);
}

/** The kinds a role may export, in the table's order. */
export function exportKindsFor(role: unknown): ExportKind[] {
  return EXPORT_KINDS.filter((what) => mayExport(role, what));
}

/** Roles that may export at least one kind: the export channels' own access. */
const EXPORTING_ROLES = ROLES.filter((role) => exportKindsFor(role).length > 0);

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
    access: EXPORTING_ROLES,
    summary:
      'Write bags, bills, the audit trail or the BioTrack inventory report to a CSV or XLSX file, streaming, as a job (each kind for the roles EXPORT_ROLES names).',
  }),
  'exports/chunk': channel<FileChunk>()({
    request: z.strictObject({ jobId: id, offset: z.number().int().min(0) }),
    access: EXPORTING_ROLES,
    summary: 'Read a finished export, 1 MiB at a time: its owner or an admin, while their role may export its kind.',
  }),
};
