import type Database from 'better-sqlite3';
import type { Db } from '../db/open';
import type { Logger } from '../platform/logger';

/** How long a record stays in the outbox after its upstream's final answer ('done' or 'conflict'). */
export const OUTBOX_RETENTION_MS = 7 * 24 * 60 * 60_000;

/** How often the station prunes. */
export const OUTBOX_PRUNE_EVERY_MS = 10 * 60_000;

/**
 * Records deleted per transaction. Small, because a batch holds the write lock and the main
 * thread while it runs: at 100 a batch costs about one commit's fsync (each record also leaves
 * a random page of the op_id index; 500 took three times as long). bench/scan.ts reports the
 * longest batch (prune_batch_max_ms).
 */
export const OUTBOX_PRUNE_BATCH = 100;

/**
 * Rest between batches: at least this, and four times as long as the last batch took, so a prune
 * takes a fifth of the main thread at most, however slow the disk is that day. The floor keeps the
 * write rate low too: every batch's pages pass through the WAL and the checkpointer into the
 * database file, and at 10 ms that traffic alone made the scans' own fsyncs stall (bench/scan.ts,
 * link_during_prune_p99_ms). A month's backlog, the first prune after an upgrade, takes minutes.
 */
export const OUTBOX_PRUNE_PAUSE_MS = 50;

export interface PruneReport {
  deleted: number;
  batches: number;
  /** How long the batches held the main thread: the most a scan arriving meanwhile could wait. */
  p99BatchMs: number;
  longestBatchMs: number;
}

/**
 * Deletes outbox records that their upstream answered for good more than the retention ago.
 * Pending and stuck ('error') records are never touched, nor 'discarded' ones: an admin gave up
 * on those, and they are the Sync screen's record of what never arrived.
 *
 * Why batches: the station writes through one connection on the main thread, and a single
 * DELETE of a month of records would hold the write lock, and every scan behind it, for seconds.
 * Each batch is its own short transaction, and the event loop runs between batches, so a scan
 * waits for one batch at most, and usually for none.
 */
export class OutboxPruner {
  readonly #delete: Database.Statement;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<PruneReport> | null = null;
  #stopped = false;

  constructor(
    private readonly deps: {
      db: Db;
      now: () => number;
      log: Logger;
      retentionMs?: number;
      batchSize?: number;
      pauseMs?: number;
    },
  ) {
    // The status list is written as in the partial index outbox_acknowledged (schema.ts), so SQLite uses it.
    this.#delete = deps.db.$client.prepare(
      "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE status IN ('done', 'conflict') AND updated_at < ? ORDER BY updated_at LIMIT ?)",
    );
  }

  /** Prunes now; a prune already under way is joined rather than started twice. */
  pruneNow(): Promise<PruneReport> {
    this.#running ??= this.#prune().finally(() => (this.#running = null));
    return this.#running;
  }

  start(everyMs = OUTBOX_PRUNE_EVERY_MS): void {
    this.#timer = setInterval(() => {
      if (this.#running || this.#stopped) return;
      this.pruneNow().catch((err: unknown) => this.deps.log.error({ err }, 'outbox prune failed'));
    }, everyMs);
    this.#timer.unref();
  }

  /** Stops the timer and waits for the batch under way: the connection may be closed after this. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#running?.catch(() => undefined);
  }

  async #prune(): Promise<PruneReport> {
    const cutoff = this.deps.now() - (this.deps.retentionMs ?? OUTBOX_RETENTION_MS);
    const batchSize = this.deps.batchSize ?? OUTBOX_PRUNE_BATCH;
    const batchMs: number[] = [];
    let deletedAll = 0;
    while (!this.#stopped) {
      const t0 = performance.now();
      const deleted = this.#delete.run(cutoff, batchSize).changes;
      const took = performance.now() - t0;
      batchMs.push(took);
      deletedAll += deleted;
      if (deleted < batchSize) break;
      // Scans and every other call that arrived meanwhile run before the next batch.
      await new Promise<void>((resolve) => setTimeout(resolve, Math.max(this.deps.pauseMs ?? OUTBOX_PRUNE_PAUSE_MS, 4 * took)));
    }
    batchMs.sort((a, b) => a - b);
    const report: PruneReport = {
      deleted: deletedAll,
      batches: batchMs.length,
      p99BatchMs: batchMs[Math.floor(batchMs.length * 0.99)] ?? 0,
      longestBatchMs: batchMs.at(-1) ?? 0,
    };
    if (report.deleted > 0) this.deps.log.info({ ...report }, 'pruned acknowledged outbox records');
    return report;
  }
}
