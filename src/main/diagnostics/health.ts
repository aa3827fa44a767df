import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DashboardToday } from '../../shared/contract/dashboard';
import type { BackupFile, HealthReport } from '../../shared/contract/health';
import type { UpstreamStatus } from '../../shared/contract/sync';

const DAY = 86_400_000;
/** Under this share of the disk free, the figure turns red. */
export const LOW_DISK_FRACTION = 0.1;
/** A last backup older than this turns red. */
export const STALE_BACKUP_MS = 2 * DAY;

export interface HealthDeps {
  now: () => number;
  /** When the station started, on the same clock. */
  startedAt: number;
  version: string;
  /** The database file; null in memory. */
  dbPath: string | null;
  /** The data folder, whose disk is measured; null in memory. */
  dataDir: string | null;
  lastBackup: () => BackupFile | null;
  nextBackupAt: () => number | null;
  errorsLastHour: () => number;
  latency: () => DashboardToday['latency'];
  sync: () => UpstreamStatus[];
}

const sizeOf = (file: string) =>
  fs.promises.stat(file).then(
    (s) => s.size,
    () => 0,
  );

/** The station's figures for Admin → Health, read with async fs calls (nothing here holds up a scan). */
export async function healthReport(deps: HealthDeps): Promise<HealthReport> {
  const now = deps.now();
  const mem = process.memoryUsage();
  const database = deps.dbPath ? { bytes: await sizeOf(deps.dbPath), walBytes: await sizeOf(`${deps.dbPath}-wal`) } : null;
  const fsStat = deps.dataDir ? await fs.promises.statfs(deps.dataDir).catch(() => null) : null;
  const disk = fsStat ? { freeBytes: fsStat.bavail * fsStat.bsize, sizeBytes: fsStat.blocks * fsStat.bsize } : null;
  const lastBackup = deps.lastBackup();
  const errorsLastHour = deps.errorsLastHour();
  const { samples, p95Ms, windowMinutes } = deps.latency();
  return {
    at: now,
    version: deps.version,
    uptimeSeconds: Math.max(0, Math.floor((now - deps.startedAt) / 1000)),
    memory: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, heapTotalBytes: mem.heapTotal },
    database,
    disk,
    lastBackup,
    nextBackupAt: deps.nextBackupAt(),
    errorsLastHour,
    scanLatency: { samples, p95Ms, windowMinutes },
    sync: deps.sync().map((u) => ({ upstream: u.upstream, pending: u.queued, errors: u.stuck, online: u.online })),
    warnings: healthWarnings({ now, disk, lastBackup, errorsLastHour, backedUp: database !== null }),
  };
}

/** Which figures deserve red, in words: little disk left, no recent backup, errors logged. */
export function healthWarnings(h: {
  now: number;
  disk: HealthReport['disk'];
  lastBackup: BackupFile | null;
  errorsLastHour: number;
  /** False for an in-memory database, which has no backups to miss. */
  backedUp: boolean;
}): HealthReport['warnings'] {
  const freeShare = h.disk && h.disk.sizeBytes > 0 ? h.disk.freeBytes / h.disk.sizeBytes : null;
  let backup: string | null = null;
  if (h.backedUp && !h.lastBackup) backup = 'No backup yet';
  else if (h.lastBackup && h.now - h.lastBackup.at > STALE_BACKUP_MS) backup = 'The last backup is more than 2 days old';
  return {
    disk: freeShare !== null && freeShare < LOW_DISK_FRACTION ? `Less than ${LOW_DISK_FRACTION * 100}% of the disk is free` : null,
    backup,
    errors: h.errorsLastHour > 0 ? `${h.errorsLastHour} ${h.errorsLastHour === 1 ? 'error' : 'errors'} logged in the last hour` : null,
  };
}

/**
 * The app's version from its package.json: the nearest one named dockside above this module
 * (the repository's from source, the app's own inside the built bundle).
 */
export function appVersion(from = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'dockside' && pkg.version) return pkg.version;
    } catch {
      // no package.json here: look further up
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
}
