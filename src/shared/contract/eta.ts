import { z } from 'zod';
import { channel } from './define';
import type { ErpOrg } from './erp';
import { id } from './fields';
import type { JobView } from './jobs';

/** How a customer is known in one ERP instance: its customer name, or the customer group it belongs to. */
export const ETA_NAME_KINDS = ['name', 'group'] as const;
export type EtaNameKind = (typeof ETA_NAME_KINDS)[number];
export const ETA_KIND_LABELS: Record<EtaNameKind, string> = { name: 'Customer Name', group: 'Customer Group' };

export interface EtaCustomer {
  id: number;
  /** Random and stable: export file names carry it instead of the customer's name. */
  reportId: string;
  displayName: string;
  dd: { name: string; kind: EtaNameKind } | null;
  cbr: { name: string; kind: EtaNameKind } | null;
}

export interface EtaStatus {
  /** The ERP's ProductionStatus, as it sends it. */
  status: string;
  displayName: string;
  /** Inactive statuses are hidden from reports (their orders too) but kept here. */
  active: boolean;
}

/** One open order as the ETA report shows it (the ERP's names in comments). */
export interface EtaOrder {
  org: ErpOrg;
  orderNo: string; // OrderNo
  orderRev: number; // OrderRev
  customer: string; // Customer
  customerGroup: string; // CustomerGroup
  supplier: string; // Supplier
  dateScheduled: string | null; // DateScheduled, YYYY-MM-DD
  etaDate: string | null; // EtaDate, YYYY-MM-DD
  productionStatus: string | null; // ProductionStatus
  qty: number | null; // Qty
}

/** Report columns, in the fixed order of the table and of exports. */
export const ETA_COLUMNS = [
  'orderNo',
  'orderRev',
  'customer',
  'customerGroup',
  'supplier',
  'dateScheduled',
  'etaDate',
  'productionStatus',
  'qty',
  'org',
] as const;
export type EtaColumn = (typeof ETA_COLUMNS)[number];
export const ETA_COLUMN_LABELS: Record<EtaColumn, string> = {
  orderNo: 'Order number',
  orderRev: 'Revision',
  customer: 'Customer',
  customerGroup: 'Customer group',
  supplier: 'Supplier',
  dateScheduled: 'Scheduled',
  etaDate: 'ETA',
  productionStatus: 'Production status',
  qty: 'Quantity',
  org: 'ERP',
};
/** The ERP's own column behind each report column: the sensitive-column list names ERP columns. */
export const ETA_ERP_COLUMNS: Record<EtaColumn, string> = {
  orderNo: 'OrderNo',
  orderRev: 'OrderRev',
  customer: 'Customer',
  customerGroup: 'CustomerGroup',
  supplier: 'Supplier',
  dateScheduled: 'DateScheduled',
  etaDate: 'EtaDate',
  productionStatus: 'ProductionStatus',
  qty: 'Qty',
  org: 'Org',
};
/** Never exported unless an admin changes the list (the old app's list). */
export const DEFAULT_SENSITIVE_COLUMNS = ['Descn', 'Notes', 'BarcodeNo'];

/** Where each instance's rows came from: fresh, or the cached copy with its age and the reason. */
export interface EtaSource {
  org: ErpOrg;
  /** The name or group asked for. */
  name: string;
  kind: EtaNameKind;
  rows: number;
  /** Null when the instance could not be read and nothing was saved: its orders are missing. */
  fetchedAt: number | null;
  fromCache: boolean;
  ageSeconds: number | null;
  /** Why the cached copy is shown (or, with fetchedAt null, why nothing is), or null. */
  warning: string | null;
}

/** A finished report job's result (the rows themselves are read page by page with eta/report-view). */
export interface EtaReportSummary {
  customerId: number;
  reportId: string;
  displayName: string;
  rows: number;
  sources: EtaSource[];
  finishedAt: number;
}

export interface EtaJobView {
  job: JobView;
  customerId: number;
  /** Latest log lines, oldest first: shown under the progress bar. */
  log: { at: number; level: 'info' | 'warn' | 'error'; message: string }[];
  heartbeatAt: number | null;
  /** Running, but silent for more than ETA_STALL_MS: it may be retried. */
  stalled: boolean;
}
export const ETA_STALL_MS = 30_000;

const text = (what: string, max = 120) =>
  z
    .string()
    .trim()
    .min(1, `Enter the ${what}`)
    .max(max, `The ${what} is longer than ${max} characters`)
    .refine((s) => ![...s].some((ch) => ch.charCodeAt(0) < 32 || ch.charCodeAt(0) === 127), `The ${what} has a control character in it`);

const instanceName = z
  .strictObject({ name: text('name in the ERP'), kind: z.enum(ETA_NAME_KINDS) })
  .nullable()
  .meta({ examples: [{ name: 'Harbor Wellness', kind: 'name' }] });

export const etaFilters = z.strictObject({
  /** ProductionStatus values ('' for "no status"). */
  statuses: z.array(z.string().max(120)).max(200).optional(),
  groups: z.array(z.string().max(120)).max(200).optional(),
  suppliers: z.array(z.string().max(120)).max(200).optional(),
});
export type EtaFilters = z.infer<typeof etaFilters>;
export const etaSort = z.strictObject({ column: z.enum(ETA_COLUMNS), direction: z.enum(['asc', 'desc']) });
export type EtaSort = z.infer<typeof etaSort>;

export interface EtaReportPage {
  summary: EtaReportSummary;
  /** Rows after hiding inactive statuses. */
  total: number;
  /** Rows the filters keep. */
  matching: number;
  offset: number;
  rows: (EtaOrder & { statusLabel: string })[];
  /** Values to filter by, from the whole report. */
  options: { statuses: { value: string; label: string }[]; groups: string[]; suppliers: string[] };
}

const ROLES_RUN = ['admin', 'biller', 'dispatcher'] as const;

export const etaChannels = {
  'eta/customers': channel<EtaCustomer[]>()({
    request: z.strictObject({}),
    access: ROLES_RUN,
    summary: 'ETA report customers, by name.',
  }),
  'eta/customer-save': channel<EtaCustomer>()({
    request: z.strictObject({ id: id.optional(), displayName: text('customer’s name'), dd: instanceName, cbr: instanceName }),
    access: ['admin'],
    summary: 'Add or change an ETA report customer (a DD and/or a CBR name, each a customer name or a group); audited.',
  }),
  'eta/customer-delete': channel<{ deleted: number }>()({
    request: z.strictObject({ id }),
    access: ['admin'],
    summary: 'Remove an ETA report customer; audited.',
  }),
  'eta/statuses': channel<EtaStatus[]>()({
    request: z.strictObject({}),
    access: ROLES_RUN,
    summary: 'The production status mapping.',
  }),
  'eta/status-save': channel<EtaStatus[]>()({
    request: z.strictObject({ status: z.string().trim().min(1, 'Name the status').max(120), displayName: text('display name'), active: z.boolean() }),
    access: ['admin'],
    summary: 'Map a production status to a display name and say whether reports show it; audited.',
  }),
  'eta/statuses-refresh': channel<{ statuses: EtaStatus[]; added: string[]; sources: { org: ErpOrg; warning: string | null }[] }>()({
    request: z.strictObject({}),
    access: ['admin'],
    summary: 'Add every production status the ERP instances use now (active, named as sent); audited.',
  }),
  'eta/sensitive-columns': channel<string[]>()({
    request: z.strictObject({}),
    access: ROLES_RUN,
    summary: 'ERP columns never written to ETA exports.',
  }),
  'eta/sensitive-columns-save': channel<string[]>()({
    request: z.strictObject({
      columns: z
        .array(
          z
            .string()
            .trim()
            .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'A column is an ERP column name: letters, digits and _ only, such as BarcodeNo')
            .meta({ examples: ['BarcodeNo'] }),
        )
        .max(50),
    }),
    access: ['admin'],
    summary: 'Set the ERP columns scrubbed from ETA exports; audited.',
  }),
  'eta/run': channel<EtaJobView>()({
    request: z.strictObject({ customerId: id, refresh: z.boolean().optional() }),
    access: ROLES_RUN,
    summary: 'Run a customer’s ETA report as a job: each instance where it has a name, through the cache, merged.',
  }),
  'eta/job': channel<EtaJobView>()({
    request: z.strictObject({ jobId: id }),
    access: ROLES_RUN,
    summary: 'An ETA report job: progress, log lines, heartbeat and whether it has stalled.',
  }),
  'eta/retry': channel<EtaJobView>()({
    request: z.strictObject({ jobId: id }),
    access: ROLES_RUN,
    summary: 'Run a stalled or failed ETA report job again (the stalled one is told to stop).',
  }),
  'eta/report-view': channel<EtaReportPage>()({
    request: z.strictObject({
      jobId: id,
      offset: z.number().int().min(0).default(0),
      limit: z.number().int().min(1).max(500).default(50),
      sort: etaSort.optional(),
      filters: etaFilters.optional(),
    }),
    access: ROLES_RUN,
    summary: 'One page of a finished ETA report, filtered and sorted in main.',
  }),
  'eta/export': channel<JobView>()({
    request: z.strictObject({ jobId: id, format: z.enum(['csv', 'xlsx']), sort: etaSort.optional(), filters: etaFilters.optional() }),
    access: ROLES_RUN,
    summary: 'Export the filtered ETA report (sensitive columns scrubbed, fixed header order) as an export job.',
  }),
};
