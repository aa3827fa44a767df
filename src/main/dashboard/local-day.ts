/**
 * The station's local day in an IANA time zone, with its hours, from Intl alone. A day is
 * [start, end): 24 hours long, 23 or 25 on the days daylight saving starts or ends.
 */
export interface LocalDay {
  start: number;
  end: number;
  /** Each local hour's first instant and its label ("07:00"); the hour that repeats is listed twice. */
  hours: { start: number; label: string }[];
  label: string;
}

const HOUR = 3_600_000;
const formats = new Map<string, Intl.DateTimeFormat>();

function wallFormat(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
    });
    formats.set(timeZone, f);
  }
  return f;
}

/** The wall clock in `timeZone` at instant `ms`. */
export function wallClock(ms: number, timeZone: string): { y: number; m: number; d: number; h: number; mi: number; s: number } {
  const p: Record<string, number> = {};
  for (const part of wallFormat(timeZone).formatToParts(ms)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return { y: p.year, m: p.month, d: p.day, h: p.hour % 24, mi: p.minute, s: p.second };
}

/** How far `timeZone`'s wall clock is ahead of UTC at `ms`. */
function offsetAt(ms: number, timeZone: string): number {
  const w = wallClock(ms, timeZone);
  const whole = Math.floor(ms / 1000) * 1000;
  return Date.UTC(w.y, w.m - 1, w.d, w.h, w.mi, w.s) - whole;
}

/** The first instant of the local date y-m-d (midnight, or the first hour after a jump over midnight). */
function startOfDate(y: number, m: number, d: number, timeZone: string): number {
  const wall = Date.UTC(y, m - 1, d);
  let t = wall - offsetAt(wall, timeZone);
  t = wall - offsetAt(t, timeZone);
  // Zones that jump over midnight (clocks 23:59 → 01:00) have no 00:00: the day starts at the jump.
  for (let i = 0; i < 4; i++) {
    const w = wallClock(t, timeZone);
    if (Date.UTC(w.y, w.m - 1, w.d) >= wall) break;
    t += HOUR;
  }
  return t;
}

/** Names the local day that holds `ms`: "Thursday 26 November 2026". */
function dayLabel(ms: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }).formatToParts(ms);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('weekday')} ${part('day')} ${part('month')} ${part('year')}`;
}

export function localDay(ms: number, timeZone: string): LocalDay {
  const w = wallClock(ms, timeZone);
  const start = startOfDate(w.y, w.m, w.d, timeZone);
  // Date.UTC rolls 32 November over to 2 December, so the next date needs no calendar here.
  const next = new Date(Date.UTC(w.y, w.m - 1, w.d + 1));
  const end = startOfDate(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), timeZone);
  const hours: LocalDay['hours'] = [];
  for (let t = start; t < end; t += HOUR) {
    const h = wallClock(t, timeZone);
    hours.push({ start: t, label: `${String(h.h).padStart(2, '0')}:${String(h.mi).padStart(2, '0')}` });
  }
  return { start, end, hours, label: dayLabel(start, timeZone) };
}

/** The station's own zone when none is configured. */
export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}
