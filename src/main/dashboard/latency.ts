/**
 * Scan → stored latency, measured in main: a bounded ring of recent samples, nothing persisted.
 * At the dock door's pace (a scan every second or two) 4096 samples cover more than the hour shown.
 */
export const LATENCY_WINDOW_MS = 60 * 60_000;

export interface LatencySummary {
  samples: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

export class LatencyRing {
  readonly #at: Float64Array;
  readonly #ms: Float64Array;
  #next = 0;
  #size = 0;

  constructor(readonly capacity = 4096) {
    this.#at = new Float64Array(capacity);
    this.#ms = new Float64Array(capacity);
  }

  /** A scan stored at `at` (station clock) that took `ms` from its arrival in main. */
  record(at: number, ms: number): void {
    this.#at[this.#next] = at;
    this.#ms[this.#next] = ms;
    this.#next = (this.#next + 1) % this.capacity;
    this.#size = Math.min(this.#size + 1, this.capacity);
  }

  /** p50 and p95 (nearest rank) of the samples stored in (now − windowMs, now]. */
  summary(now: number, windowMs = LATENCY_WINDOW_MS): LatencySummary {
    const values: number[] = [];
    for (let i = 0; i < this.#size; i++) {
      const at = this.#at[i];
      if (at > now - windowMs && at <= now) values.push(this.#ms[i]);
    }
    if (values.length === 0) return { samples: 0, p50Ms: null, p95Ms: null };
    values.sort((a, b) => a - b);
    return { samples: values.length, p50Ms: nearestRank(values, 0.5), p95Ms: nearestRank(values, 0.95) };
  }
}

/** The smallest value with at least fraction q of the samples at or below it. */
export function nearestRank(sorted: readonly number[], q: number): number {
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return Math.round(sorted[rank - 1] * 10) / 10;
}
