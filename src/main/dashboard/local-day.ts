import { offsetAt, wallTime } from '../upstreams/zoned-time';

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

/** The first instant of the local date y-m-d (midnight, or the first hour after a jump over midnight). */
function startOfDate(y: number, m: number, d: number, timeZone: string): number {
  const wall = Date.UTC(y, m - 1, d);
  let t = wall - offsetAt(timeZone, wall);
  t = wall - offsetAt(timeZone, t);
  // Zones that jump over midnight (clocks 23:59 → 01:00) have no 00:00: the day starts at the jump.
  for (let i = 0; i < 4; i++) {
    const w = wallTime(timeZone, t);
    if (Date.UTC(w.year, w.month - 1, w.day) >= wall) break;
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
  const w = wallTime(timeZone, ms);
  const start = startOfDate(w.year, w.month, w.day, timeZone);
  // Date.UTC rolls 32 November over to 2 December, so the next date needs no calendar here.
  const next = new Date(Date.UTC(w.year, w.month - 1, w.day + 1));
  const end = startOfDate(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), timeZone);
  const hours: LocalDay['hours'] = [];
  for (let t = start; t < end; t += HOUR) {
    const h = wallTime(timeZone, t);
    hours.push({ start: t, label: `${String(h.hour).padStart(2, '0')}:${String(h.minute).padStart(2, '0')}` });
  }
  return { start, end, hours, label: dayLabel(start, timeZone) };
}
