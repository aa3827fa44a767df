import type { Logger } from './logger';

/**
 * One kind of warning that anyone on the machine can trigger at will (a refused connection): the
 * first `burst` in each window are logged one by one, the rest counted, and the count logged as
 * one line when the next window begins or the host stops. A flood fills no disk, and nothing
 * is hidden. Windows run on the injected clock, so tests move time instead of waiting for it.
 */
export class ThrottledWarning {
  #windowStart = Number.NEGATIVE_INFINITY;
  #logged = 0;
  #suppressed = 0;
  readonly #burst: number;
  readonly #windowMs: number;

  constructor(
    private readonly opts: {
      log: Logger;
      message: string;
      now: () => number;
      /** Lines logged one by one per window; default 10. */
      burst?: number;
      /** Default one minute. */
      windowMs?: number;
    },
  ) {
    this.#burst = opts.burst ?? 10;
    this.#windowMs = opts.windowMs ?? 60_000;
  }

  warn(fields: Record<string, unknown>): void {
    const t = this.opts.now();
    if (t - this.#windowStart >= this.#windowMs) {
      this.flush();
      this.#windowStart = t;
      this.#logged = 0;
    }
    if (this.#logged < this.#burst) {
      this.#logged += 1;
      this.opts.log.warn(fields, this.opts.message);
    } else {
      this.#suppressed += 1;
    }
  }

  /** Logs how many were counted and not logged since the last line, if any. */
  flush(): void {
    if (this.#suppressed === 0) return;
    this.opts.log.warn({ notLogged: this.#suppressed }, `${this.opts.message}: ${this.#suppressed} more not logged one by one`);
    this.#suppressed = 0;
  }
}

/** A client-sent value for a log line: a string of bounded length, whatever was sent. */
export function clipped(value: unknown, max = 200): string | undefined {
  if (value === undefined) return undefined;
  const s = String(value);
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
