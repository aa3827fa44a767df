import { describe, expect, it } from 'vitest';
import { backupFileName, backupsToPrune, backupTime, nextBackupAt } from '../../src/main/backups/schedule';
import { healthWarnings } from '../../src/main/diagnostics/health';
import { ErrorCounter } from '../../src/main/platform/logger';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (iso: string) => Date.parse(iso);

describe('the daily backup schedule', () => {
  it('with no backup yet, the backup is due now', () => {
    const now = at('2026-11-26T10:00:00Z');
    expect(nextBackupAt(null, now, 'UTC')).toBe(now);
  });

  it('after a backup, the next runs at the first 02:00 local time after it', () => {
    expect(nextBackupAt(at('2026-11-26T10:00:00Z'), at('2026-11-26T11:00:00Z'), 'UTC')).toBe(at('2026-11-27T02:00:00Z'));
    expect(nextBackupAt(at('2026-11-26T01:00:00Z'), at('2026-11-26T01:30:00Z'), 'UTC')).toBe(at('2026-11-26T02:00:00Z'));
    // 02:00 in Sydney (AEDT, UTC+11) is 15:00 UTC the day before
    expect(nextBackupAt(at('2026-11-26T10:00:00Z'), at('2026-11-26T11:00:00Z'), 'Australia/Sydney')).toBe(at('2026-11-26T15:00:00Z'));
  });

  it('a station off at backup time finds it in the past at start: one backup, whatever the days missed', () => {
    const lastBackup = at('2026-11-20T02:00:05Z');
    const startedAt = at('2026-11-26T07:00:00Z');
    const next = nextBackupAt(lastBackup, startedAt, 'UTC');
    expect(next).toBe(at('2026-11-21T02:00:00Z'));
    expect(next <= startedAt).toBe(true);
    // once taken, the next is tomorrow's
    expect(nextBackupAt(startedAt, startedAt, 'UTC')).toBe(at('2026-11-27T02:00:00Z'));
  });

  it('backups older than the days kept are pruned, the newest always kept', () => {
    const now = at('2026-11-26T12:00:00Z');
    const backups = [0, 1, 5, 13, 15, 30].map((d) => ({ at: now - d * DAY, name: `d${d}` }));
    expect(backupsToPrune(backups, now, 14).map((b) => b.name)).toEqual(['d15', 'd30']);
    expect(backupsToPrune([{ at: now - 40 * DAY }], now, 14)).toEqual([]);
  });

  it('backup file names carry the UTC time and are read back; other names are not backups', () => {
    const t = at('2026-11-26T02:03:04Z');
    expect(backupFileName(t)).toBe('dockside-20261126-020304.db');
    expect(backupTime('dockside-20261126-020304.db')).toBe(t);
    for (const other of [
      'dockside-20261126-020304.db.partial',
      '.dockside-20261126-020304.db.partial',
      'dockside-20261399-020304.db',
      'dockside.sqlite',
    ])
      expect(backupTime(other)).toBeNull();
  });
});

describe('health warnings', () => {
  const now = at('2026-11-26T12:00:00Z');
  const fine = {
    now,
    disk: { freeBytes: 50, sizeBytes: 100 },
    lastBackup: { fileName: 'x', at: now - HOUR, bytes: 1 },
    errorsLastHour: 0,
    backedUp: true,
  };

  it('nothing is red when the disk has room, the backup is recent and nothing was logged as an error', () => {
    expect(healthWarnings(fine)).toEqual({ disk: null, backup: null, errors: null });
  });

  it('less than 10% of the disk free, a backup over 2 days old, no backup, and any error are red', () => {
    expect(healthWarnings({ ...fine, disk: { freeBytes: 9, sizeBytes: 100 } }).disk).toBe('Less than 10% of the disk is free');
    expect(healthWarnings({ ...fine, lastBackup: { fileName: 'x', at: now - 2 * DAY - HOUR, bytes: 1 } }).backup).toBe(
      'The last backup is more than 2 days old',
    );
    expect(healthWarnings({ ...fine, lastBackup: null }).backup).toBe('No backup yet');
    expect(healthWarnings({ ...fine, errorsLastHour: 1 }).errors).toBe('1 error logged in the last hour');
  });

  it('an in-memory station has no backups to miss', () => {
    expect(healthWarnings({ ...fine, lastBackup: null, backedUp: false }).backup).toBeNull();
  });
});

describe('the error counter', () => {
  it('counts errors of the last hour only', () => {
    let t = at('2026-11-26T12:00:00Z');
    const c = new ErrorCounter(() => t);
    c.hit();
    c.hit();
    t += 30 * 60_000;
    c.hit();
    expect(c.lastHour()).toBe(3);
    t += 31 * 60_000;
    expect(c.lastHour()).toBe(1);
    t += 2 * HOUR;
    expect(c.lastHour()).toBe(0);
  });
});
