import { onDestroy } from 'svelte';
import type { JobView } from '../../../shared/contract/jobs';
import { call, on, onConnection } from './client';

export const isFinished = (job: JobView): boolean => job.status !== 'running' && job.status !== 'queued';

/**
 * Follows one background job (an import, an export) through main's `job/progress` events; nothing
 * polls. The job's state is fetched once when following starts, because the job may move on or
 * finish before its id is known here, and once after a reconnect, for events missed while the
 * connection was down. Create it while a component initialises: its subscriptions end with it.
 */
export class JobTracker {
  /** The job followed, as last heard; null when none. */
  job = $state<JobView | null>(null);
  #finished: ((job: JobView) => void) | null = null;

  constructor() {
    const stops = [on('job/progress', (job) => this.#apply(job)), onConnection((connected) => connected && void this.#fetch())];
    onDestroy(() => stops.forEach((stop) => stop()));
  }

  /** Starts following `job`; resolves with its final state (succeeded, failed or cancelled). */
  follow(job: JobView): Promise<JobView> {
    this.job = job;
    if (isFinished(job)) return Promise.resolve(job);
    const finished = new Promise<JobView>((resolve) => (this.#finished = resolve));
    void this.#fetch();
    return finished;
  }

  /** Stops following; a later event for the old job changes nothing. */
  clear(): void {
    this.job = null;
    this.#finished = null;
  }

  #apply(next: JobView): void {
    const current = this.job;
    if (!current || next.id !== current.id || isFinished(current)) return;
    // The fetched state can arrive after a newer event: never step back.
    if (!isFinished(next) && next.rowsDone < current.rowsDone) return;
    this.job = next;
    if (isFinished(next)) {
      this.#finished?.(next);
      this.#finished = null;
    }
  }

  async #fetch(): Promise<void> {
    const job = this.job;
    if (!job || isFinished(job)) return;
    const r = await call('jobs/get', { jobId: job.id });
    if (r.ok) this.#apply(r.value);
  }
}
