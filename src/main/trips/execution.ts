import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { TripExecutionStatus, TripExecutionView, TripStopManifest } from '../../shared/contract/trip-execution';
import { DomainError } from '../../shared/envelope';
import { recordAudit, type AuditActor, type AuditContext } from '../audit/record';
import type { Db } from '../db/open';
import type { Logger } from '../platform/logger';
import type { BioTrackClient } from '../upstreams/biotrack/client';
import { createManifestOnce, findManifest, manifestProblems, voidManifest, type ManifestRequest } from '../upstreams/biotrack/manifests';
import { UpstreamError } from '../upstreams/http';

/** Waits between tries while BioTrack is down: 2 s, 4 s, 8 s … never more than a minute. */
export const RETRY_FIRST_MS = 2_000;
export const RETRY_MAX_MS = 60_000;

/** Points of an execution, in order, for tests that stop the process at each one. */
export type ExecutionPoint = `stop ${number}: ${'intent recorded' | 'answered' | 'id recorded'}` | 'completed';

export interface TripExecutorDeps {
  db: Db;
  now: () => number;
  log: Logger;
  audit: AuditContext;
  /** Null when this station has no BioTrack address configured. */
  client: BioTrackClient | null;
  /** The trip as BioTrack manifests: its stops in route order (trips/plan.ts). */
  loadPlan: (tripId: number) => ManifestRequest;
  /** Mirrors the status into trips.execution_status. */
  onStatus?: (tripId: number, status: TripExecutionStatus, message: string | null) => void;
  /**
   * Called once per end of a run (completed, or failed at a stop) inside the transaction that
   * records that end, so what it queues (the mail) is written with it or not at all.
   */
  onEnded?: (view: TripExecutionView) => void;
  /** Pushes progress to the starter's windows and admins'. */
  onProgress: (view: TripExecutionView, ownerId: number | null) => void;
  /** Waits before the next try while BioTrack is down; tests pass one they step. */
  wait: (ms: number) => Promise<void>;
  /** Called after each point is reached (tests only: the kill-at-every-step test stops the process here). */
  probe?: (point: ExecutionPoint, tripId: number) => void;
}

interface ExecutionRow {
  id: number;
  trip_id: number;
  status: TripExecutionStatus;
  step: number;
  stops_total: number;
  stops_done: number;
  progress_message: string | null;
  attempts: number;
  last_error: string | null;
  failed_stop: number | null;
  started_by: number | null;
  created_at: number;
  started_at: number | null;
  updated_at: number;
  finished_at: number | null;
}

interface ManifestRow {
  stop_number: number;
  state: TripStopManifest['state'];
  fingerprint: string;
  request: string;
  manifest_id: string | null;
  error: string | null;
}

/** One stop as a manifest of its own: BioTrack numbers a manifest's stops from 1. */
export function stopManifest(plan: ManifestRequest, stopNumber: number): ManifestRequest {
  const stop = plan.stops.find((s) => s.stopNumber === stopNumber);
  if (!stop) throw new DomainError('not_found', `The trip has no stop ${stopNumber}`);
  return { employeeId: plan.employeeId, vehicleId: plan.vehicleId, location: plan.location, stops: [{ ...stop, stopNumber: 1 }] };
}

export const fingerprintOf = (m: ManifestRequest) => createHash('sha256').update(JSON.stringify(m)).digest('hex');

/** Down, slow or answering nonsense: worth waiting for. A refusal or missing credentials is not. */
function worthWaiting(error: unknown): error is UpstreamError {
  return error instanceof UpstreamError && error.kind !== 'refused' && error.kind !== 'credentials';
}

/** Why we wait, in words a clerk understands. */
function downReason(e: UpstreamError): string {
  switch (e.kind) {
    case 'unavailable':
    case 'breaker_open':
      return 'BioTrack is not available right now';
    case 'timeout':
      return 'BioTrack did not answer in time';
    case 'network':
      return 'BioTrack cannot be reached (network)';
    case 'rate_limited':
      return 'BioTrack asked us to slow down';
    default:
      return 'BioTrack answered with an error';
  }
}

/**
 * Executes delivery trips: one BioTrack manifest per stop, exactly once across crashes. Each stop
 * is recorded as `intent` (with the request) before the manifest is sent and as `created` (with
 * its id) after; a stop found at `intent` — the process died or the answer was lost — is looked up
 * in sync_manifest before anything is sent again. While BioTrack is down the execution waits with
 * capped exponential backoff; a refusal stops it as failed at that stop, with BioTrack's words,
 * and `retry` continues from there.
 *
 * Why one manifest per stop (BioTrack would take all stops in one): a refusal at stop 3 then
 * leaves stops 1–2 valid, a retry sends only what is missing, and an admin voids one stop's
 * manifest without cancelling the whole trip.
 */
export class TripExecutor {
  readonly #sql: ReturnType<typeof statements>;
  readonly #running = new Map<number, Promise<void>>();
  #closing = false;
  #wake: () => void = () => {};
  readonly #closed = new Promise<void>((resolve) => (this.#wake = resolve));

  constructor(private readonly deps: TripExecutorDeps) {
    this.#sql = statements(deps.db.$client);
  }

  /** Starts executing a trip; its first call is made after this returns. */
  execute(tripId: number, actor: AuditActor): TripExecutionView {
    const existing = this.row(tripId);
    if (existing) {
      if (existing.status === 'failed') throw new DomainError('conflict', 'This trip stopped with an error: fix the trip, then press Retry');
      throw new DomainError(
        'conflict',
        existing.status === 'completed' ? 'This trip has already been executed' : 'This trip is already being executed',
      );
    }
    const plan = this.deps.loadPlan(tripId);
    const problems = manifestProblems(plan, this.deps.now());
    if (problems.length) throw new DomainError('invalid', problems.join('; '));
    const now = this.deps.now();
    this.deps.db.$client.transaction(() => {
      this.#sql.insert.run(tripId, plan.stops.length, 'Waiting to start', actor.userId, now, now);
      recordAudit(this.deps.db, this.deps.audit, actor, {
        action: 'trips.executed',
        entity: 'trip',
        entityId: tripId,
        after: { stops: plan.stops.length },
      });
    })();
    this.changed(tripId);
    this.run(tripId);
    return this.view(tripId)!;
  }

  /** Continues a failed execution from the first stop without a manifest (a refused or voided one). */
  retry(tripId: number, actor: AuditActor): TripExecutionView {
    const row = this.row(tripId);
    if (!row) throw new DomainError('not_found', 'This trip has not been executed yet');
    const voided = this.manifests(row.id).some((m) => m.state === 'voided');
    if (row.status !== 'failed' && !(row.status === 'completed' && voided))
      throw new DomainError('conflict', row.status === 'completed' ? 'Every stop already has its manifest' : 'This trip is already being executed');
    const now = this.deps.now();
    this.deps.db.$client.transaction(() => {
      this.#sql.status.run('pending', 'Waiting to start again', now, row.id);
      recordAudit(this.deps.db, this.deps.audit, actor, {
        action: 'trips.retried',
        entity: 'trip',
        entityId: tripId,
        detail: row.last_error ?? undefined,
      });
    })();
    this.changed(tripId);
    this.run(tripId);
    return this.view(tripId)!;
  }

  /** An admin voids one stop's manifest at BioTrack; audited. */
  async voidStop(tripId: number, stopNumber: number, actor: AuditActor): Promise<TripExecutionView> {
    const row = this.row(tripId);
    if (!row) throw new DomainError('not_found', 'This trip has not been executed yet');
    if (row.status === 'pending' || row.status === 'processing')
      throw new DomainError('conflict', 'Wait until the execution has stopped before voiding a manifest');
    const m = this.manifests(row.id).find((x) => x.stop_number === stopNumber);
    if (!m?.manifest_id || m.state !== 'created') throw new DomainError('conflict', `Stop ${stopNumber} has no manifest to void`);
    await voidManifest(this.client(), m.manifest_id);
    const now = this.deps.now();
    this.deps.db.$client.transaction(() => {
      this.#sql.voided.run(now, row.id, stopNumber);
      this.#sql.progress.run(row.stops_done - 1, `The manifest of stop ${stopNumber} was voided`, now, row.id);
      recordAudit(this.deps.db, this.deps.audit, actor, {
        action: 'trips.manifest_voided',
        entity: 'trip',
        entityId: tripId,
        before: { stopNumber, manifestId: m.manifest_id },
      });
    })();
    this.changed(tripId);
    return this.view(tripId)!;
  }

  /** At start-up, and after any crash: picks up every execution that had not ended. */
  resumeInterrupted(): number {
    const open = this.#sql.open.all() as { trip_id: number }[];
    for (const { trip_id } of open) this.run(trip_id);
    return open.length;
  }

  /** Closing: waits stop at once, calls in flight finish; the rows stay open for the next start. */
  async stop(): Promise<void> {
    this.#closing = true;
    this.#wake();
    await Promise.allSettled([...this.#running.values()]);
  }

  /** Resolves when the trip's current run has ended (tests, benches). */
  settled(tripId: number): Promise<void> {
    return this.#running.get(tripId) ?? Promise.resolve();
  }

  view(tripId: number): TripExecutionView | null {
    const row = this.row(tripId);
    if (!row) return null;
    const trip = this.#sql.tripNumber.get(tripId) as { number: string } | undefined;
    return {
      tripId: row.trip_id,
      tripNumber: trip?.number ?? null,
      status: row.status,
      step: row.step,
      stopsTotal: row.stops_total,
      stopsDone: row.stops_done,
      message: row.progress_message,
      attempts: row.attempts,
      lastError: row.last_error,
      failedStop: row.failed_stop,
      stops: this.manifests(row.id).map((m) => ({ stopNumber: m.stop_number, state: m.state, manifestId: m.manifest_id, error: m.error })),
      createdAt: row.created_at,
      startedAt: row.started_at,
      updatedAt: row.updated_at,
      finishedAt: row.finished_at,
    };
  }

  private row(tripId: number): ExecutionRow | undefined {
    return this.#sql.get.get(tripId) as ExecutionRow | undefined;
  }

  private manifests(executionId: number): ManifestRow[] {
    return this.#sql.manifests.all(executionId) as ManifestRow[];
  }

  private client(): BioTrackClient {
    if (!this.deps.client) throw new DomainError('unavailable', 'No BioTrack address is set up for this station');
    return this.deps.client;
  }

  private changed(tripId: number): void {
    const view = this.view(tripId);
    if (!view) return;
    const row = this.row(tripId)!;
    this.deps.onStatus?.(tripId, view.status, view.message);
    this.deps.onProgress(view, row.started_by);
  }

  /** Tells `onEnded` of the end just recorded; what it cannot do (a bad mail address) is logged, never undoes that end. */
  private ended(tripId: number): void {
    const view = this.view(tripId);
    if (!view || !this.deps.onEnded) return;
    try {
      this.deps.onEnded(view);
    } catch (err) {
      this.deps.log.error({ err, tripId }, 'could not tell of a trip execution’s end');
    }
  }

  private run(tripId: number): void {
    if (this.#closing) return;
    // A run that is ending (it has pushed its end, not yet returned) goes first; the next one reads where it got.
    const run = (this.#running.get(tripId) ?? Promise.resolve())
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => this.work(tripId))
      .catch((error: unknown) => {
        // Only an unexpected fault lands here (a full disk, a bug): the row says so, the next start tries again.
        this.deps.log.error({ err: error, tripId }, 'trip execution stopped');
        try {
          const row = this.row(tripId);
          if (row)
            this.deps.db.$client.transaction(() => {
              this.#sql.fail.run({ message: `Stopped: ${(error as Error)?.message ?? String(error)}`, stop: null, now: this.deps.now(), id: row.id });
              this.ended(tripId);
            })();
          this.changed(tripId);
        } catch (err) {
          this.deps.log.error({ err, tripId }, 'could not record why a trip execution stopped');
        }
      })
      .finally(() => {
        if (this.#running.get(tripId) === run) this.#running.delete(tripId);
      });
    this.#running.set(tripId, run);
  }

  private async work(tripId: number, backoff = RETRY_FIRST_MS): Promise<void> {
    const start = this.row(tripId);
    if (this.#closing || !start || start.status === 'completed' || start.status === 'failed') return;
    const { now, probe } = this.deps;
    this.#sql.begin.run(now(), now(), start.id);
    const plan = this.deps.loadPlan(tripId);
    const total = plan.stops.length;
    const point = (p: ExecutionPoint) => probe?.(p, tripId);
    let delay = backoff;

    for (const stop of plan.stops) {
      const n = stop.stopNumber;
      const done = () => this.manifests(start.id).filter((m) => m.state === 'created').length;
      const have = this.manifests(start.id).find((m) => m.stop_number === n);
      if (have?.state === 'created') continue;
      const request = stopManifest(plan, n);
      const problems = manifestProblems(request, now());
      if (problems.length) return this.failAt(tripId, start.id, n, problems.join('; ').replace(/^Stop 1: /, ''), request);
      const fingerprint = fingerprintOf(request);
      // Intent left by a crash or a lost answer: this stop may already have its manifest.
      const maybeSent = have?.state === 'intent';
      // One commit per recording: each waits for the disk (synchronous = FULL).
      this.deps.db.$client.transaction(() => {
        this.#sql.intent.run(start.id, n, fingerprint, JSON.stringify(request), now(), now());
        this.#sql.progress.run(done(), `Creating the manifest for stop ${n} of ${total}`, now(), start.id);
      })();
      this.changed(tripId);
      point(`stop ${n}: intent recorded`);
      let result: { manifestId: string; recovered: boolean };
      try {
        // A changed plan (fixed after a failure) does not match what an earlier try may have sent: look that up too.
        const earlier = maybeSent && have && have.fingerprint !== fingerprint ? await findManifest(this.client(), JSON.parse(have.request)) : null;
        result = earlier ? { manifestId: earlier.manifestId, recovered: true } : await createManifestOnce(this.client(), request, now(), maybeSent);
      } catch (error) {
        if (!worthWaiting(error)) {
          const words = error instanceof Error ? error.message : String(error);
          return this.failAt(tripId, start.id, n, words, request);
        }
        const wait = Math.min(RETRY_MAX_MS, Math.max(delay, (error.retryAt ?? 0) - now()));
        this.#sql.waiting.run(`${downReason(error)}: trying stop ${n} again in ${Math.ceil(wait / 1000)} s`, error.message, now(), start.id);
        this.changed(tripId);
        this.deps.log.warn({ tripId, stop: n, err: error.message, wait }, 'BioTrack down during a trip execution');
        await Promise.race([this.deps.wait(wait), this.#closed]);
        // The earlier try may have reached BioTrack: its intent row makes the next one look first.
        return this.work(tripId, Math.min(RETRY_MAX_MS, delay * 2));
      }
      point(`stop ${n}: answered`);
      delay = RETRY_FIRST_MS;
      this.deps.db.$client.transaction(() => {
        this.#sql.created.run(result.manifestId, result.recovered ? 1 : 0, now(), start.id, n);
        this.#sql.progress.run(done(), `Manifest ${result.manifestId} created for stop ${n} of ${total}`, now(), start.id);
      })();
      this.changed(tripId);
      point(`stop ${n}: id recorded`);
    }
    this.deps.db.$client.transaction(() => {
      this.#sql.complete.run(`All ${total} manifests created`, total, now(), now(), start.id);
      this.ended(tripId);
    })();
    this.changed(tripId);
    point('completed');
  }

  private failAt(tripId: number, executionId: number, stopNumber: number, words: string, request: ManifestRequest): void {
    const now = this.deps.now();
    // Each stop goes to BioTrack as a manifest of its own, numbered 1 there: its words name our number.
    const said = words
      .replace(/\bstop number 1\b/g, `stop number ${stopNumber}`)
      .replace(/^BioTrack refused inventory_manifest: /, 'BioTrack refused the manifest: ');
    const message = `Stop ${stopNumber}: ${said}`;
    this.deps.db.$client.transaction(() => {
      this.#sql.refused.run(executionId, stopNumber, fingerprintOf(request), JSON.stringify(request), message, now, now);
      this.#sql.fail.run({ message, stop: stopNumber, now, id: executionId });
      this.ended(tripId);
    })();
    this.changed(tripId);
  }
}

function statements(db: Database.Database) {
  return {
    insert: db.prepare(
      "INSERT INTO trip_executions (trip_id, status, stops_total, progress_message, started_by, created_at, updated_at) VALUES (?, 'pending', ?, ?, ?, ?, ?)",
    ),
    get: db.prepare('SELECT * FROM trip_executions WHERE trip_id = ?'),
    tripNumber: db.prepare('SELECT number FROM trips WHERE id = ?'),
    open: db.prepare("SELECT trip_id FROM trip_executions WHERE status IN ('pending', 'processing') ORDER BY id"),
    manifests: db.prepare('SELECT * FROM trip_manifests WHERE execution_id = ? ORDER BY stop_number'),
    begin: db.prepare(
      "UPDATE trip_executions SET status = 'processing', attempts = attempts + 1, started_at = coalesce(started_at, ?), updated_at = ?, failed_stop = NULL WHERE id = ?",
    ),
    status: db.prepare('UPDATE trip_executions SET status = ?, progress_message = ?, updated_at = ?, step = step + 1 WHERE id = ?'),
    // Each recording before and after a BioTrack call counts a step.
    progress: db.prepare('UPDATE trip_executions SET stops_done = ?, progress_message = ?, updated_at = ?, step = step + 1 WHERE id = ?'),
    waiting: db.prepare('UPDATE trip_executions SET progress_message = ?, last_error = ?, updated_at = ? WHERE id = ?'),
    intent: db.prepare(
      `INSERT INTO trip_manifests (execution_id, stop_number, state, fingerprint, request, created_at, updated_at) VALUES (?, ?, 'intent', ?, ?, ?, ?)
       ON CONFLICT (execution_id, stop_number) DO UPDATE SET state = 'intent', fingerprint = excluded.fingerprint, request = excluded.request,
         manifest_id = NULL, recovered = 0, error = NULL, updated_at = excluded.updated_at`,
    ),
    created: db.prepare(
      "UPDATE trip_manifests SET state = 'created', manifest_id = ?, recovered = ?, error = NULL, updated_at = ? WHERE execution_id = ? AND stop_number = ?",
    ),
    refused: db.prepare(
      `INSERT INTO trip_manifests (execution_id, stop_number, state, fingerprint, request, error, created_at, updated_at) VALUES (?, ?, 'refused', ?, ?, ?, ?, ?)
       ON CONFLICT (execution_id, stop_number) DO UPDATE SET state = 'refused', error = excluded.error, updated_at = excluded.updated_at`,
    ),
    voided: db.prepare("UPDATE trip_manifests SET state = 'voided', updated_at = ? WHERE execution_id = ? AND stop_number = ?"),
    fail: db.prepare(
      "UPDATE trip_executions SET status = 'failed', last_error = @message, progress_message = @message, failed_stop = @stop, finished_at = @now, updated_at = @now WHERE id = @id",
    ),
    complete: db.prepare(
      "UPDATE trip_executions SET status = 'completed', progress_message = ?, stops_done = ?, last_error = NULL, failed_stop = NULL, finished_at = ?, updated_at = ? WHERE id = ?",
    ),
  };
}
