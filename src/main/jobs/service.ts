import type Database from 'better-sqlite3';
import type { JobStatus, JobView } from '../../shared/contract/jobs';
import { DomainError } from '../../shared/envelope';
import { jobStoppedByDiskMessage, storageFault } from '../platform/disk-full';
import type { Logger } from '../platform/logger';
import type { Db } from '../db/open';

interface JobRow {
  id: number;
  kind: string;
  status: JobStatus;
  params: string;
  progress: number;
  progress_text: string | null;
  result: string | null;
  error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface JobProgress {
  rowsDone: number;
  rowsTotal: number | null;
  /** The bar's line, when the job says it in its own words (default: rows, rate, time left). */
  text?: string;
}

/**
 * Who may see a job, its result and its progress: the person who started it, or an admin. The
 * one rule behind jobs/get, jobs/cancel, exports/chunk, the rejected-rows report and the
 * job/progress push.
 */
export function mayViewJob(viewer: { id: number; role: string }, ownerId: number | null): boolean {
  return viewer.role === 'admin' || (ownerId !== null && ownerId === viewer.id);
}

export interface JobContext {
  id: number;
  /** True once someone asked to cancel; the job checks it between batches. */
  cancelled(): boolean;
  progress(p: JobProgress): void;
  /** A line for the job's log (job_log), shown under its progress bar; like progress, it never throws. */
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

/**
 * Long work as persisted rows: status, progress and result survive a restart. A job that was
 * running when the process died is marked failed at the next start, with the reason, so nothing
 * claims to be running that is not.
 */
export class JobService {
  readonly #cancel = new Set<number>();
  readonly #live = new Map<number, { startedAt: number; rowsDone: number; rowsTotal: number | null; rate: number | null; left: number | null }>();
  readonly #sql: ReturnType<typeof statements>;
  /** Each running job's whole run, so closing the station can wait for them. */
  readonly #running = new Map<number, Promise<void>>();
  #closing = false;

  constructor(
    private readonly deps: {
      db: Db;
      now: () => number;
      log: Logger;
      /** A job moved on or ended; `ownerId` says whose it is, so only they and admins hear of it. */
      onProgress: (job: JobView, ownerId: number | null) => void;
    },
  ) {
    this.#sql = statements(deps.db.$client);
  }

  /** At start-up: jobs left "running" by a crash or kill. */
  markInterrupted(): number {
    return this.#sql.interrupt.run(
      this.deps.now(),
      'Interrupted: Dockside stopped while this was running. Run it again to finish; work already saved is kept.',
    ).changes;
  }

  start<T>(kind: string, params: unknown, createdBy: number | null, work: (ctx: JobContext) => Promise<T>): JobView {
    if (this.#closing) throw new DomainError('unavailable', 'Dockside is closing: start this again after it restarts');
    const now = this.deps.now();
    const id = Number(this.#sql.insert.run(kind, JSON.stringify(params), createdBy, now, now).lastInsertRowid);
    this.#live.set(id, { startedAt: now, rowsDone: 0, rowsTotal: null, rate: null, left: null });
    let lastPush = 0;
    const ctx: JobContext = {
      id,
      cancelled: () => this.#cancel.has(id),
      log: (level, message) => {
        try {
          this.#sql.log.run(id, this.deps.now(), level, message.slice(0, 500));
        } catch (error) {
          this.deps.log.warn({ err: error, jobId: id, kind }, 'job log line could not be written');
        }
      },
      // Progress is news, never work: a listener (or the row) that fails cannot break the job.
      progress: ({ rowsDone, rowsTotal, text: ownText }) => {
        try {
          const t = this.deps.now();
          const live = this.#live.get(id);
          if (!live) return;
          const seconds = Math.max(0.001, (t - live.startedAt) / 1000);
          live.rowsDone = rowsDone;
          live.rowsTotal = rowsTotal;
          live.rate = Math.round(rowsDone / seconds);
          live.left = rowsTotal && live.rate > 0 ? Math.max(0, Math.ceil((rowsTotal - rowsDone) / live.rate)) : null;
          const fraction = rowsTotal ? Math.min(1, rowsDone / rowsTotal) : 0;
          const text =
            ownText ??
            `${rowsDone.toLocaleString('en-US')}${rowsTotal ? ` of ${rowsTotal.toLocaleString('en-US')}` : ''} rows · ${live.rate.toLocaleString('en-US')} rows/s${live.left !== null ? ` · ${live.left} s left` : ''}`;
          this.#sql.progress.run(fraction, text, t, id);
          // Events at most 10 a second; the row is always current.
          if (t - lastPush >= 100 || fraction === 1) {
            lastPush = t;
            this.deps.onProgress(this.get(id), createdBy);
          }
        } catch (error) {
          this.deps.log.warn({ err: error, jobId: id, kind }, 'job progress could not be reported');
        }
      },
    };
    // Runs after this call returns, so the caller gets the job id first.
    const run = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => work(ctx))
      .then((result) => {
        const cancelled = this.#cancel.has(id);
        this.finish(
          id,
          createdBy,
          cancelled ? 'cancelled' : 'succeeded',
          result,
          cancelled && this.#closing ? 'Stopped because Dockside was closing: work already saved is kept. Run it again to finish.' : null,
        );
      })
      .catch((error: unknown) => {
        const fault = storageFault(error);
        const message =
          error instanceof DomainError
            ? error.message
            : fault
              ? jobStoppedByDiskMessage(fault, kind)
              : `Failed: ${(error as Error)?.message ?? String(error)}`;
        if (!(error instanceof DomainError)) this.deps.log.error({ err: error, jobId: id, kind }, 'job failed');
        this.finish(id, createdBy, 'failed', null, message);
      })
      .finally(() => this.#running.delete(id));
    this.#running.set(id, run);
    return this.get(id);
  }

  private finish(id: number, ownerId: number | null, status: JobStatus, result: unknown, error: string | null): void {
    let ended: JobView;
    try {
      this.#sql.finish.run(status, result === null ? null : JSON.stringify(result), error, this.deps.now(), status === 'succeeded' ? 1 : null, id);
      ended = this.get(id);
    } catch (err) {
      // A full disk can refuse even this row. Thrown here it would be an unhandled rejection that
      // stops the station; the row stays "running" and the next start marks it interrupted.
      this.deps.log.error({ err, jobId: id, status }, 'could not record the end of a job');
      // The window following it still hears that it ended, and why its row could not say so.
      const why = `It ended (${status}) but the station could not record that: ${(err as Error)?.message ?? String(err)}`;
      ended = { ...this.get(id), status: 'failed', error: storageFault(err) ? `The station's disk is full. ${why}` : why };
    } finally {
      this.#cancel.delete(id);
      this.#live.delete(id);
    }
    // The news of the end: a listener that fails cannot change how the job ended.
    try {
      this.deps.onProgress(ended, ownerId);
    } catch (err) {
      this.deps.log.warn({ err, jobId: id, status }, 'the end of a job could not be reported');
    }
  }

  /**
   * Closing: running jobs are asked to stop (they do between batches, keeping whole batches) and
   * waited for, so none writes to a closed database; no new job starts.
   */
  async stop(): Promise<void> {
    this.#closing = true;
    for (const id of this.#running.keys()) this.#cancel.add(id);
    await Promise.allSettled([...this.#running.values()]);
  }

  cancel(id: number): JobView {
    const job = this.get(id);
    if (job.status !== 'running' && job.status !== 'queued')
      throw new DomainError('conflict', `This job has already ${job.status === 'succeeded' ? 'finished' : job.status}`);
    this.#cancel.add(id);
    return job;
  }

  get(id: number): JobView {
    const row = this.#sql.get.get(id) as JobRow | undefined;
    if (!row) throw new DomainError('not_found', `No job ${id}`);
    const live = this.#live.get(id);
    return {
      id: row.id,
      kind: row.kind,
      status: row.status,
      progress: row.progress,
      progressText: row.progress_text,
      rowsDone: live?.rowsDone ?? 0,
      rowsTotal: live?.rowsTotal ?? null,
      rowsPerSecond: live?.rate ?? null,
      secondsLeft: live?.left ?? null,
      result: row.result === null ? null : (JSON.parse(row.result) as unknown),
      error: row.error,
      createdAt: row.created_at,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
    };
  }

  /**
   * A job as one person may see it: its creator, or an admin. Anyone else is told there is no such
   * job, so job ids cannot be walked to read other people's imports and exports.
   */
  getFor(id: number, viewer: { id: number; role: string }): JobView {
    const row = this.#sql.get.get(id) as (JobRow & { created_by: number | null }) | undefined;
    if (!row || !mayViewJob(viewer, row.created_by)) throw new DomainError('not_found', `No job ${id}`);
    return this.get(id);
  }

  /** The job's log lines, oldest first (the last `limit`). */
  logLines(id: number, limit = 50): { at: number; level: 'info' | 'warn' | 'error'; message: string }[] {
    return (this.#sql.logLines.all(id, limit) as { at: number; level: 'info' | 'warn' | 'error'; message: string }[]).reverse();
  }

  /** When the job last reported progress (its heartbeat), or null. */
  heartbeatAt(id: number): number | null {
    return (this.#sql.get.get(id) as { heartbeat_at: number | null } | undefined)?.heartbeat_at ?? null;
  }

  params<T>(id: number): T {
    const row = this.#sql.get.get(id) as JobRow | undefined;
    if (!row) throw new DomainError('not_found', `No job ${id}`);
    return JSON.parse(row.params) as T;
  }
}

function statements(db: Database.Database) {
  return {
    insert: db.prepare("INSERT INTO jobs (kind, status, params, created_by, created_at, started_at, attempts) VALUES (?, 'running', ?, ?, ?, ?, 1)"),
    progress: db.prepare('UPDATE jobs SET progress = ?, progress_text = ?, heartbeat_at = ? WHERE id = ?'),
    finish: db.prepare('UPDATE jobs SET status = ?, result = ?, error = ?, finished_at = ?, progress = coalesce(?, progress) WHERE id = ?'),
    get: db.prepare('SELECT * FROM jobs WHERE id = ?'),
    log: db.prepare('INSERT INTO job_log (job_id, at, level, message) VALUES (?, ?, ?, ?)'),
    logLines: db.prepare('SELECT at, level, message FROM job_log WHERE job_id = ? ORDER BY id DESC LIMIT ?'),
    interrupt: db.prepare("UPDATE jobs SET status = 'failed', finished_at = ?, error = ? WHERE status IN ('running', 'queued')"),
  };
}
