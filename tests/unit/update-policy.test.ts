import { describe, expect, it } from 'vitest';
import { installDecision, quietWindow, type PolicyInput, type PolicyUpdateState } from '../../src/main/updates/policy';
import { instantOf } from '../../src/main/upstreams/zoned-time';

// A fake clock: instants of wall times in the station's zone (Berlin: the quiet hours are local, not UTC).
const ZONE = 'Europe/Berlin';
const at = (day: number, hour: number, minute = 0) => instantOf(ZONE, { year: 2026, month: 11, day, hour, minute });
const DOWNLOADED: PolicyUpdateState = { kind: 'downloaded', version: '1.4.0' };
const NO_WORK = { lastScanAt: null, jobsRunning: 0, tripExecutionsRunning: 0, openCounts: 0 };
const NOBODY = { signedIn: 0, locked: 0 };
const ONE = { signedIn: 1, locked: 0 };
const QUIET = { from: '02:00', to: '04:00' };

const base: PolicyInput = { state: DOWNLOADED, presence: NOBODY, work: NO_WORK, now: at(26, 14), timeZone: ZONE, quietHours: QUIET };

/** The policy table of the README (situation → installs now?). */
const table: [string, Partial<PolicyInput>, boolean][] = [
  ['nothing downloaded, nobody signed in', { state: { kind: 'none' } }, false],
  ['still downloading, nobody signed in', { state: { kind: 'downloading', version: '1.4.0' } }, false],
  ['downloaded, nobody signed in, no work, 14:00', {}, true],
  ['downloaded, someone signed in, 14:00', { presence: ONE }, false],
  ['downloaded, one locked session, 14:00', { presence: { signedIn: 1, locked: 1 } }, false],
  ['downloaded, someone signed in, 02:30 (quiet hours)', { presence: ONE, now: at(27, 2, 30) }, true],
  ['downloaded, nobody signed in, a scan 1 minute ago', { work: { ...NO_WORK, lastScanAt: at(26, 13, 59) } }, false],
  ['downloaded, nobody signed in, the last scan 6 minutes ago', { work: { ...NO_WORK, lastScanAt: at(26, 13, 54) } }, true],
  ['downloaded, nobody signed in, an import running', { work: { ...NO_WORK, jobsRunning: 1 } }, false],
  [
    'downloaded, 02:30 (quiet hours), a trip execution running',
    { presence: ONE, now: at(27, 2, 30), work: { ...NO_WORK, tripExecutionsRunning: 1 } },
    false,
  ],
  ['downloaded, 02:30 (quiet hours), a stock count open', { presence: ONE, now: at(27, 2, 30), work: { ...NO_WORK, openCounts: 1 } }, false],
  ['downloaded, someone signed in, 04:00 (quiet hours just ended)', { presence: ONE, now: at(27, 4, 0) }, false],
  ['downloaded, someone signed in, no quiet hours set', { presence: ONE, quietHours: null }, false],
  [
    'downloaded, someone signed in, 23:30 in quiet hours 22:00–04:00',
    { presence: ONE, now: at(26, 23, 30), quietHours: { from: '22:00', to: '04:00' } },
    true,
  ],
];

describe('update install policy', () => {
  for (const [situation, change, installs] of table) {
    it(`${situation} → ${installs ? 'installs now' : 'waits'}`, () => {
      const d = installDecision({ ...base, ...change });
      expect(d.installNow).toBe(installs);
      expect(d.reason.length).toBeGreaterThan(0);
    });
  }

  it('names the work that blocks an install', () => {
    const d = installDecision({
      ...base,
      presence: ONE,
      now: at(27, 2, 30),
      work: { lastScanAt: at(27, 2, 29), jobsRunning: 2, tripExecutionsRunning: 1, openCounts: 1 },
    });
    expect(d.reason).toBe('Waits: work is running (a scan 60 s ago, 2 imports or exports running, 1 trip execution running, 1 stock count open)');
  });

  it('says who holds the install and when the quiet hours come', () => {
    const d = installDecision({ ...base, presence: { signedIn: 2, locked: 1 } });
    expect(d.reason).toBe('Waits: 2 people signed in; installs when nobody is signed in or in the quiet hours (02:00–04:00)');
    expect(d.nextWindow?.getTime()).toBe(at(27, 2, 0));
  });

  it('gives the open window as the next window while the quiet hours run', () => {
    expect(installDecision({ ...base, presence: ONE, now: at(27, 3, 0) }).nextWindow?.getTime()).toBe(at(27, 2, 0));
    expect(installDecision({ ...base, quietHours: null }).nextWindow).toBeNull();
  });

  it('reads quiet hours on the local clock across a daylight-saving change', () => {
    // Berlin leaves summer time on 25 Oct 2026 at 03:00: 02:00–04:00 local is three hours that night.
    const w = quietWindow(QUIET, instantOf(ZONE, { year: 2026, month: 10, day: 24, hour: 12, minute: 0 }), ZONE);
    expect(w).toEqual({ open: false, start: instantOf(ZONE, { year: 2026, month: 10, day: 25, hour: 2, minute: 0 }) });
    expect(quietWindow(QUIET, instantOf(ZONE, { year: 2026, month: 10, day: 25, hour: 3, minute: 30 }), ZONE).open).toBe(true);
  });

  it('treats quiet hours from and to the same time as never open', () => {
    const d = installDecision({ ...base, presence: ONE, now: at(27, 2, 0), quietHours: { from: '02:00', to: '02:00' } });
    expect(d.installNow).toBe(false);
    expect(d.nextWindow).toBeNull();
  });
});
