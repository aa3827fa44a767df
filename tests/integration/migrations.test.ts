import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/main/app/logger';
import { openDatabase, pendingMigrations } from '../../src/main/db/open';
import { MIGRATIONS_DIR, tempDir } from '../support/station';

const TABLES = ['audit_log', 'job_log', 'jobs', 'login_throttle', 'outbox', 'settings', 'users'];
const opened: { close(): void }[] = [];
afterEach(() => opened.splice(0).forEach((d) => d.close()));

function open(p: string, migrationsDir = MIGRATIONS_DIR) {
  const d = openDatabase({ path: p, migrationsDir, logger: silentLogger });
  opened.push(d);
  return d;
}

describe('migrations', () => {
  it('0000 creates every base table on an empty in-memory database', () => {
    const { sqlite } = open(':memory:');
    const names = (sqlite.prepare("select name from sqlite_master where type='table'").all() as { name: string }[]).map((r) => r.name);
    for (const t of TABLES) expect(names).toContain(t);
    expect(pendingMigrations(sqlite, MIGRATIONS_DIR)).toEqual([]);
  });

  it('opens files in WAL mode with full sync and foreign keys on', () => {
    const { sqlite } = open(path.join(tempDir(), 'a.sqlite'));
    expect(sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(sqlite.pragma('synchronous', { simple: true })).toBe(2);
    expect(sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('is idempotent: reopening applies nothing and writes no backup', () => {
    const dir = tempDir();
    const file = path.join(dir, 'b.sqlite');
    open(file).close();
    const again = open(file);
    expect(again.backupPath).toBeNull();
    expect(fs.readdirSync(dir).filter((f) => f.includes('pre-migration'))).toEqual([]);
  });

  it('backs the database up with VACUUM INTO before applying a new migration, and keeps the data', () => {
    const dir = tempDir();
    const file = path.join(dir, 'c.sqlite');
    const first = open(file);
    first.sqlite
      .prepare("insert into settings(key, value, updated_at) values ('marker', '\"before\"', 1)")
      .run();
    first.close();

    // A later release: the same migrations plus one more.
    const newer = tempDir('dockside-migrations-');
    fs.cpSync(MIGRATIONS_DIR, newer, { recursive: true });
    const journalFile = path.join(newer, 'meta', '_journal.json');
    const journal = JSON.parse(fs.readFileSync(journalFile, 'utf8'));
    const last = journal.entries.at(-1);
    journal.entries.push({ ...last, idx: last.idx + 1, when: last.when + 1000, tag: '9999_test_extra' });
    fs.writeFileSync(journalFile, JSON.stringify(journal));
    fs.writeFileSync(path.join(newer, '9999_test_extra.sql'), 'CREATE TABLE `test_extra` (`id` integer PRIMARY KEY);');

    const second = open(file, newer);
    expect(second.backupPath).not.toBeNull();
    const backup = new Database(second.backupPath!, { readonly: true });
    expect(backup.prepare("select value from settings where key='marker'").get()).toEqual({ value: '"before"' });
    expect(backup.prepare("select 1 from sqlite_master where name='test_extra'").get()).toBeUndefined();
    backup.close();
    expect(second.sqlite.prepare("select 1 as x from sqlite_master where name='test_extra'").get()).toEqual({ x: 1 });
    expect(second.sqlite.prepare("select value from settings where key='marker'").get()).toEqual({ value: '"before"' });
  });

  it('does not back up a brand-new database', () => {
    const d = open(path.join(tempDir(), 'new.sqlite'));
    expect(d.backupPath).toBeNull();
  });
});
