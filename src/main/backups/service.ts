import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_BACKUP_KEEP_DAYS, backupKeepDays, type BackupFile, type BackupOverview } from '../../shared/contract/health';
import { DomainError } from '../../shared/envelope';
import { recordAudit, type AuditActor, type AuditContext } from '../audit/record';
import type { Db } from '../db/open';
import { ownerOnlyFile, ownerOnlyFolder } from '../files/owner-only';
import type { Logger } from '../platform/logger';
import type { WorkerPool } from '../platform/workers';
import type { SettingsService } from '../settings/service';
import { backupFileName, backupsToPrune, backupTime, nextBackupAt } from './schedule';
import type { BackupTask } from './task';

/** How often the schedule looks at the clock: the daily backup starts at most this late. */
export const BACKUP_CHECK_EVERY_MS = 60_000;
/** After a failed scheduled backup (a full disk), the next try waits this long. */
const RETRY_AFTER_FAILURE_MS = 60 * 60_000;
const SETTINGS_KEY = 'backups';
const PARTIAL = '.partial';

export interface BackupDeps {
  /** The database file; null for an in-memory database (nothing to back up). */
  dbPath: string | null;
  /** `<data folder>/backups`. */
  dir: string;
  db: Db;
  settings: Pick<SettingsService, 'readKey' | 'writeKey'>;
  audit: AuditContext;
  workers: WorkerPool;
  now: () => number;
  timeZone: () => string;
  log: Logger;
}

/**
 * Daily backups of the station's database into `<data folder>/backups/dockside-YYYYMMDD-HHMMSS.db`
 * (UTC), written by a worker thread with `VACUUM INTO` under a temporary name and renamed once
 * whole, kept `keepDays` days (the newest always kept). A manual *Back up now* is audited.
 */
export class BackupService {
  #running: Promise<BackupFile> | null = null;
  #lastError: string | null = null;
  #failedAt: number | null = null;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(private readonly deps: BackupDeps) {
    if (deps.dbPath) {
      ownerOnlyFolder(deps.dir);
      // A backup a stop or crash cut short leaves its temporary file: never a backup, so deleted.
      for (const name of fs.readdirSync(deps.dir)) if (name.endsWith(PARTIAL)) fs.rmSync(path.join(deps.dir, name), { force: true });
    }
  }

  keepDays(): number {
    const stored = this.deps.settings.readKey<{ keepDays?: unknown }>(SETTINGS_KEY, {}).keepDays;
    const parsed = backupKeepDays.safeParse(stored);
    return parsed.success ? parsed.data : DEFAULT_BACKUP_KEEP_DAYS;
  }

  setKeepDays(keepDays: number, actor: AuditActor): BackupOverview {
    const before = this.keepDays();
    this.deps.settings.writeKey(SETTINGS_KEY, { keepDays }, actor, this.deps.audit, {
      action: 'backups.keep-days',
      entityId: SETTINGS_KEY,
      after: { before, keepDays },
    });
    this.#prune();
    return this.overview();
  }

  /** The backups kept, newest first. */
  list(): BackupFile[] {
    if (!this.deps.dbPath) return [];
    const out: BackupFile[] = [];
    for (const fileName of fs.readdirSync(this.deps.dir)) {
      const at = backupTime(fileName);
      if (at === null) continue;
      const stat = fs.statSync(path.join(this.deps.dir, fileName), { throwIfNoEntry: false });
      if (stat?.isFile()) out.push({ fileName, at, bytes: stat.size });
    }
    return out.sort((a, b) => b.at - a.at);
  }

  nextAt(): number | null {
    if (!this.deps.dbPath) return null;
    return nextBackupAt(this.list()[0]?.at ?? null, this.deps.now(), this.deps.timeZone());
  }

  overview(): BackupOverview {
    return {
      backups: this.list(),
      keepDays: this.keepDays(),
      nextAt: this.nextAt(),
      running: this.#running !== null,
      lastError: this.#lastError,
      unavailable: this.deps.dbPath ? null : 'This station keeps its database in memory: there is nothing to back up.',
    };
  }

  /**
   * Backs up now: `actor` for a person's *Back up now* (audited), null for the schedule. A backup
   * already being written is the answer to a second ask.
   */
  run(actor: AuditActor | null): Promise<BackupFile> {
    const dbPath = this.deps.dbPath;
    if (!dbPath) return Promise.reject(new DomainError('unavailable', 'This station keeps its database in memory: there is nothing to back up.'));
    this.#running ??= this.#write(dbPath).finally(() => (this.#running = null));
    const running = this.#running;
    if (!actor) return running;
    return running.then((file) => {
      recordAudit(this.deps.db, this.deps.audit, actor, { action: 'backup.created', entity: 'backup', entityId: file.fileName, after: file });
      return file;
    });
  }

  async #write(dbPath: string): Promise<BackupFile> {
    const at = this.deps.now();
    const fileName = backupFileName(at);
    const final = path.join(this.deps.dir, fileName);
    const into = `${path.join(this.deps.dir, `.${fileName}`)}${PARTIAL}`;
    const started = performance.now();
    const task: BackupTask = { kind: 'backup', subject: 'the database backup', dbPath, into };
    try {
      const r = await this.deps.workers.run<{ bytes: number }>(task).done;
      if (r.stopped) throw new Error('The station is closing: the backup was stopped');
      ownerOnlyFile(into);
      fs.renameSync(into, final);
      const file: BackupFile = { fileName, at: backupTime(fileName)!, bytes: r.value.bytes };
      this.deps.log.info({ ...file, ms: Math.round(performance.now() - started) }, 'database backed up');
      this.#lastError = null;
      this.#failedAt = null;
      this.#prune();
      return file;
    } catch (error) {
      fs.rmSync(into, { force: true });
      this.#lastError = error instanceof Error ? error.message : String(error);
      this.#failedAt = this.deps.now();
      this.deps.log.error({ err: error }, 'database backup failed');
      throw error;
    }
  }

  #prune(): void {
    for (const old of backupsToPrune(this.list(), this.deps.now(), this.keepDays())) {
      fs.rmSync(path.join(this.deps.dir, old.fileName), { force: true });
      this.deps.log.info({ fileName: old.fileName }, 'deleted a backup past its days');
    }
  }

  /** Runs the daily backup when it is due (and not within an hour of a failed try). */
  async tick(): Promise<void> {
    const next = this.nextAt();
    const now = this.deps.now();
    if (this.#stopped || next === null || next > now || this.#running) return;
    if (this.#failedAt !== null && now - this.#failedAt < RETRY_AFTER_FAILURE_MS) return;
    await this.run(null).catch(() => undefined); // logged and shown as lastError
  }

  /** Checks the schedule every `everyMs`, the first time `everyMs` after start; 0 = only when tick() is called. */
  start(everyMs = BACKUP_CHECK_EVERY_MS): void {
    if (everyMs <= 0 || !this.deps.dbPath) return;
    this.#timer = setInterval(() => void this.tick(), everyMs);
    this.#timer.unref();
  }

  /** Stops the schedule and waits for a backup being written (the worker pool closing ends it). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#running?.catch(() => undefined);
  }
}
