import { describe, expect, it } from 'vitest';
import { LatencyRing, nearestRank } from '../../src/main/dashboard/latency';
import { localDay } from '../../src/main/dashboard/local-day';

const SYD = 'Australia/Sydney';
const H = 3_600_000;

describe("the station's local day", () => {
  it('runs from local midnight to local midnight, in the station zone, not UTC', () => {
    // 08:00 UTC on 25 November is 19:00 in Sydney (UTC+11): the Sydney day began at 13:00 UTC the day before.
    const day = localDay(Date.UTC(2026, 10, 25, 8), SYD);
    expect(day.start).toBe(Date.UTC(2026, 10, 24, 13));
    expect(day.end).toBe(Date.UTC(2026, 10, 25, 13));
    expect(day.hours).toHaveLength(24);
    expect(day.hours[0]).toEqual({ start: day.start, label: '00:00' });
    expect(day.hours[23].label).toBe('23:00');
    expect(day.label).toBe('Wednesday 25 November 2026');
  });

  it('the last millisecond before local midnight belongs to the day before; midnight itself to the new day', () => {
    const midnight = Date.UTC(2026, 10, 25, 13);
    expect(localDay(midnight - 1, SYD).end).toBe(midnight);
    expect(localDay(midnight, SYD).start).toBe(midnight);
    expect(localDay(midnight, SYD).label).toBe('Thursday 26 November 2026');
  });

  it('has 23 hours on the day clocks go forward (no 02:00) and 25 on the day they go back (02:00 twice)', () => {
    const spring = localDay(Date.UTC(2026, 9, 4, 1), SYD);
    expect(spring.end - spring.start).toBe(23 * H);
    expect(spring.hours.map((h) => h.label).slice(0, 4)).toEqual(['00:00', '01:00', '03:00', '04:00']);
    const autumn = localDay(Date.UTC(2026, 3, 5, 1), SYD);
    expect(autumn.end - autumn.start).toBe(25 * H);
    expect(autumn.hours.map((h) => h.label).slice(0, 5)).toEqual(['00:00', '01:00', '02:00', '02:00', '03:00']);
  });

  it('works in UTC and in zones behind it', () => {
    expect(localDay(Date.UTC(2026, 10, 25, 23, 59), 'UTC')).toMatchObject({ start: Date.UTC(2026, 10, 25), end: Date.UTC(2026, 10, 26) });
    // 03:00 UTC is still the 24th in New York (UTC−5).
    const ny = localDay(Date.UTC(2026, 10, 25, 3), 'America/New_York');
    expect(ny.start).toBe(Date.UTC(2026, 10, 24, 5));
    expect(ny.hours).toHaveLength(24);
  });
});

describe('scan latency ring', () => {
  it('gives nearest-rank p50 and p95 of the last hour only', () => {
    const ring = new LatencyRing(1000);
    const now = 10 * H;
    for (let i = 1; i <= 100; i++) ring.record(now - 1000 * i, i); // 1..100 ms inside the hour
    ring.record(now - H - 1, 5000); // older than the hour: left out
    expect(ring.summary(now)).toEqual({ samples: 100, p50Ms: 50, p95Ms: 95 });
  });

  it('keeps only its capacity of newest samples, and says null when there are none', () => {
    const ring = new LatencyRing(10);
    expect(ring.summary(0)).toEqual({ samples: 0, p50Ms: null, p95Ms: null });
    for (let i = 1; i <= 25; i++) ring.record(i, i * 10);
    expect(ring.summary(100)).toEqual({ samples: 10, p50Ms: 200, p95Ms: 250 });
  });

  it('nearest rank on one sample is that sample', () => {
    expect(nearestRank([7.25], 0.95)).toBe(7.3);
  });
});
