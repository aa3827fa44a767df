import type { UpstreamStatus } from '../../shared/contract/sync';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { Logger } from '../platform/logger';
import type { Db } from '../db/open';
import { UpstreamError, type BreakerState } from '../upstreams/http';

/** After this many "error" answers a record stops retrying and waits for an admin on the Sync screen. */
export const MAX_ATTEMPTS = 8;

export interface OutboxRecord {
  seq: number;
  opId: string;
  op: string;
  payload: unknown;
}

/**
 * 'error' is tried again with backoff (stuck after MAX_ATTEMPTS); 'failed' is a refusal that
 * trying again cannot change (a wrong password), so the record is stuck for an admin at once.
 */
/** 'later': the transport did not send this record in this batch (it kept the request small); it waits, untouched, for the next. */
export type RecordResult = { opId: string; status: 'ok' | 'conflict' | 'error' | 'failed' | 'later'; message?: string; detail?: unknown };

/** Sends a batch to one upstream and returns its per-record answers. */
export interface OutboxTransport {
  send(records: OutboxRecord[]): Promise<RecordResult[]>;
  breaker?: BreakerState;
  /** Records per batch, if this upstream wants fewer than the drainer's (mail: one, so each is marked sent as soon as it went). */
  batchSize?: number;
  /** Whether Admin → Sync and the sync chip list this upstream (mail: only once a mail server is set up). */
  listed?: () => boolean;
  /**
   * Called for each "conflict" answer inside the transaction that marks the record answered, so
   * what the transport keeps of it (the site hub's conflicts) commits with the answer or not at all.
   */
  onConflict?: (record: OutboxRecord, result: RecordResult, at: number) => void;
}

export const resultsSchema = z.object({
  results: z.array(z.object({ opId: z.string(), status: z.enum(['ok', 'conflict', 'error']), message: z.string().optional() })),
});

export interface DrainReport {
  sent: number;
  ok: number;
  conflict: number;
  error: number;
  /** The whole batch failed to reach the upstream (it stays queued, attempts unchanged). */
  unreachable: string | null;
}

/** Exponential backoff with jitter: 1 s, 2 s, 4 s … up to 5 minutes. */
export function backoffMs(attempts: number, random = Math.random): number {
  const base = Math.min(5 * 60_000, 1000 * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.75 + random() * 0.5));
}

/**
 * Drains the outbox to its upstreams. A record is marked done only on the upstream's "ok" or
 * "conflict" (a final answer), in a committed transaction, so it is never sent again, crash or
 * not; one that was accepted but whose answer was lost is sent again and the upstream, which
 * dedupes on opId, acknowledges it without applying it twice. An "error" answer backs that record
 * off alone: the queue keeps moving past it. An unreachable upstream costs no attempts.
 */
export class OutboxDrainer {
  readonly #sql: ReturnType<typeof statements>;
  readonly #restUntil = new Map<string, number>();
  readonly #lastSuccess = new Map<string, number>();
  readonly #lastError = new Map<string, string | null>();
  /** The batch under way per upstream: a second drain joins it instead of sending the same records again. */
  readonly #inFlight = new Map<string, Promise<DrainReport>>();
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #stopped = false;

  constructor(
    private readonly deps: {
      db: Db;
      now: () => number;
      log: Logger;
      transports: Record<string, OutboxTransport>;
      batchSize?: number;
      random?: () => number;
      /** A batch was answered or could not be sent: the backlog may have changed. */
      onBatch?: (upstream: string, report: DrainReport) => void;
    },
  ) {
    this.#sql = statements(deps.db.$client);
  }

  /**
   * One batch for one upstream. Calls that overlap (the timer, an admin's "send now", a test
   * mail) share one batch: the bag hub dedupes a record sent twice, a mail server does not.
   */
  drainOnce(upstream: string): Promise<DrainReport> {
    let batch = this.#inFlight.get(upstream);
    if (!batch) {
      batch = this.#sendBatch(upstream)
        .then((report) => {
          if (report.sent > 0) this.deps.onBatch?.(upstream, report);
          return report;
        })
        .finally(() => this.#inFlight.delete(upstream));
      this.#inFlight.set(upstream, batch);
    }
    return batch;
  }

  async #sendBatch(upstream: string): Promise<DrainReport> {
    const transport = this.deps.transports[upstream];
    const report: DrainReport = { sent: 0, ok: 0, conflict: 0, error: 0, unreachable: null };
    if (!transport) return report;
    const now = this.deps.now();
    const rows = this.#sql.due.all(upstream, now, transport.batchSize ?? this.deps.batchSize ?? 500) as {
      seq: number;
      op_id: string;
      op: string;
      payload: string;
      attempts: number;
    }[];
    if (rows.length === 0) return report;
    report.sent = rows.length;
    let results: RecordResult[];
    try {
      results = await transport.send(rows.map((r) => ({ seq: r.seq, opId: r.op_id, op: r.op, payload: JSON.parse(r.payload) as unknown })));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      report.unreachable = message;
      this.#lastError.set(upstream, message);
      const retryAt = error instanceof UpstreamError ? error.retryAt : undefined;
      this.#restUntil.set(upstream, retryAt ?? now + 5_000);
      return report;
    }
    const byId = new Map(results.map((r) => [r.opId, r]));
    const at = this.deps.now();
    this.deps.db.$client.transaction(() => {
      for (const row of rows) {
        const r = byId.get(row.op_id) ?? { opId: row.op_id, status: 'error' as const, message: 'The upstream gave no answer for this record' };
        if (r.status === 'later') {
          report.sent--;
          continue;
        }
        if (r.status === 'ok' || r.status === 'conflict') {
          this.#sql.finish.run(r.status === 'ok' ? 'done' : 'conflict', r.message ?? null, at, row.seq);
          if (r.status === 'conflict')
            transport.onConflict?.({ seq: row.seq, opId: row.op_id, op: row.op, payload: JSON.parse(row.payload) as unknown }, r, at);
          report[r.status]++;
        } else {
          const attempts = row.attempts + 1;
          const stuck = r.status === 'failed' || attempts >= MAX_ATTEMPTS;
          this.#sql.failed.run(stuck ? 'error' : 'pending', attempts, r.message ?? 'error', at + backoffMs(attempts, this.deps.random), at, row.seq);
          report.error++;
        }
      }
    })();
    this.#lastSuccess.set(upstream, at);
    this.#lastError.set(upstream, null);
    this.#restUntil.delete(upstream);
    return report;
  }

  /** Drains every upstream until nothing is due (or an upstream rests). `force`: an admin asked, try resting ones too. */
  async drainAll(options: { force?: boolean } = {}): Promise<void> {
    if (options.force) {
      this.#restUntil.clear();
      // An open breaker lets one probe through as soon as its time is up: make that now.
      for (const t of Object.values(this.deps.transports)) if (t.breaker) t.breaker.openUntil = 0;
    }
    for (const upstream of Object.keys(this.deps.transports)) await this.drain(upstream);
  }

  /** Drains one upstream until nothing is due or it rests; `force`: try it now even if it rests. */
  async drain(upstream: string, options: { force?: boolean } = {}): Promise<void> {
    if (options.force) {
      this.#restUntil.delete(upstream);
      const breaker = this.deps.transports[upstream]?.breaker;
      if (breaker) breaker.openUntil = 0;
    }
    while (!this.#stopped && (this.#restUntil.get(upstream) ?? 0) <= this.deps.now()) {
      const r = await this.drainOnce(upstream);
      if (r.sent === 0 || r.unreachable) break;
    }
  }

  /** The last reason an upstream could not be reached, or null once it answered. */
  lastError(upstream: string): string | null {
    return this.#lastError.get(upstream) ?? null;
  }

  start(intervalMs = 2000): void {
    const tick = () => {
      if (this.#running || this.#stopped) return;
      this.#running = this.drainAll()
        .catch((err: unknown) => this.deps.log.error({ err }, 'outbox drain failed'))
        .finally(() => (this.#running = null));
    };
    this.#timer = setInterval(tick, intervalMs);
    this.#timer.unref();
    tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#running;
  }

  status(): UpstreamStatus[] {
    const listed = Object.entries(this.deps.transports).filter(([, t]) => t.listed?.() ?? true);
    return listed.map(([upstream]) => {
      const c = this.#sql.counts.get({ upstream }) as { queued: number; stuck: number };
      const rest = this.#restUntil.get(upstream) ?? null;
      return {
        upstream,
        online: !this.#lastError.get(upstream),
        queued: c.queued,
        stuck: c.stuck,
        lastSuccessAt: this.#lastSuccess.get(upstream) ?? null,
        lastError: this.#lastError.get(upstream) ?? null,
        restingUntil: rest && rest > this.deps.now() ? rest : null,
      };
    });
  }

  stuck(): { seq: number; upstream: string; op: string; attempts: number; lastError: string | null; createdAt: number }[] {
    return (
      this.#sql.stuck.all() as { seq: number; upstream: string; op: string; attempts: number; last_error: string | null; created_at: number }[]
    ).map((r) => ({
      seq: r.seq,
      upstream: r.upstream,
      op: r.op,
      attempts: r.attempts,
      lastError: r.last_error,
      createdAt: r.created_at,
    }));
  }

  /** Admin: send a stuck record again from the start of its backoff. */
  retry(seq: number): boolean {
    return this.#sql.retry.run(this.deps.now(), seq).changes === 1;
  }

  /** Admin: give up on a stuck record (kept, marked discarded). */
  discard(seq: number, reason: string): boolean {
    return this.#sql.discard.run(reason, this.deps.now(), seq).changes === 1;
  }
}

function statements(db: Database.Database) {
  return {
    due: db.prepare(
      "SELECT seq, op_id, op, payload, attempts FROM outbox WHERE upstream = ? AND status = 'pending' AND next_attempt_at <= ? ORDER BY seq LIMIT ?",
    ),
    finish: db.prepare('UPDATE outbox SET status = ?, last_error = ?, updated_at = ? WHERE seq = ?'),
    failed: db.prepare('UPDATE outbox SET status = ?, attempts = ?, last_error = ?, next_attempt_at = ?, updated_at = ? WHERE seq = ?'),
    // Two counts through the partial indexes (schema.ts), not one pass over every record ever sent.
    counts: db.prepare(
      "SELECT (SELECT count(*) FROM outbox WHERE upstream = @upstream AND status = 'pending') AS queued, (SELECT count(*) FROM outbox WHERE upstream = @upstream AND status = 'error') AS stuck",
    ),
    stuck: db.prepare("SELECT seq, upstream, op, attempts, last_error, created_at FROM outbox WHERE status = 'error' ORDER BY seq LIMIT 500"),
    retry: db.prepare(
      "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, last_error = NULL WHERE seq = ? AND status = 'error'",
    ),
    discard: db.prepare("UPDATE outbox SET status = 'discarded', last_error = ?, updated_at = ? WHERE seq = ? AND status = 'error'"),
  };
}
