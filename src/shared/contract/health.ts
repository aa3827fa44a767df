import { z } from 'zod';
import { channel } from './define';
import { empty } from './fields';
import type { FileChunk } from './exports';

/** One backup file in `<data folder>/backups`. */
export interface BackupFile {
  fileName: string;
  /** When it was taken (from its name, UTC), ms since 1970. */
  at: number;
  bytes: number;
}

/** Backups kept this many days by default (Admin → Health changes it). */
export const DEFAULT_BACKUP_KEEP_DAYS = 14;

export const backupKeepDays = z
  .number({ error: 'Keep backups for a whole number of days' })
  .int('Keep backups for a whole number of days')
  .min(1, 'Keep backups at least 1 day')
  .max(365, 'Keep backups at most 365 days');

export interface BackupOverview {
  /** Newest first. */
  backups: BackupFile[];
  keepDays: number;
  /** When the daily backup runs next (it is due now when this is in the past); null without a database file. */
  nextAt: number | null;
  /** A backup is being written now. */
  running: boolean;
  /** Why the last scheduled backup failed, until one succeeds. */
  lastError: string | null;
  /** Why this station has no backups (an in-memory database), or null. */
  unavailable: string | null;
}

/** What Admin → Health shows: one station's figures, and which of them deserve a warning. */
export interface HealthReport {
  at: number;
  version: string;
  /** Seconds since the station started. */
  uptimeSeconds: number;
  memory: { rssBytes: number; heapUsedBytes: number; heapTotalBytes: number };
  /** The database file and its write-ahead log; null for an in-memory database. */
  database: { bytes: number; walBytes: number } | null;
  /** The disk the data folder is on; null where the system cannot say. */
  disk: { freeBytes: number; sizeBytes: number } | null;
  lastBackup: BackupFile | null;
  nextBackupAt: number | null;
  /** Lines logged at error level or worse in the last hour. */
  errorsLastHour: number;
  /** Scan → stored latency measured in main over the last hour; p95 null without scans. */
  scanLatency: { samples: number; p95Ms: number | null; windowMinutes: number };
  /** Outbox records per upstream: waiting to be sent, and stuck for an admin. */
  sync: { upstream: string; pending: number; errors: number; online: boolean }[];
  /** Each warning in words, or null when that figure is fine. */
  warnings: { disk: string | null; backup: string | null; errors: string | null };
}

export const healthChannels = {
  'health/get': channel<HealthReport>()({
    request: empty,
    access: ['admin'],
    summary: 'The station’s health: version, uptime, memory, database and disk, last backup, errors, scan latency, sync backlog.',
  }),
  'backups/list': channel<BackupOverview>()({
    request: empty,
    access: ['admin'],
    summary: 'The database backups kept in the data folder, newest first, with the next daily run.',
  }),
  'backups/run': channel<BackupFile>()({
    request: empty,
    access: ['admin'],
    summary: 'Back up the database now (VACUUM INTO, off the main thread); audited.',
  }),
  'backups/set-keep-days': channel<BackupOverview>()({
    request: z.strictObject({ keepDays: backupKeepDays }),
    access: ['admin'],
    summary: 'How many days backups are kept; audited.',
  }),
  'diagnostics/export': channel<{ fileName: string; size: number }>()({
    request: empty,
    access: ['admin'],
    summary: 'Write a support zip: logs with secrets redacted, settings without secrets, health, the last day’s audit.',
  }),
  'diagnostics/chunk': channel<FileChunk>()({
    request: z.strictObject({
      fileName: z
        .string()
        .regex(/^dockside-diagnostics-\d{8}-\d{6}\.zip$/, 'Not a diagnostics file name')
        .meta({ examples: ['dockside-diagnostics-20261126-120000.zip'] }),
      offset: z.number().int().min(0),
    }),
    access: ['admin'],
    summary: 'Read a diagnostics zip, 1 MiB at a time.',
  }),
};
