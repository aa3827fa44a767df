/**
 * Keyboard-wedge scanners type the barcode as keystrokes, much faster than a person, and end
 * with Enter or Tab. This tells such a burst from typing, by timing alone. Pure: the DOM glue
 * lives in scans.svelte.ts, so this is unit-tested with recorded key timings.
 */
export interface WedgeOptions {
  /** Largest gap between two keys of one burst. Scanners send a key every 2–20 ms; people 80+ ms. */
  maxGapMs: number;
  /** Shortest burst taken as a scan; shorter ones are a person's fast rollover. */
  minLength: number;
}

export const DEFAULT_WEDGE: WedgeOptions = { maxGapMs: 45, minLength: 3 };

export type WedgeVerdict =
  /** A printable key that may belong to a burst; `first` marks the first key of a new one. */
  | { kind: 'char'; first: boolean }
  /** The terminator of a burst: `code` is the scan, and the caller swallows the key. */
  | { kind: 'scan'; code: string; length: number }
  /** A key the detector does not care about (modifiers, or a terminator after slow typing). */
  | { kind: 'other' };

const MODIFIERS = new Set(['Shift', 'Control', 'Alt', 'AltGraph', 'Meta', 'CapsLock']);

export class WedgeDetector {
  #buffer = '';
  #lastAt = -Infinity;

  constructor(private readonly options: WedgeOptions = DEFAULT_WEDGE) {}

  key(key: string, at: number): WedgeVerdict {
    if (MODIFIERS.has(key)) return { kind: 'other' };
    const gap = at - this.#lastAt;
    if (key === 'Enter' || key === 'Tab') {
      const code = this.#buffer;
      const fast = gap <= this.options.maxGapMs * 2; // scanners may pause a little before the suffix
      this.reset();
      return fast && code.length >= this.options.minLength ? { kind: 'scan', code, length: code.length } : { kind: 'other' };
    }
    if (key.length !== 1) {
      this.reset();
      return { kind: 'other' };
    }
    const first = this.#buffer === '' || gap > this.options.maxGapMs;
    this.#buffer = first ? key : this.#buffer + key;
    this.#lastAt = at;
    return { kind: 'char', first };
  }

  reset(): void {
    this.#buffer = '';
    this.#lastAt = -Infinity;
  }
}
