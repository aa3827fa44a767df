import { describe, expect, it } from 'vitest';
import { prewarmScheduleSchema } from '../../src/shared/contract/erp-schedule';
import { describeInstant, instantOf, nextRun, normalizeTimes, offsetAt, previousRun } from '../../src/main/upstreams/zoned-time';

const SYD = 'Australia/Sydney';
const utc = (iso: string) => Date.parse(iso);
const HOUR = 3_600_000;

describe('wall times in a zone', () => {
  it('reads Sydney’s offset: +10 h in winter, +11 h in summer', () => {
    expect(offsetAt(SYD, utc('2026-07-01T00:00:00Z'))).toBe(10 * HOUR);
    expect(offsetAt(SYD, utc('2026-12-01T00:00:00Z'))).toBe(11 * HOUR);
    expect(offsetAt('UTC', utc('2026-12-01T00:00:00Z'))).toBe(0);
  });

  it('maps an ordinary wall time to its instant', () => {
    expect(instantOf(SYD, { year: 2026, month: 11, day: 26, hour: 9, minute: 12 })).toBe(utc('2026-11-25T22:12:00Z'));
    expect(instantOf(SYD, { year: 2026, month: 6, day: 1, hour: 6, minute: 0 })).toBe(utc('2026-05-31T20:00:00Z'));
  });
});

describe('next prewarm run', () => {
  it('is the first listed time after now, today or tomorrow', () => {
    const now = utc('2026-11-25T22:12:00Z'); // Thu 26 Nov 09:12 AEDT
    expect(nextRun(SYD, ['06:00', '17:30'], now)).toBe(utc('2026-11-26T06:30:00Z')); // 17:30 today
    expect(nextRun(SYD, ['06:00'], now)).toBe(utc('2026-11-26T19:00:00Z')); // 06:00 tomorrow
    // Exactly at a time: that run is now, the next one is tomorrow's.
    expect(nextRun(SYD, ['09:12'], now)).toBe(now + 24 * HOUR);
    expect(nextRun(SYD, [], now)).toBeNull();
  });

  it('takes times listed out of order and twice as the sorted set', () => {
    expect(normalizeTimes(['17:30', '06:00', '06:00', '00:15'])).toEqual(['00:15', '06:00', '17:30']);
    const now = utc('2026-11-25T13:00:00Z'); // 00:00 AEDT on the 26th
    const runs: number[] = [];
    let t = now;
    for (let i = 0; i < 4; i++) runs.push((t = nextRun(SYD, ['17:30', '06:00', '06:00'], t)!));
    expect(runs.map((r) => describeInstant(r, SYD))).toEqual([
      'Thu 26 Nov 2026, 06:00 AEDT',
      'Thu 26 Nov 2026, 17:30 AEDT',
      'Fri 27 Nov 2026, 06:00 AEDT',
      'Fri 27 Nov 2026, 17:30 AEDT',
    ]);
  });

  it('DST starts (first Sunday of October, 02:00 → 03:00): 06:00 stays 06:00; 02:30, which never happens, runs at 03:30', () => {
    const saturdayNoon = utc('2026-10-03T02:00:00Z'); // Sat 3 Oct 12:00 AEST
    const six = nextRun(SYD, ['06:00'], saturdayNoon)!;
    expect(six).toBe(utc('2026-10-03T19:00:00Z')); // Sun 4 Oct 06:00 AEDT (+11)
    expect(describeInstant(six, SYD)).toBe('Sun 4 Oct 2026, 06:00 AEDT');
    // And the day after, 24 h of wall clock but 24 h of real time too (the jump is behind).
    expect(nextRun(SYD, ['06:00'], six)).toBe(six + 24 * HOUR);
    // The day before the jump to the run after it: 23 hours.
    const saturdaySix = nextRun(SYD, ['06:00'], utc('2026-10-02T12:00:00Z'))!;
    expect(describeInstant(saturdaySix, SYD)).toBe('Sat 3 Oct 2026, 06:00 AEST');
    expect(six - saturdaySix).toBe(23 * HOUR);

    const skipped = nextRun(SYD, ['02:30'], saturdayNoon)!;
    expect(skipped).toBe(utc('2026-10-03T16:30:00Z'));
    expect(describeInstant(skipped, SYD)).toBe('Sun 4 Oct 2026, 03:30 AEDT');
    expect(describeInstant(nextRun(SYD, ['02:30'], skipped)!, SYD)).toBe('Mon 5 Oct 2026, 02:30 AEDT');
  });

  it('DST ends (first Sunday of April, 03:00 → 02:00): 06:00 stays 06:00; 02:30, which happens twice, runs once', () => {
    const saturdayNoon = utc('2026-04-04T01:00:00Z'); // Sat 4 Apr 12:00 AEDT
    const six = nextRun(SYD, ['06:00'], saturdayNoon)!;
    expect(six).toBe(utc('2026-04-04T20:00:00Z')); // Sun 5 Apr 06:00 AEST (+10)
    expect(describeInstant(six, SYD)).toBe('Sun 5 Apr 2026, 06:00 AEST');
    const saturdaySix = nextRun(SYD, ['06:00'], utc('2026-04-03T12:00:00Z'))!;
    expect(six - saturdaySix).toBe(25 * HOUR);

    const twice = nextRun(SYD, ['02:30'], saturdayNoon)!;
    expect(twice).toBe(utc('2026-04-04T15:30:00Z')); // the first 02:30, still AEDT
    expect(describeInstant(twice, SYD)).toBe('Sun 5 Apr 2026, 02:30 AEDT');
    // Not again an hour later at the second 02:30 (AEST), but the next day.
    const after = nextRun(SYD, ['02:30'], twice)!;
    expect(after).toBe(utc('2026-04-05T16:30:00Z'));
    expect(describeInstant(after, SYD)).toBe('Mon 6 Apr 2026, 02:30 AEST');
  });

  it('works across month and year ends and in other zones', () => {
    expect(nextRun(SYD, ['00:05'], utc('2026-12-31T13:30:00Z'))).toBe(utc('2027-01-01T13:05:00Z'));
    expect(nextRun('UTC', ['23:59'], utc('2026-02-28T23:59:00Z'))).toBe(utc('2026-03-01T23:59:00Z'));
    expect(nextRun('America/New_York', ['06:00'], utc('2026-03-08T00:00:00Z'))).toBe(utc('2026-03-08T10:00:00Z')); // EDT from that morning
  });

  it('the last run at or before a moment (for a run missed while the station was off)', () => {
    const now = utc('2026-11-25T22:12:00Z'); // 09:12 AEDT
    expect(describeInstant(previousRun(SYD, ['06:00', '17:30'], now)!, SYD)).toBe('Thu 26 Nov 2026, 06:00 AEDT');
    expect(describeInstant(previousRun(SYD, ['17:30'], now)!, SYD)).toBe('Wed 25 Nov 2026, 17:30 AEDT');
    expect(previousRun(SYD, ['09:12'], now)).toBe(now);
    expect(previousRun(SYD, [], now)).toBeNull();
  });
});

describe('prewarm schedule validation', () => {
  const issues = (input: unknown) => {
    const r = prewarmScheduleSchema.safeParse(input);
    return r.success ? [] : r.error.issues.map((i) => i.message);
  };

  it('refuses bad times and unknown zones in words', () => {
    expect(issues({ org: 'DD', times: ['06:00', '17:30'], timeZone: 'Australia/Sydney' })).toEqual([]);
    expect(issues({ org: 'DD', times: ['24:00'], timeZone: 'Australia/Sydney' })).toEqual([
      '“24:00” is not a time of day: write HH:MM on the 24-hour clock, 00:00 to 23:59',
    ]);
    expect(issues({ org: 'DD', times: ['6am'], timeZone: 'Australia/Sydney' })[0]).toContain('“6am” is not a time of day');
    expect(issues({ org: 'DD', times: ['6:00'], timeZone: 'Australia/Sydney' })[0]).toContain('“6:00” is not a time of day');
    expect(issues({ org: 'CBR', times: [], timeZone: 'Mars/Olympus' })).toEqual([
      '“Mars/Olympus” is not a time zone this station knows: use a name like Australia/Sydney',
    ]);
    expect(issues({ org: 'CBR', times: [], timeZone: '' })).toEqual(['Enter a time zone, like Australia/Sydney']);
    expect(issues({ org: 'XX', times: [], timeZone: 'UTC' })).toHaveLength(1);
    expect(issues({ org: 'DD', times: Array.from({ length: 25 }, () => '06:00'), timeZone: 'UTC' })).toEqual(['At most 24 times a day']);
  });
});
