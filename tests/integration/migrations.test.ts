import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/main/platform/logger';
import { openDatabase, pendingMigrations } from '../../src/main/db/open';
import { onRelease, releaseAll } from '../support/cleanup';
import { makeStation, MIGRATIONS_DIR, tempDir } from '../support/station';

const TABLES = [
  'audit_log',
  'job_log',
  'jobs',
  'login_throttle',
  'outbox',
  'settings',
  'users',
  'bags',
  'bag_links',
  'bills',
  'bill_parents',
  'scans',
  'upstream_cache',
];
afterEach(releaseAll);

function open(p: string, migrationsDir = MIGRATIONS_DIR) {
  const d = openDatabase({ path: p, migrationsDir, logger: silentLogger });
  onRelease(() => d.close());
  return d;
}

describe('migrations', () => {
  it('all migrations create every table on an empty in-memory database', () => {
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
    first.sqlite.prepare("insert into settings(key, value, updated_at) values ('marker', '\"before\"', 1)").run();
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
    onRelease(() => backup.close());
    expect(backup.prepare("select value from settings where key='marker'").get()).toEqual({ value: '"before"' });
    expect(backup.prepare("select 1 from sqlite_master where name='test_extra'").get()).toBeUndefined();
    expect(second.sqlite.prepare("select 1 as x from sqlite_master where name='test_extra'").get()).toEqual({ x: 1 });
    expect(second.sqlite.prepare("select value from settings where key='marker'").get()).toEqual({ value: '"before"' });
  });

  it('0001 (bags) upgrades a 0000 database with users in it, keeping them', () => {
    const dir = tempDir();
    const file = path.join(dir, 'up.sqlite');
    const only0000 = migrationsUpTo(0);
    const old = open(file, only0000);
    old.sqlite.prepare("insert into users (username, display_name, role, created_at, updated_at) values ('keep', 'Keep', 'admin', 1, 1)").run();
    expect(old.sqlite.prepare("select 1 from sqlite_master where name = 'bags'").get()).toBeUndefined();
    old.close();

    const upgraded = open(file);
    expect(upgraded.backupPath).not.toBeNull();
    expect(upgraded.sqlite.prepare('select username from users').all()).toEqual([{ username: 'keep' }]);
    upgraded.sqlite.prepare("insert into bags (code, kind, created_at, station_id, origin) values ('SB00001', 'parent', 1, 's', 'scan')").run();
    upgraded.sqlite.prepare("insert into bags (code, kind, created_at, station_id, origin) values ('C1', 'child', 1, 's', 'scan')").run();
    upgraded.sqlite.prepare('insert into bag_links (child_id, parent_id, linked_at) values (2, 1, 1)').run();
    // A child has at most one parent: the child is the key.
    expect(() => upgraded.sqlite.prepare('insert into bag_links (child_id, parent_id, linked_at) values (2, 1, 2)').run()).toThrow(/UNIQUE|PRIMARY/);
  });

  it('does not back up a brand-new database', () => {
    const d = open(path.join(tempDir(), 'new.sqlite'));
    expect(d.backupPath).toBeNull();
  });
});

/** A copy of the migrations folder whose journal stops at entry `last` (0-based). */
function migrationsUpTo(last: number): string {
  const dir = tempDir('dockside-migrations-');
  fs.cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  const journalFile = path.join(dir, 'meta', '_journal.json');
  const journal = JSON.parse(fs.readFileSync(journalFile, 'utf8'));
  journal.entries = journal.entries.slice(0, last + 1);
  fs.writeFileSync(journalFile, JSON.stringify(journal));
  return dir;
}

describe('WAL checkpointer', () => {
  it('copies the WAL into the database file from its worker while the station writes', async () => {
    const t = await makeStation();
    const cp = t.station.checkpointer!;
    expect(cp).not.toBeNull();
    expect(t.station.database.sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(20_000);
    const insert = t.station.database.sqlite.prepare('insert into settings (key, value, updated_at) values (?, \'"x"\', 1)');
    for (let i = 0; i < 500; i++) insert.run(`k${i}`);
    const r = await cp.checkpointNow();
    expect(r.log).toBeGreaterThan(0);
    expect(r.done).toBe(r.log); // nothing else was reading: every frame copied
    await t.close();
    // Closed cleanly: the rows are in the file.
    const reopened = await makeStation({ dataDir: t.dataDir });
    expect(reopened.station.database.sqlite.prepare("select count(*) n from settings where key like 'k%'").get()).toEqual({ n: 500 });
  });
});
