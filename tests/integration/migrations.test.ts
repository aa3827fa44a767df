import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/main/auth/passwords';
import { silentLogger } from '../../src/main/platform/logger';
import { databasePath } from '../../src/main/app/station';
import { openDatabase, pendingMigrations } from '../../src/main/db/open';
import { ReadCache } from '../../src/main/upstreams/read-cache';
import { UpstreamError } from '../../src/main/upstreams/http';
import { onRelease, releaseAll } from '../support/cleanup';
import { csv, importFile } from '../support/imports';
import { makeStation, ManualClock, MIGRATIONS_DIR, signInAs, TEST_KDF, tempDir } from '../support/station';

const TABLES = [
  'audit_log',
  'job_log',
  'eta_customers',
  'eta_statuses',
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
  'recovery_codes',
  'trips',
  'trip_stops',
  'trip_lines',
  'trip_packs',
  'trip_executions',
  'trip_manifests',
  'site_bill_parents',
  'site_conflicts',
  'racks',
  'items',
  'items_fts',
  'verify_sessions',
  'verify_lines',
  'rack_leases',
  'notices',
  'site_serials',
  'site_verify_records',
  'verify_snapshots',
  'verify_snapshot_rows',
  'verify_compare_rows',
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

  it('0002 (import job) upgrades a 0001 database holding a day of scanning: every row kept; old links belong to no import, new ones to theirs', async () => {
    const dataDir = tempDir();
    const file = databasePath(dataDir);
    const old = open(file, migrationsUpTo(1));
    await seedDockDay(old.sqlite);
    const before = rowsByTable(old.sqlite);
    old.close();

    const upgraded = open(file, migrationsUpTo(2));
    expect(upgraded.backupPath).not.toBeNull();
    expect(rowsByTable(upgraded.sqlite)).toEqual({ ...before, bag_links: before.bag_links.map((link) => ({ ...link, import_job_id: null })) });
    upgraded.close();

    // The station on the upgraded file: importing the scanned link finds it already there (not
    // "earlier in this file"), and the link the import adds carries its job.
    const t = await makeStation({ dataDir });
    const admin = t.window();
    await signInAs(t, admin, 'boss', 'correct horse');
    const { job, result } = await importFile(
      admin,
      'day.csv',
      csv([
        ['Parent', 'Child'],
        ['SB00001', 'C-1'],
        ['SB00001', 'C-3'],
      ]),
    );
    expect(result).toMatchObject({ linked: 1, alreadyPresent: 1, duplicates: 0, rejected: 0 });
    const links = t.station.database.sqlite
      .prepare('SELECT c.code, l.import_job_id FROM bag_links l JOIN bags c ON c.id = l.child_id ORDER BY c.code')
      .all();
    expect(links).toEqual([
      { code: 'C-1', import_job_id: null },
      { code: 'C-2', import_job_id: null },
      { code: 'C-3', import_job_id: job.id },
    ]);
  });

  it('0003 (upstream cache) upgrades a 0002 database holding scans and an import: every row kept; the cache serves its last copy when the upstream fails', async () => {
    const file = path.join(tempDir(), 'dockside.sqlite');
    const old = open(file, migrationsUpTo(2));
    await seedDockDay(old.sqlite);
    old.sqlite.exec(`
      INSERT INTO jobs (id, kind, status, params, progress, created_by, created_at, started_at, finished_at, attempts)
        VALUES (1, 'import', 'succeeded', '{"fileName":"truck.csv"}', 1, 1, ${DAY + 40}, ${DAY + 40}, ${DAY + 41}, 1);
      INSERT INTO bags (id, code, kind, created_at, created_by, station_id, origin) VALUES (4, 'C-9', 'child', ${DAY + 40}, 1, 'station-1', 'import');
      INSERT INTO bag_links (child_id, parent_id, linked_at, linked_by, import_job_id) VALUES (4, 1, ${DAY + 40}, 1, 1);`);
    const before = rowsByTable(old.sqlite);
    old.close();

    const upgraded = open(file, migrationsUpTo(3));
    const { upstream_cache: cache, ...kept } = rowsByTable(upgraded.sqlite);
    expect(kept).toEqual(before);
    expect(cache).toEqual([]);

    const clock = new ManualClock();
    const reads = new ReadCache(upgraded.db, clock.now);
    const orders = [{ orderNo: 'DD-1', qty: 3 }];
    expect(await reads.read('erp:DD:open-orders', 'erp-DD', async () => orders)).toMatchObject({ value: orders, fromCache: false });
    clock.advance(10 * 60_000);
    const down = () => Promise.reject(new UpstreamError('erp-DD', 'unavailable', 'erp-DD is unavailable (503)'));
    expect(await reads.read('erp:DD:open-orders', 'erp-DD', down)).toEqual({
      value: orders,
      fetchedAt: clock.t - 10 * 60_000,
      fromCache: true,
      warning: 'erp-DD is unavailable (503)',
    });
    expect(upgraded.sqlite.prepare('SELECT key, upstream FROM upstream_cache').all()).toEqual([{ key: 'erp:DD:open-orders', upstream: 'erp-DD' }]);
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

const DAY = Date.UTC(2026, 10, 24, 6, 0, 0);

/**
 * A station's morning as the tables of migrations 0000–0001 hold it: an admin and a dispatcher,
 * parent SB00001 with two children scanned in, SB00001 on a draft bill, and the audit and outbox
 * rows those scans wrote. Written as SQL because today's code speaks only today's schema.
 */
async function seedDockDay(sqlite: Database.Database): Promise<void> {
  const hash = await hashSecret('correct horse', TEST_KDF);
  sqlite
    .prepare(
      "INSERT INTO users (id, username, display_name, role, password_hash, created_at, updated_at) VALUES (1, 'boss', 'Boss', 'admin', ?, ?, ?)",
    )
    .run(hash, DAY, DAY);
  sqlite.exec(`
    INSERT INTO users (id, username, display_name, role, pin_hash, created_at, updated_at, last_login_at) VALUES (2, 'dock1', 'Dock 1', 'dispatcher', 'scrypt$10$8$1$AAAA$BBBB', ${DAY}, ${DAY}, ${DAY + 5});
    INSERT INTO settings (key, value, updated_at) VALUES ('station.id', '"station-1"', ${DAY});
    INSERT INTO bags (id, code, kind, created_at, created_by, station_id, origin) VALUES
      (1, 'SB00001', 'parent', ${DAY + 10}, 2, 'station-1', 'scan'),
      (2, 'C-1', 'child', ${DAY + 11}, 2, 'station-1', 'scan'),
      (3, 'C-2', 'child', ${DAY + 12}, 2, 'station-1', 'scan');
    INSERT INTO scans (id, at, user_id, station_id, source, raw, code, result, message, parent_id, child_id, created_child) VALUES
      (1, ${DAY + 10}, 2, 'station-1', 'wedge', 'SB00001', 'SB00001', 'parent', 'New parent SB00001', 1, NULL, 0),
      (2, ${DAY + 11}, 2, 'station-1', 'wedge', 'C-1', 'C-1', 'linked', 'Linked C-1 → SB00001 (1)', 1, 2, 1),
      (3, ${DAY + 12}, 2, 'station-1', 'hid', 'C-2', 'C-2', 'linked', 'Linked C-2 → SB00001 (2)', 1, 3, 1);
    INSERT INTO bag_links (child_id, parent_id, linked_at, linked_by, scan_id) VALUES (2, 1, ${DAY + 11}, 2, 2), (3, 1, ${DAY + 12}, 2, 3);
    INSERT INTO bills (id, number, status, note, created_at, created_by) VALUES (1, 'B-000001', 'draft', 'Truck 4', ${DAY + 20}, 1);
    INSERT INTO bill_parents (parent_id, bill_id, added_at, added_by) VALUES (1, 1, ${DAY + 21}, 1);
    INSERT INTO audit_log (at, user_id, username, station_id, action, entity, entity_id, before, after) VALUES
      (${DAY + 11}, 2, 'dock1', 'station-1', 'bags.linked', 'bag', 'C-1', '{"code":"C-1","parent":null}', '{"code":"C-1","parent":"SB00001"}'),
      (${DAY + 12}, 2, 'dock1', 'station-1', 'bags.linked', 'bag', 'C-2', '{"code":"C-2","parent":null}', '{"code":"C-2","parent":"SB00001"}');
    INSERT INTO outbox (op_id, op, upstream, payload, status, created_at, updated_at) VALUES
      ('op-1', 'link_child@1', 'bags', '{"child":"C-1","parent":"SB00001"}', 'done', ${DAY + 11}, ${DAY + 30}),
      ('op-2', 'link_child@1', 'bags', '{"child":"C-2","parent":"SB00001"}', 'pending', ${DAY + 12}, ${DAY + 12});`);
}

/** Every row of every table but the migrations' own, by table: what an upgrade must keep. */
function rowsByTable(sqlite: Database.Database): Record<string, Record<string, unknown>[]> {
  const tables = sqlite
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != '__drizzle_migrations' ORDER BY name")
    .all() as { name: string }[];
  return Object.fromEntries(
    tables.map(({ name }) => [name, sqlite.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all() as Record<string, unknown>[]]),
  );
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
