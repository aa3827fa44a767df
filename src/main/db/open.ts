import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { makeFolder, ownerOnlyFile, OWNER_ONLY_FILE } from '../files/owner-only';
import type { Logger } from '../platform/logger';
import * as schema from './schema';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

export interface OpenDatabaseOptions {
  /** File path, or ':memory:' for tests. */
  path: string;
  /** drizzle-kit's output folder (SQL files + meta/_journal.json). */
  migrationsDir: string;
  logger: Logger;
  now?: () => number;
  /** How many pre-migration backups to keep beside the database. */
  backupsToKeep?: number;
}

export interface OpenedDatabase {
  db: Db;
  sqlite: Database.Database;
  /** Backup written before migrating this time, if any. */
  backupPath: string | null;
  close(): void;
}

interface JournalEntry {
  idx: number;
  when: number;
  tag: string;
}

function readJournal(migrationsDir: string): JournalEntry[] {
  const file = path.join(migrationsDir, 'meta', '_journal.json');
  const journal = JSON.parse(fs.readFileSync(file, 'utf8')) as { entries: JournalEntry[] };
  return journal.entries;
}

/** Mirrors drizzle's rule: a migration is pending when its folder time is newer than the last applied. */
export function pendingMigrations(sqlite: Database.Database, migrationsDir: string): JournalEntry[] {
  const entries = readJournal(migrationsDir);
  const table = sqlite.prepare("select 1 from sqlite_master where type = 'table' and name = '__drizzle_migrations'").get();
  if (!table) return entries;
  const last = sqlite.prepare('select max(created_at) as at from __drizzle_migrations').get() as { at: number | null };
  return entries.filter((e) => last.at === null || e.when > last.at);
}

function hasUserTables(sqlite: Database.Database): boolean {
  return !!sqlite.prepare("select 1 from sqlite_master where type = 'table' and name not like 'sqlite_%'").get();
}

function pruneBackups(dbPath: string, keep: number): void {
  const dir = path.dirname(dbPath);
  const prefix = `${path.basename(dbPath)}.pre-migration-`;
  const backups = fs
    .readdirSync(dir)
    .filter((f) => f.startsWith(prefix))
    .sort()
    .reverse();
  for (const old of backups.slice(keep)) fs.rmSync(path.join(dir, old), { force: true });
}

/** How often a running station repeats `PRAGMA optimize` (see optimizeDatabase). */
export const OPTIMIZE_EVERY_MS = 60 * 60_000;

/**
 * Keeps the query planner's statistics (sqlite_stat1) current, as SQLite advises for long-lived
 * connections: at open, every table is checked (0x10000) and ANALYZE runs (0x02) where an index
 * has no statistics yet — a new database grown since, a new index — or a table has grown or shrunk
 * tenfold, each under SQLite's own row limit (0x10) so it costs milliseconds, not a full scan of
 * millions of rows; later, plain `PRAGMA optimize` now and then redoes tables whose statistics the
 * planner used and that changed as much. Never throws: stale statistics are not worth a failed start.
 */
export function optimizeDatabase(sqlite: Database.Database, log: Logger, when: 'open' | 'periodic'): void {
  try {
    sqlite.pragma(when === 'open' ? 'optimize = 0x10012' : 'optimize');
  } catch (err) {
    log.warn({ err, when }, 'PRAGMA optimize failed; the planner keeps its current statistics');
  }
}

/**
 * Opens (creating if needed) the station database: WAL, synchronous=FULL so a committed scan
 * survives a power cut, foreign keys on; backs the file up with VACUUM INTO before applying
 * any pending migration to a database that already holds data.
 */
export function openDatabase(options: OpenDatabaseOptions): OpenedDatabase {
  const log = options.logger.child({ module: 'db' });
  const inMemory = options.path === ':memory:';
  if (!inMemory) {
    makeFolder(path.dirname(options.path)); // the station narrows its data folder itself
    // SQLite makes a new database 0644 and gives its WAL and shared-memory files the database's
    // own mode: made 0600 first (an empty file is a new database to SQLite), all three are 0600.
    fs.closeSync(fs.openSync(options.path, 'a', OWNER_ONLY_FILE));
    ownerOnlyFile(options.path);
  }
  const sqlite = new Database(options.path);
  try {
    sqlite.pragma('journal_mode = WAL');
    // A WAL or shared-memory file left by an older version keeps its own mode: narrowed too.
    if (!inMemory) for (const suffix of ['-wal', '-shm']) ownerOnlyFile(options.path + suffix);
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    // A burst of writes can outrun the checkpointer; once it catches up the WAL file is cut back.
    sqlite.pragma('journal_size_limit = 67108864');

    let backupPath: string | null = null;
    const pending = pendingMigrations(sqlite, options.migrationsDir);
    if (pending.length > 0 && !inMemory && hasUserTables(sqlite)) {
      const stamp = new Date(options.now?.() ?? Date.now()).toISOString().replace(/[:.]/g, '-');
      backupPath = `${options.path}.pre-migration-${stamp}`;
      sqlite.prepare('VACUUM INTO ?').run(backupPath);
      ownerOnlyFile(backupPath);
      log.info({ backupPath, pending: pending.map((p) => p.tag) }, 'backed up database before migrating');
      pruneBackups(options.path, options.backupsToKeep ?? 3);
    }

    const db = drizzle({ client: sqlite, schema }) as Db;
    migrate(db, { migrationsFolder: options.migrationsDir });
    if (pending.length > 0) log.info({ applied: pending.map((p) => p.tag) }, 'migrations applied');
    optimizeDatabase(sqlite, log, 'open');

    return {
      db,
      sqlite,
      backupPath,
      close: () => {
        if (sqlite.open) sqlite.close();
      },
    };
  } catch (error) {
    sqlite.close();
    throw error;
  }
}
