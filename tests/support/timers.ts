import type { Timers } from '../../src/main/platform/timers';
import type { ManualClock } from './station';

/** Timers on a ManualClock: nothing fires until the test moves the clock with `advance`. */
export class ManualTimers implements Timers {
  #pending: { due: number; fn: () => void }[] = [];

  constructor(private readonly clock: ManualClock) {}

  after(ms: number, fn: () => void): () => void {
    const entry = { due: this.clock.now() + ms, fn };
    this.#pending.push(entry);
    return () => {
      this.#pending = this.#pending.filter((e) => e !== entry);
    };
  }

  get pending(): number {
    return this.#pending.length;
  }

  /** Moves the clock on and runs, in time order, every timer that came due. */
  advance(ms: number): void {
    const until = this.clock.now() + ms;
    for (;;) {
      const next = this.#pending.filter((e) => e.due <= until).sort((a, b) => a.due - b.due)[0];
      if (!next) break;
      this.#pending = this.#pending.filter((e) => e !== next);
      if (next.due > this.clock.now()) this.clock.advance(next.due - this.clock.now());
      next.fn();
    }
    if (until > this.clock.now()) this.clock.advance(until - this.clock.now());
  }
}
