import { z } from 'zod';
import { floorSchema } from '../hub';
import { channel } from './define';
import { empty, id } from './fields';
import type { JobView } from './jobs';

/**
 * Reports → Verification (issue 16): a snapshot of what the site recorded per rack and item, and a
 * compare of two snapshots as a job whose differences are kept, shown and exported.
 */

export interface VerifySnapshotView {
  id: number;
  name: string;
  /** Only this floor's racks; null: every floor. */
  floor: string | null;
  takenAt: number;
  takenBy: string;
  /** Records summed, and rows (rack, floor, item) they made. */
  records: number;
  rows: number;
}

export interface VerifySnapshotRow {
  floor: string;
  rackId: string;
  itemCode: string;
  itemName: string | null;
  /** Σ verified of the records. */
  counted: number;
  /** Σ damaged. */
  damaged: number;
  /** Sorted, each once. */
  serials: string[];
  records: number;
}

export interface VerifySnapshotPage {
  snapshot: VerifySnapshotView;
  total: number;
  offset: number;
  rows: VerifySnapshotRow[];
}

export type VerifyDifferenceKind = 'only_a' | 'only_b' | 'changed';
export const VERIFY_DIFFERENCE_WORDS: Record<VerifyDifferenceKind, string> = {
  only_a: 'Only in A',
  only_b: 'Only in B',
  changed: 'Changed',
};

export interface VerifyDifference {
  floor: string;
  rackId: string;
  itemCode: string;
  itemName: string | null;
  kind: VerifyDifferenceKind;
  /** null: the rack and item is not in that snapshot. */
  countedA: number | null;
  countedB: number | null;
  damagedA: number | null;
  damagedB: number | null;
  /** B − A, a missing side counting 0. */
  countedDelta: number;
  damagedDelta: number;
  /** In B, not in A. */
  serialsAdded: string[];
  /** In A, not in B. */
  serialsRemoved: string[];
}

/** A compare job's result (jobs.result): what was compared and how many differences of each kind. */
export interface VerifyCompareSummary {
  a: VerifySnapshotView;
  b: VerifySnapshotView;
  /** Rack and item rows looked at (in either snapshot). */
  compared: number;
  differences: number;
  onlyA: number;
  onlyB: number;
  changed: number;
}

export interface VerifyComparePage {
  job: JobView;
  /** Null until the job has succeeded. */
  summary: VerifyCompareSummary | null;
  total: number;
  offset: number;
  rows: VerifyDifference[];
}

/** Who takes snapshots and compares them; billers may read snapshots. */
export const VERIFY_REPORT_ROLES = ['admin', 'dispatcher'] as const;
const READERS = ['admin', 'biller', 'dispatcher'] as const;

export const VERIFY_SNAPSHOT_NAME_MAX = 80;

const page = {
  offset: z.number().int('offset is a whole number').min(0, 'offset is 0 or more').default(0),
  limit: z.number().int('limit is a whole number').min(1, 'limit is at least 1').max(500, 'limit is at most 500').default(50),
};

export const verifyReportChannels = {
  'verify/snapshot-take': channel<VerifySnapshotView>()({
    request: z.strictObject({
      name: z
        .string('The snapshot name is text')
        .trim()
        .min(1, 'Give the snapshot a name')
        .max(VERIFY_SNAPSHOT_NAME_MAX, `A snapshot name is at most ${VERIFY_SNAPSHOT_NAME_MAX} characters`)
        .refine((s) => ![...s].some((ch) => ch.charCodeAt(0) < 32 || ch.charCodeAt(0) === 127), 'The snapshot name has a control character in it')
        .meta({ examples: ['Monday count'] }),
      floor: floorSchema.meta({ examples: ['Ground'] }).optional(),
    }),
    access: VERIFY_REPORT_ROLES,
    summary: 'Takes a snapshot of what the site recorded, per rack, floor and item: counted, damaged, serials (audited)',
  }),
  'verify/snapshots': channel<VerifySnapshotView[]>()({
    request: empty,
    access: READERS,
    summary: 'The snapshots taken on this station, newest first',
  }),
  'verify/snapshot-rows': channel<VerifySnapshotPage>()({
    request: z.strictObject({ snapshotId: id, ...page }),
    access: READERS,
    summary: "A snapshot's rows by floor, rack and item, a page at a time",
  }),
  'verify/compare': channel<JobView>()({
    request: z.strictObject({ a: id, b: id }),
    access: VERIFY_REPORT_ROLES,
    summary: 'Compares snapshot A with snapshot B as a job: the differences per rack and item are kept (audited)',
  }),
  'verify/compare-cancel': channel<JobView>()({
    request: z.strictObject({ jobId: id }),
    access: VERIFY_REPORT_ROLES,
    summary: 'Asks a running compare to stop (its owner or an admin)',
  }),
  'verify/compare-view': channel<VerifyComparePage>()({
    request: z.strictObject({ jobId: id, ...page }),
    access: VERIFY_REPORT_ROLES,
    summary: "A compare's state and its differences, a page at a time (its owner or an admin)",
  }),
  'verify/compare-export': channel<JobView>()({
    request: z.strictObject({ jobId: id, format: z.enum(['csv', 'xlsx']) }),
    access: VERIFY_REPORT_ROLES,
    summary: "Writes a compare's differences to a CSV or XLSX file as an export job",
  }),
} as const;
