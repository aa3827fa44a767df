import { MAX_CELL_CHARS, type RawCell } from './types';

const problem = (text: string): RawCell => Object.freeze({ problem: text });

/** The same object for every over-long cell: nothing is allocated per cell. */
export const TOO_LONG = problem(`a cell of more than ${MAX_CELL_CHARS.toLocaleString('en-US')} characters`);
export const FORMULA_WITHOUT_VALUE = problem('a formula without a saved value: open the file in Excel and save it again, or paste values');
export const UNREADABLE_NUMBER = problem('a number that cannot be read');

export const errorValue = (code: string): RawCell => problem(`an error value (${code.slice(0, 40)})`);

/**
 * Text arriving in pieces, kept up to MAX_CELL_CHARS: past that only the fact that it was too long
 * is kept, so a cell of a gigabyte never becomes a string.
 */
export class CappedText {
  value = '';
  length = 0;
  tooLong = false;

  reset(): void {
    this.value = '';
    this.length = 0;
    this.tooLong = false;
  }

  add(piece: string): void {
    if (this.tooLong) return;
    const length = this.length + piece.length;
    if (length > MAX_CELL_CHARS) {
      this.tooLong = true;
      this.value = '';
      return;
    }
    this.value = this.length ? this.value + piece : piece;
    this.length = length;
  }
}

const ESCAPED = /_x([0-9A-Fa-f]{4})_/g;

/** Excel writes characters XML cannot hold (a carriage return, a tab) as `_x000D_`; `_x005F_` is a literal underscore. */
export function unescapeOoxml(s: string): string {
  return s.indexOf('_x') < 0 ? s : s.replace(ESCAPED, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * The text of a string item, `<si>` in sharedStrings.xml or `<is>` in a cell: the `<t>` of plain
 * text or of every rich-text run `<r>`, joined; phonetic guides `<rPh>` (Japanese readings) are
 * not part of the text Excel shows, so they are skipped.
 */
export class StringItem {
  readonly text = new CappedText();
  private inText = false;
  private phonetic = 0;

  start(): void {
    this.text.reset();
    this.inText = false;
    this.phonetic = 0;
  }

  get wantsText(): boolean {
    return this.inText && this.phonetic === 0;
  }

  open(name: string): void {
    if (name === 't') this.inText = true;
    else if (name === 'rPh') this.phonetic++;
  }

  close(name: string): void {
    if (name === 't') this.inText = false;
    else if (name === 'rPh') this.phonetic--;
  }

  /** The finished item: its text, or TOO_LONG. */
  result(): string | RawCell {
    return this.text.tooLong ? TOO_LONG : unescapeOoxml(this.text.value);
  }
}

const DAY_MS = 86_400_000;
/** 9999-12-31, the last day Excel shows. */
const LAST_SERIAL = 2_958_465;

/**
 * An Excel date serial as ISO text. In the 1900 system day 1 is 1900-01-01 and day 60 is the
 * 29 February 1900 Excel keeps for Lotus 1-2-3's sake; the 1904 system (old Mac workbooks)
 * counts from 1904-01-01 = 0. Times are rounded to the second, as Excel shows them.
 */
export function serialToIso(serial: number, date1904: boolean): string | null {
  if (!(serial >= 0) || serial >= LAST_SERIAL + 1) return null;
  let days = Math.floor(serial);
  let seconds = Math.round((serial - days) * 86_400);
  if (seconds === 86_400) {
    days++;
    seconds = 0;
  }
  const time = seconds ? new Date(seconds * 1000).toISOString().slice(10, 19) : '';
  if (!date1904 && days === 60) return `1900-02-29${time}`;
  const epoch = date1904 ? Date.UTC(1904, 0, 1) : days < 60 ? Date.UTC(1899, 11, 31) : Date.UTC(1899, 11, 30);
  return new Date(epoch + days * DAY_MS).toISOString().slice(0, 10) + time;
}

const ISO_DATE = /^\s*(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(:\d{2})?(?:[.,]\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?\s*$/;

/** A t="d" cell's ISO 8601 value, as yyyy-mm-dd with Thh:mm:ss when the time is not midnight. */
export function isoDateCell(v: string): RawCell {
  const m = ISO_DATE.exec(v);
  if (!m) return problem(`a date that cannot be read (${v.slice(0, 40)})`);
  const time = m[2] ? m[2] + (m[3] ?? ':00') : '';
  return { date: time && time !== '00:00:00' ? `${m[1]}T${time}` : m[1] };
}

export function serialDateCell(serial: number, date1904: boolean): RawCell {
  const iso = serialToIso(serial, date1904);
  return iso === null ? problem(`a date Excel cannot show (${serial})`) : { date: iso };
}

/** Built-in number formats that are dates or times: 14–22 and 45–47, and the East Asian date formats 27–36 and 50–58. */
export function isBuiltinDateFormat(id: number): boolean {
  return (id >= 14 && id <= 22) || (id >= 27 && id <= 36) || (id >= 45 && id <= 47) || (id >= 50 && id <= 58);
}

/**
 * A custom number format is a date or time when it has a d, m, y, h or s outside quoted text,
 * escaped characters and [brackets] (colours, locales, conditions) — but `[h]`, `[mm]`, `[ss]`
 * (elapsed time) count.
 */
export function isDateFormatCode(code: string): boolean {
  for (let i = 0; i < code.length; i++) {
    const c = code[i];
    if (c === '"') {
      const end = code.indexOf('"', i + 1);
      if (end < 0) return false;
      i = end;
    } else if (c === '\\' || c === '_' || c === '*') {
      i++; // an escaped character, a space the width of the next one, a fill character
    } else if (c === '[') {
      const end = code.indexOf(']', i + 1);
      if (end < 0) return false;
      if (/^(h+|m+|s+)$/i.test(code.slice(i + 1, end))) return true;
      i = end;
    } else if ('dmyhsDMYHS'.includes(c)) {
      return true;
    }
  }
  return false;
}
