import { DAILY_TIME } from '../../shared/contract/erp-schedule';

/**
 * Wall-clock times in an IANA time zone, with nothing but Intl (no time-zone library): the offset
 * of a zone at an instant, the instant of a wall time, and the next of a list of daily times.
 *
 * DST, as Temporal's "compatible" disambiguation does it:
 * - a wall time the clocks skip (02:30 when Sydney goes from 02:00 to 03:00 on the first Sunday
 *   of October) happens as late as the jump: 03:30, the same distance past the jump;
 * - a wall time that happens twice (02:30 when Sydney goes from 03:00 back to 02:00 on the first
 *   Sunday of April) happens once, the first time.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export interface WallTime {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second?: number;
}

/** The wall clock in `timeZone` at `instant`. */
export function wallTime(timeZone: string, instant: number): Required<WallTime> {
  const out: Record<string, number> = {};
  for (const p of partsFormatter(timeZone).formatToParts(new Date(instant))) if (p.type !== 'literal') out[p.type] = Number(p.value);
  return { year: out.year, month: out.month, day: out.day, hour: out.hour % 24, minute: out.minute, second: out.second };
}

/** Milliseconds the zone is ahead of UTC at `instant` (Sydney: +10 h, +11 h in summer). */
export function offsetAt(timeZone: string, instant: number): number {
  const w = wallTime(timeZone, instant);
  const whole = Math.floor(instant / 1000) * 1000;
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - whole;
}

/** The instant a wall time happens in `timeZone` (see the DST rules at the top). */
export function instantOf(timeZone: string, w: WallTime): number {
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second ?? 0);
  // Offsets a day either side: any transition near this wall time lies between them.
  const before = offsetAt(timeZone, asUtc - 86_400_000);
  const after = offsetAt(timeZone, asUtc + 86_400_000);
  const fits = [...new Set([before, after])].map((o) => asUtc - o).filter((t) => offsetAt(timeZone, t) === asUtc - t);
  if (fits.length > 0) return Math.min(...fits);
  // Skipped by the clocks: read with the offset before the jump, it lands as far past the jump.
  return asUtc - before;
}

/** "06:00" → minutes after midnight. */
function minutesOf(time: string): number {
  if (!DAILY_TIME.test(time)) throw new Error(`Not a time: ${time}`);
  return Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));
}

/** Daily times sorted, each once. */
export function normalizeTimes(times: readonly string[]): string[] {
  return [...new Set(times)].sort((a, b) => minutesOf(a) - minutesOf(b));
}

/** The instants of the daily `times` on the zone's calendar days from the day before `from` to `days` days after it. */
function slotsAround(timeZone: string, times: readonly string[], from: number, days: number): number[] {
  const minutes = normalizeTimes(times).map(minutesOf);
  const today = wallTime(timeZone, from);
  const out: number[] = [];
  for (let d = -1; d <= days; d++) {
    // Date.UTC rolls day 32 over into the next month; only the calendar date is read from it.
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day + d));
    for (const m of minutes) {
      out.push(
        instantOf(timeZone, {
          year: date.getUTCFullYear(),
          month: date.getUTCMonth() + 1,
          day: date.getUTCDate(),
          hour: Math.floor(m / 60),
          minute: m % 60,
        }),
      );
    }
  }
  return [...new Set(out)].sort((a, b) => a - b);
}

/** The first of the daily `times` in `timeZone` strictly after `after`; null with no times. */
export function nextRun(timeZone: string, times: readonly string[], after: number): number | null {
  if (times.length === 0) return null;
  return slotsAround(timeZone, times, after, 2).find((t) => t > after) ?? null;
}

/** The last of the daily `times` in `timeZone` at or before `at`; null with no times. */
export function previousRun(timeZone: string, times: readonly string[], at: number): number | null {
  if (times.length === 0) return null;
  // From the day before yesterday: the day before `at` is always in the list.
  return (
    slotsAround(timeZone, times, at - 86_400_000, 2)
      .filter((t) => t <= at)
      .at(-1) ?? null
  );
}

/** "Sun 5 Oct 2026, 06:00 AEDT" in `timeZone` (the station's own zone without one); built from parts, so ICU versions agree. */
export function describeInstant(instant: number, timeZone?: string): string {
  const p: Record<string, string> = {};
  const f = new Intl.DateTimeFormat('en-AU', {
    timeZone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  });
  for (const part of f.formatToParts(new Date(instant))) p[part.type] = part.value;
  return `${p.weekday} ${p.day} ${p.month} ${p.year}, ${p.hour}:${p.minute} ${p.timeZoneName}`;
}

/** "09:12" in `timeZone` (the station's own zone without one). */
export function hourMinuteIn(instant: number, timeZone?: string): string {
  return new Intl.DateTimeFormat('en-AU', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(instant));
}

/** The zone this process runs in ("Australia/Sydney"; "UTC" on most servers). */
export function stationTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}
