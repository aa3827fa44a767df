import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { DashboardToday } from '../../shared/contract/dashboard';
import type { UpstreamStatus } from '../../shared/contract/sync';
import type { AuditContext } from '../audit/record';
import type { TotpSealer } from '../auth/totp';
import { BackupService } from '../backups/service';
import type { SecretStore } from '../credentials/store';
import type { Db } from '../db/open';
import type { HandlerRegistry } from '../ipc/handlers';
import type { ErrorCounter, Logger } from '../platform/logger';
import type { WorkerPool } from '../platform/workers';
import type { SettingsService } from '../settings/service';
import { registerHealthHandlers } from './handlers';
import { appVersion, healthReport } from './health';
import { DiagnosticsService } from './service';

/** What the station's log tells Admin → Health and the diagnostics zip (createLogger's StationLog). */
export interface LogInsight {
  dir: string | null;
  errors: Pick<ErrorCounter, 'lastHour'>;
  flush(): Promise<void>;
}

export interface HealthSetup {
  /** The data folder (backups/ and diagnostics/ go in it). */
  filesDir: string;
  /** The database file; null in memory. */
  dbPath: string | null;
  log?: LogInsight;
  logger: Logger;
  db: Db;
  sqlite: Database.Database;
  settings: SettingsService;
  secrets: SecretStore;
  totpSealer: TotpSealer;
  /** The file the TOTP sealing key is kept in where the secret store refuses it. */
  totpKeyFile: string;
  audit: AuditContext;
  workers: WorkerPool;
  now: () => number;
  timeZone: () => string;
  latency: () => DashboardToday['latency'];
  sync: () => UpstreamStatus[];
  version?: string;
}

/** Admin → Health, daily backups and the diagnostics zip, wired for one station. */
export function setUpHealth(r: HandlerRegistry, s: HealthSetup) {
  const startedAt = s.now();
  const version = s.version ?? appVersion();
  const backups = new BackupService({
    dbPath: s.dbPath,
    dir: path.join(s.filesDir, 'backups'),
    db: s.db,
    settings: s.settings,
    audit: s.audit,
    workers: s.workers,
    now: s.now,
    timeZone: s.timeZone,
    log: s.logger.child({ module: 'backups' }),
  });
  const health = () =>
    healthReport({
      now: s.now,
      startedAt,
      version,
      dbPath: s.dbPath,
      dataDir: s.dbPath ? s.filesDir : null,
      lastBackup: () => backups.list()[0] ?? null,
      nextBackupAt: () => backups.nextAt(),
      errorsLastHour: () => s.log?.errors.lastHour() ?? 0,
      latency: s.latency,
      sync: s.sync,
    });
  const logDir = s.log ? s.log.dir : s.dbPath ? path.join(s.filesDir, 'logs') : null;
  const diagnostics = new DiagnosticsService({
    dir: path.join(s.filesDir, 'diagnostics'),
    logDir,
    flushLog: () => s.log?.flush() ?? Promise.resolve(),
    db: s.db,
    sqlite: s.sqlite,
    audit: s.audit,
    now: s.now,
    health,
    knownSecrets: () => knownSecrets(s),
    credentialNames: () => s.secrets.names(),
    log: s.logger.child({ module: 'diagnostics' }),
  });
  registerHealthHandlers(r, { health, backups, diagnostics });
  return { backups, diagnostics, health };
}

/** Every secret value the station holds: its secret store's, the TOTP sealing key, and people's TOTP secrets opened. */
function knownSecrets(s: HealthSetup): string[] {
  const values = s.secrets.names().map((n) => s.secrets.get(n) ?? '');
  try {
    values.push(fs.readFileSync(s.totpKeyFile, 'utf8').trim());
  } catch {
    // no key file: the key is in the secret store
  }
  const sealed = s.sqlite.prepare('SELECT id, totp_secret AS secret FROM users WHERE totp_secret IS NOT NULL').all() as {
    id: number;
    secret: string;
  }[];
  for (const u of sealed) values.push(s.totpSealer.open(u.secret, u.id) ?? '');
  return values.filter((v) => v.length > 0);
}
