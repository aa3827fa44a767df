import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { JobView } from '../../shared/contract/jobs';
import {
  VERIFY_DIFFERENCE_WORDS,
  type VerifyCompareSummary,
  type VerifyComparePage,
  type VerifyDifference,
  type VerifyDifferenceKind,
  type VerifySnapshotPage,
  type VerifySnapshotRow,
  type VerifySnapshotView,
} from '../../shared/contract/verify-reports';
import { DomainError } from '../../shared/envelope';
import type { VerifyRecord } from '../../shared/hub';
import { recordAudit, type AuditActor, type AuditContext } from '../audit/record';
import type { Db } from '../db/open';
import type { ExportService } from '../exports/service';
import type { ExportSpec } from '../exports/write';
import type { JobContext, JobService } from '../jobs/service';

/**
 * Reports → Verification: what the site recorded (site_verify_records: every station's accepted
 * records, from the feed and from this station's own ok answers), snapshots of it summed per floor,
 * rack and item, and compares of two snapshots run as jobs whose differences are kept
 * (verify_compare_rows) for the screen and the export.
 */

export const VERIFY_COMPARE_JOB = 'verify-compare';
/** Rack-and-item keys compared per step: progress and cancel are looked at between steps. */
const COMPARE_STEP = 500;

const PUT_SITE_RECORD = `INSERT INTO site_verify_records
  (client_record_id, session_id, rack_id, floor, item_code, verified, damaged, serials, user, station, hub_made_at, batch_id)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (client_record_id) DO NOTHING`;

const statements = new WeakMap<Database.Database, Database.Statement>();
const putStatement = (sqlite: Database.Database) => {
  let s = statements.get(sqlite);
  if (!s) statements.set(sqlite, (s = sqlite.prepare(PUT_SITE_RECORD)));
  return s;
};

/** One of this station's records the hub accepted (called in the transaction that marks its line ok). */
export function keepOwnRecord(sqlite: Database.Database, r: VerifyRecord, batchId: string): void {
  putStatement(sqlite).run(
    r.clientRecordId,
    r.sessionId,
    r.rack.rackId,
    r.rack.floor,
    r.itemCode,
    r.verified,
    r.damaged,
    JSON.stringify(r.serials),
    r.user,
    r.station,
    r.hubMadeAt,
    batchId,
  );
}

const recordedSchema = z.object({
  batchId: z.string(),
  station: z.string(),
  records: z.array(
    z.object({
      id: z.string(),
      sessionId: z.string(),
      rackId: z.string(),
      floor: z.string(),
      itemCode: z.string(),
      verified: z.number().int(),
      damaged: z.number().int(),
      serials: z.array(z.string()),
      user: z.string(),
      hubMadeAt: z.number(),
    }),
  ),
});

/** The records of another station's batch (verify_recorded@1 on the feed); a payload of another shape is left alone. */
export function keepSiteRecords(sqlite: Database.Database, payload: unknown): void {
  const p = recordedSchema.safeParse(payload);
  if (!p.success) return;
  const put = putStatement(sqlite);
  for (const r of p.data.records)
    put.run(
      r.id,
      r.sessionId,
      r.rackId,
      r.floor,
      r.itemCode,
      r.verified,
      r.damaged,
      JSON.stringify(r.serials),
      r.user,
      p.data.station,
      r.hubMadeAt,
      p.data.batchId,
    );
}

interface SnapshotRowDb {
  id: number;
  name: string;
  floor: string | null;
  taken_at: number;
  taken_by: string;
  records: number;
  rows: number;
}
const snapshotView = (r: SnapshotRowDb): VerifySnapshotView => ({
  id: r.id,
  name: r.name,
  floor: r.floor,
  takenAt: r.taken_at,
  takenBy: r.taken_by,
  records: r.records,
  rows: r.rows,
});

interface DiffRowDb {
  floor: string;
  rack_id: string;
  item_code: string;
  item_name: string | null;
  kind: VerifyDifferenceKind;
  counted_a: number | null;
  counted_b: number | null;
  damaged_a: number | null;
  damaged_b: number | null;
  serials_added: string;
  serials_removed: string;
}
const differenceView = (r: DiffRowDb): VerifyDifference => ({
  floor: r.floor,
  rackId: r.rack_id,
  itemCode: r.item_code,
  itemName: r.item_name,
  kind: r.kind,
  countedA: r.counted_a,
  countedB: r.counted_b,
  damagedA: r.damaged_a,
  damagedB: r.damaged_b,
  countedDelta: (r.counted_b ?? 0) - (r.counted_a ?? 0),
  damagedDelta: (r.damaged_b ?? 0) - (r.damaged_a ?? 0),
  serialsAdded: JSON.parse(r.serials_added) as string[],
  serialsRemoved: JSON.parse(r.serials_removed) as string[],
});

/** Serials in `to` and not in `from`; both lists sorted and each serial once, as snapshots keep them. */
function missingFrom(from: readonly string[], to: readonly string[]): string[] {
  const had = new Set(from);
  return to.filter((s) => !had.has(s));
}

/** The compare's export: its differences in a fixed column order (serials as one text cell each, space-separated). */
const EXPORT_COLUMNS: ExportSpec['columns'] = [
  { header: 'Floor', key: 'floor', text: true },
  { header: 'Rack', key: 'rackId', text: true },
  { header: 'Item code', key: 'itemCode', text: true, id: true, width: 16 },
  { header: 'Item', key: 'itemName', text: true, width: 28 },
  { header: 'Difference', key: 'difference', text: true },
  { header: 'Counted in A', key: 'countedA', text: false },
  { header: 'Counted in B', key: 'countedB', text: false },
  { header: 'Counted change', key: 'countedDelta', text: false },
  { header: 'Damaged in A', key: 'damagedA', text: false },
  { header: 'Damaged in B', key: 'damagedB', text: false },
  { header: 'Damaged change', key: 'damagedDelta', text: false },
  { header: 'Serials added', key: 'serialsAdded', text: true, width: 30 },
  { header: 'Serials removed', key: 'serialsRemoved', text: true, width: 30 },
];

type Viewer = { id: number; role: string };

export class VerifyReports {
  readonly #sql: Database.Database;

  constructor(
    private readonly deps: {
      db: Db;
      audit: AuditContext;
      now: () => number;
      jobs: JobService;
      exports: ExportService;
    },
  ) {
    this.#sql = deps.db.$client;
  }

  #snapshot(id: number, field: string): SnapshotRowDb {
    const row = this.#sql.prepare('SELECT * FROM verify_snapshots WHERE id = ?').get(id) as SnapshotRowDb | undefined;
    if (!row) {
      const message = `There is no snapshot ${id}: pick one from the list`;
      throw new DomainError('not_found', message, { issues: [{ path: field, message }] });
    }
    return row;
  }

  /** Sums what the site recorded now, per floor, rack and item (one floor or all), into a new snapshot. */
  takeSnapshot(input: { name: string; floor?: string }, actor: AuditActor & { username: string }): VerifySnapshotView {
    const floor = input.floor ?? null;
    const now = this.deps.now();
    const id = this.#sql.transaction(() => {
      const snapshotId = Number(
        this.#sql
          .prepare('INSERT INTO verify_snapshots (name, floor, taken_at, taken_by, records, rows) VALUES (?, ?, ?, ?, 0, 0)')
          .run(input.name, floor, now, actor.username).lastInsertRowid,
      );
      // Serials: every record's, sorted, each once (a serial is the site's once, but a record sent twice by two stations is not trusted to be).
      const rows = this.#sql
        .prepare(
          `INSERT INTO verify_snapshot_rows (snapshot_id, floor, rack_id, item_code, counted, damaged, serials, records)
           SELECT ?, r.floor, r.rack_id, r.item_code, sum(r.verified), sum(r.damaged),
             (SELECT json_group_array(DISTINCT j.value ORDER BY j.value) FROM site_verify_records r2, json_each(r2.serials) j
               WHERE r2.floor = r.floor AND r2.rack_id = r.rack_id AND r2.item_code = r.item_code),
             count(*)
           FROM site_verify_records r WHERE (? IS NULL OR r.floor = ?) GROUP BY r.floor, r.rack_id, r.item_code`,
        )
        .run(snapshotId, floor, floor).changes;
      const records = this.#sql
        .prepare('SELECT count(*) FROM site_verify_records WHERE (? IS NULL OR floor = ?)')
        .pluck()
        .get(floor, floor) as number;
      this.#sql.prepare('UPDATE verify_snapshots SET records = ?, rows = ? WHERE id = ?').run(records, rows, snapshotId);
      recordAudit(this.deps.db, this.deps.audit, actor, {
        action: 'verify.snapshot-taken',
        entity: 'verify_snapshot',
        entityId: snapshotId,
        after: { name: input.name, floor, records, rows },
      });
      return snapshotId;
    })();
    return snapshotView(this.#snapshot(id, 'id'));
  }

  snapshots(): VerifySnapshotView[] {
    return (this.#sql.prepare('SELECT * FROM verify_snapshots ORDER BY taken_at DESC, id DESC LIMIT 500').all() as SnapshotRowDb[]).map(snapshotView);
  }

  snapshotRows(snapshotId: number, offset: number, limit: number): VerifySnapshotPage {
    const snapshot = snapshotView(this.#snapshot(snapshotId, 'snapshotId'));
    const rows = (
      this.#sql
        .prepare(
          `SELECT s.*, i.name AS item_name FROM verify_snapshot_rows s LEFT JOIN items i ON i.item_code = s.item_code
           WHERE s.snapshot_id = ? ORDER BY s.floor, s.rack_id, s.item_code LIMIT ? OFFSET ?`,
        )
        .all(snapshotId, limit, offset) as {
        floor: string;
        rack_id: string;
        item_code: string;
        item_name: string | null;
        counted: number;
        damaged: number;
        serials: string;
        records: number;
      }[]
    ).map((r): VerifySnapshotRow => ({
      floor: r.floor,
      rackId: r.rack_id,
      itemCode: r.item_code,
      itemName: r.item_name,
      counted: r.counted,
      damaged: r.damaged,
      serials: JSON.parse(r.serials) as string[],
      records: r.records,
    }));
    return { snapshot, total: snapshot.rows, offset, rows };
  }

  /** Starts comparing A with B as a job (the caller's; admins see it too); the differences are kept under the job's id. */
  compare(a: number, b: number, actor: AuditActor & { username: string }, viewer: Viewer): JobView {
    const sa = snapshotView(this.#snapshot(a, 'a'));
    const sb = snapshotView(this.#snapshot(b, 'b'));
    if (a === b) {
      const message = `Pick two different snapshots: A and B are both “${sa.name}”`;
      throw new DomainError('invalid', message, { issues: [{ path: 'b', message }] });
    }
    const job = this.deps.jobs.start(VERIFY_COMPARE_JOB, { a, b }, viewer.id, (ctx) => this.#run(ctx, sa, sb));
    recordAudit(this.deps.db, this.deps.audit, actor, {
      action: 'verify.compare-started',
      entity: 'job',
      entityId: job.id,
      after: { a: { id: a, name: sa.name }, b: { id: b, name: sb.name } },
    });
    return job;
  }

  async #run(ctx: JobContext, a: VerifySnapshotView, b: VerifySnapshotView): Promise<VerifyCompareSummary> {
    const total = this.#sql
      .prepare('SELECT count(*) FROM (SELECT DISTINCT floor, rack_id, item_code FROM verify_snapshot_rows WHERE snapshot_id IN (?, ?))')
      .pluck()
      .get(a.id, b.id) as number;
    // Keys in order, a step at a time, each with its row in A and in B (either may be missing).
    const step = this.#sql.prepare(
      `SELECT k.floor, k.rack_id, k.item_code,
         a.counted AS counted_a, a.damaged AS damaged_a, a.serials AS serials_a,
         b.counted AS counted_b, b.damaged AS damaged_b, b.serials AS serials_b
       FROM (SELECT DISTINCT floor, rack_id, item_code FROM verify_snapshot_rows
             WHERE snapshot_id IN (?, ?) AND (floor, rack_id, item_code) > (?, ?, ?) ORDER BY floor, rack_id, item_code LIMIT ?) k
       LEFT JOIN verify_snapshot_rows a ON a.snapshot_id = ? AND a.floor = k.floor AND a.rack_id = k.rack_id AND a.item_code = k.item_code
       LEFT JOIN verify_snapshot_rows b ON b.snapshot_id = ? AND b.floor = k.floor AND b.rack_id = k.rack_id AND b.item_code = k.item_code
       ORDER BY k.floor, k.rack_id, k.item_code`,
    );
    const put = this.#sql.prepare(
      `INSERT INTO verify_compare_rows (job_id, floor, rack_id, item_code, kind, counted_a, counted_b, damaged_a, damaged_b, serials_added, serials_removed)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const counts = { onlyA: 0, onlyB: 0, changed: 0 };
    let after: [string, string, string] = ['', '', ''];
    let done = 0;
    ctx.progress({ rowsDone: 0, rowsTotal: total });
    for (;;) {
      if (ctx.cancelled()) break;
      const keys = step.all(a.id, b.id, ...after, COMPARE_STEP, a.id, b.id) as {
        floor: string;
        rack_id: string;
        item_code: string;
        counted_a: number | null;
        damaged_a: number | null;
        serials_a: string | null;
        counted_b: number | null;
        damaged_b: number | null;
        serials_b: string | null;
      }[];
      if (keys.length === 0) break;
      this.#sql.transaction(() => {
        for (const k of keys) {
          const sa = k.serials_a === null ? [] : (JSON.parse(k.serials_a) as string[]);
          const sb = k.serials_b === null ? [] : (JSON.parse(k.serials_b) as string[]);
          const added = missingFrom(sa, sb);
          const removed = missingFrom(sb, sa);
          const kind: VerifyDifferenceKind | null =
            k.counted_a === null
              ? 'only_b'
              : k.counted_b === null
                ? 'only_a'
                : k.counted_a !== k.counted_b || k.damaged_a !== k.damaged_b || added.length || removed.length
                  ? 'changed'
                  : null;
          if (!kind) continue;
          counts[kind === 'only_a' ? 'onlyA' : kind === 'only_b' ? 'onlyB' : 'changed']++;
          put.run(
            ctx.id,
            k.floor,
            k.rack_id,
            k.item_code,
            kind,
            k.counted_a,
            k.counted_b,
            k.damaged_a,
            k.damaged_b,
            JSON.stringify(added),
            JSON.stringify(removed),
          );
        }
      })();
      done += keys.length;
      const last = keys.at(-1)!;
      after = [last.floor, last.rack_id, last.item_code];
      ctx.progress({
        rowsDone: done,
        rowsTotal: total,
        text: `${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} racks and items compared`,
      });
      // Between steps the station serves scans and other calls.
      await new Promise((resolve) => setImmediate(resolve));
    }
    // Stopped: the part compared is no answer to keep.
    if (ctx.cancelled()) this.#sql.prepare('DELETE FROM verify_compare_rows WHERE job_id = ?').run(ctx.id);
    return { a, b, compared: done, differences: counts.onlyA + counts.onlyB + counts.changed, ...counts };
  }

  cancel(jobId: number, viewer: Viewer): JobView {
    this.#compareJob(jobId, viewer);
    return this.deps.jobs.cancel(jobId);
  }

  /** A compare job the viewer may see (its owner or an admin); others are told there is no such compare. */
  #compareJob(jobId: number, viewer: Viewer): JobView {
    let job: JobView | null = null;
    try {
      job = this.deps.jobs.getFor(jobId, viewer);
    } catch (error) {
      if (!(error instanceof DomainError && error.code === 'not_found')) throw error;
    }
    if (!job || job.kind !== VERIFY_COMPARE_JOB) throw new DomainError('not_found', `There is no compare ${jobId}`);
    return job;
  }

  #differences(jobId: number, limit: number, offset: number): VerifyDifference[] {
    return (
      this.#sql
        .prepare(
          `SELECT d.*, i.name AS item_name FROM verify_compare_rows d LEFT JOIN items i ON i.item_code = d.item_code
           WHERE d.job_id = ? ORDER BY d.floor, d.rack_id, d.item_code LIMIT ? OFFSET ?`,
        )
        .all(jobId, limit, offset) as DiffRowDb[]
    ).map(differenceView);
  }

  view(jobId: number, offset: number, limit: number, viewer: Viewer): VerifyComparePage {
    const job = this.#compareJob(jobId, viewer);
    const summary = job.status === 'succeeded' ? (job.result as VerifyCompareSummary) : null;
    return { job, summary, total: summary?.differences ?? 0, offset, rows: summary ? this.#differences(jobId, limit, offset) : [] };
  }

  /** The differences as an export job (CSV or XLSX) through the station's one export writer. */
  exportCompare(jobId: number, format: 'csv' | 'xlsx', viewer: Viewer): JobView {
    const job = this.#compareJob(jobId, viewer);
    if (job.status !== 'succeeded') throw new DomainError('conflict', 'The compare has not finished: export it once it has');
    const summary = job.result as VerifyCompareSummary;
    if (summary.differences === 0)
      throw new DomainError('invalid', `“${summary.a.name}” and “${summary.b.name}” do not differ: there is nothing to export`);
    const rows = this.#differences(jobId, Number.MAX_SAFE_INTEGER, 0).map((d) => ({
      ...d,
      difference: VERIFY_DIFFERENCE_WORDS[d.kind],
      serialsAdded: d.serialsAdded.join(' '),
      serialsRemoved: d.serialsRemoved.join(' '),
    }));
    return this.deps.exports.start('verify-compare', format, viewer, undefined, {
      baseName: `verification-compare-${summary.a.id}-${summary.b.id}`,
      table: { columns: EXPORT_COLUMNS, rows },
    });
  }
}
