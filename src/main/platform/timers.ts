/** One-shot timers, injected beside the clock so tests move time by hand instead of waiting. */
export interface Timers {
  /** Runs fn after ms; returns a function that cancels it. */
  after(ms: number, fn: () => void): () => void;
}

export const systemTimers: Timers = {
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    // A pending push or day roll-over must not keep a closing process alive.
    t.unref();
    return () => clearTimeout(t);
  },
};
