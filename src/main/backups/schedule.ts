import { nextRun } from '../upstreams/zoned-time';

/** The daily backup's local time: the quietest hour at most doors; it runs off the main thread anyway. */
export const BACKUP_DAILY_TIME = '02:00';

const DAY = 86_400_000;

/**
 * When the daily backup runs next: the first daily time after the newest backup, or now when
 * there is none. A station that was off at that time finds it in the past when it starts, so a
 * missed day runs at start (once, not once per day missed).
 */
export function nextBackupAt(newestAt: number | null, now: number, timeZone: string, time = BACKUP_DAILY_TIME): number {
  if (newestAt === null) return now;
  return nextRun(timeZone, [time], newestAt) ?? newestAt + DAY;
}

/** Backups to delete: those older than `keepDays` before now; the newest is always kept, whatever its age. */
export function backupsToPrune<T extends { at: number }>(backups: readonly T[], now: number, keepDays: number): T[] {
  const newestFirst = [...backups].sort((a, b) => b.at - a.at);
  return newestFirst.slice(1).filter((b) => b.at < now - keepDays * DAY);
}

const NAME = /^dockside-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})\.db$/;

/** YYYYMMDD-HHMMSS in UTC: the stamp in backup and diagnostics file names. */
export function utcStamp(at: number): string {
  const iso = new Date(at).toISOString(); // 2026-11-26T02:00:00.000Z
  return `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}`;
}

/** dockside-YYYYMMDD-HHMMSS.db, in UTC. */
export function backupFileName(at: number): string {
  return `dockside-${utcStamp(at)}.db`;
}

/** When a backup was taken, from its name; null for any other file. */
export function backupTime(fileName: string): number | null {
  const m = NAME.exec(fileName);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const at = Date.UTC(y, mo - 1, d, h, mi, s);
  return backupFileName(at) === fileName ? at : null;
}
