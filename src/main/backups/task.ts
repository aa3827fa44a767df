import fs from 'node:fs';
import Database from 'better-sqlite3';
import { DomainError } from '../../shared/envelope';
import { storageFault } from '../platform/disk-full';
import type { TaskBase } from '../platform/workers';

/** A backup, written by a worker thread on its own connection, so scans go on meanwhile. */
export interface BackupTask extends TaskBase {
  kind: 'backup';
  dbPath: string;
  /** The temporary file to write; main renames it once it is whole. */
  into: string;
}

/**
 * `VACUUM INTO` a consistent copy (one read transaction: the WAL's committed state at its start;
 * the main connection keeps writing beside it), then fsync, so the rename that follows publishes
 * a whole file.
 */
export function runBackupTask(task: BackupTask): Promise<{ bytes: number }> {
  fs.rmSync(task.into, { force: true });
  let db: Database.Database | null = null;
  try {
    db = new Database(task.dbPath, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    db.prepare('VACUUM INTO ?').run(task.into);
  } catch (error) {
    fs.rmSync(task.into, { force: true });
    if (storageFault(error)) throw error;
    throw new DomainError('internal', `The backup could not be written: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    db?.close();
  }
  const fd = fs.openSync(task.into, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return Promise.resolve({ bytes: fs.statSync(task.into).size });
}
