import { KEY, MOD, US_LAYOUT, type KeyMap } from './keymap';

/** One barcode read, whatever the device's mode. */
export interface Barcode {
  /** The data, AIM prefix removed; GS1 group separators (\x1d) kept. */
  code: string;
  /** AIM symbology identifier such as ']C1' (GS1-128) or ']E0' (EAN-13), when the scanner sent one. */
  aim: string | null;
  /** How the read ended. */
  end: 'enter' | 'tab' | 'timeout' | 'report';
}

const AIM = /^\][A-Za-z0-9][0-9A-Za-z]/;

/** Scanners configured to send the AIM identifier put it first: record it and strip it. */
export function splitAim(text: string): { code: string; aim: string | null } {
  const m = AIM.exec(text);
  return m ? { code: text.slice(3), aim: m[0] } : { code: text, aim: null };
}

export interface KeyboardDecoderOptions {
  /** Reports further apart than this end a read without a terminator (scanners set to no suffix). */
  interReportTimeoutMs: number;
  layoutOverrides?: KeyMap;
}

/**
 * Decodes boot-protocol keyboard reports (modifier byte, reserved byte, six key codes), the way
 * a keyboard-mode scanner talks. A character is typed when its key code appears in a report
 * where it was absent from the previous one, so "11" needs the release report in between, as a
 * real key does. Shift comes from the modifier byte, Caps Lock toggles letter case, Ctrl+]
 * (Ctrl+5 on some scanners) is the GS1 group separator.
 */
export class KeyboardReportDecoder {
  #pressed = new Set<number>();
  #text = '';
  #caps = false;
  #lastAt = -Infinity;
  readonly #layout: KeyMap;

  constructor(private readonly options: KeyboardDecoderOptions = { interReportTimeoutMs: 100 }) {
    this.#layout = { ...US_LAYOUT, ...options.layoutOverrides };
  }

  /** Feeds one report; returns the barcodes it completed (a timeout can complete an earlier one). */
  feed(report: Uint8Array, at: number): Barcode[] {
    const out: Barcode[] = [];
    const timedOut = this.flushIfIdle(at);
    if (timedOut) out.push(timedOut);
    this.#lastAt = at;
    // Reports with a report-ID byte first are 9 bytes; boot reports are 8.
    const r = report.length === 9 ? report.subarray(1) : report;
    if (r.length < 8) return out;
    const modifiers = r[0];
    const keys = new Set<number>();
    for (let i = 2; i < 8; i++) if (r[i] > 0x03) keys.add(r[i]); // 0x01–0x03 are error states
    const shift = (modifiers & (MOD.L_SHIFT | MOD.R_SHIFT)) !== 0;
    const ctrl = (modifiers & (MOD.L_CTRL | MOD.R_CTRL)) !== 0;
    for (const key of keys) {
      if (this.#pressed.has(key)) continue; // still held, not typed again
      if (key === KEY.CAPS_LOCK) {
        this.#caps = !this.#caps;
      } else if (key === KEY.ENTER || key === KEY.KEYPAD_ENTER || key === KEY.TAB) {
        if (this.#text) out.push({ ...splitAim(this.#text), end: key === KEY.TAB ? 'tab' : 'enter' });
        this.#text = '';
      } else if (ctrl && (key === KEY.CLOSE_BRACKET || key === KEY.FIVE)) {
        this.#text += '\x1d';
      } else {
        const chars = this.#layout[key];
        if (!chars) continue;
        let c = chars[shift ? 1 : 0];
        if (this.#caps && /^[a-z]$/i.test(c)) c = c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase();
        this.#text += c;
      }
    }
    this.#pressed = keys;
    return out;
  }

  /** Ends a read that stopped without a terminator; call on a timer too. */
  flushIfIdle(now: number): Barcode | null {
    if (this.#text && now - this.#lastAt > this.options.interReportTimeoutMs) {
      const b: Barcode = { ...splitAim(this.#text), end: 'timeout' };
      this.#text = '';
      this.#pressed.clear();
      return b;
    }
    return null;
  }
}

/**
 * Where the fields of a HID POS (usage page 0x8C) Scanned Data Report sit. Defaults follow the
 * layout Honeywell scanners use in HID POS mode (as public drivers read it); another make can
 * be described here without code changes.
 */
export interface PosReportLayout {
  reportId: number;
  /** Byte offsets counted from the report-ID byte (node-hid gives it as byte 0). */
  lengthAt: number;
  aimAt: number;
  dataAt: number;
  /** Non-zero here: more reports of the same read follow. */
  continuedAt: number;
}

export const HONEYWELL_POS_LAYOUT: PosReportLayout = { reportId: 0x02, lengthAt: 1, aimAt: 2, dataAt: 5, continuedAt: 63 };

/** Decodes HID POS scanned-data reports; long barcodes span several reports. */
export class PosReportDecoder {
  #parts: number[] = [];
  #aim: string | null = null;

  constructor(private readonly layout: PosReportLayout = HONEYWELL_POS_LAYOUT) {}

  feed(report: Uint8Array): Barcode[] {
    const L = this.layout;
    if (report.length <= L.dataAt || report[0] !== L.reportId) return [];
    const length = Math.min(report[L.lengthAt], report.length - L.dataAt);
    const aimBytes = report.subarray(L.aimAt, L.aimAt + 3);
    if (this.#parts.length === 0 && aimBytes[0] === 0x5d /* ] */) this.#aim = String.fromCharCode(...aimBytes);
    for (let i = 0; i < length; i++) this.#parts.push(report[L.dataAt + i]);
    const continued = report.length > L.continuedAt && report[L.continuedAt] !== 0;
    if (continued) return [];
    const text = Buffer.from(this.#parts).toString('latin1');
    const aim = this.#aim;
    this.#parts = [];
    this.#aim = null;
    // Some scanners also prefix the data itself with the AIM id.
    const split = aim ? { code: text, aim } : splitAim(text);
    return split.code ? [{ ...split, end: 'report' }] : [];
  }
}
