import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/main/platform/logger';
import { openDatabase } from '../../src/main/db/open';
import { releaseAll } from '../support/cleanup';
import { MIGRATIONS_DIR, tempDir } from '../support/station';

const opened: { close(): void }[] = [];
afterEach(() => opened.splice(0).forEach((d) => d.close()));
afterEach(releaseAll); // deletes the temp folders

function open(file: string, migrationsDir = MIGRATIONS_DIR) {
  const d = openDatabase({ path: file, migrationsDir, logger: silentLogger });
  opened.push(d);
  return d;
}

/** A copy of the migrations folder whose journal stops at entry `last` (0-based). */
function migrationsUpTo(last: number): string {
  const dir = tempDir('dockside-migrations-');
  fs.cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  const journalFile = path.join(dir, 'meta', '_journal.json');
  const journal = JSON.parse(fs.readFileSync(journalFile, 'utf8')) as { entries: unknown[] };
  journal.entries = journal.entries.slice(0, last + 1);
  fs.writeFileSync(journalFile, JSON.stringify(journal));
  return dir;
}

const rows = (d: ReturnType<typeof open>, table: string) => d.sqlite.prepare(`SELECT * FROM ${table} ORDER BY rowid`).all();
const plan = (d: ReturnType<typeof open>, sql: string, ...params: unknown[]) =>
  (d.sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join(' | ');

describe('migration 0004 (history indexes)', () => {
  it('upgrades a 0003 database with scans and outbox records in it: the data stays, the indexes serve the hot queries', () => {
    const file = path.join(tempDir(), 'station.sqlite');
    const old = open(file, migrationsUpTo(3));
    expect(old.sqlite.prepare("SELECT 1 FROM sqlite_master WHERE name = 'outbox_due'").get()).toBeTruthy();
    const insScan = old.sqlite.prepare(
      "INSERT INTO scans (at, user_id, station_id, source, raw, code, result, message) VALUES (?, ?, ?, 'wedge', ?, ?, 'linked', 'Linked')",
    );
    const insOutbox = old.sqlite.prepare(
      "INSERT INTO outbox (op_id, op, upstream, payload, status, created_at, updated_at) VALUES (?, 'link_child@1', ?, '{}', ?, ?, ?)",
    );
    old.sqlite.transaction(() => {
      for (let i = 0; i < 200; i++) insScan.run(1000 + i, (i % 3) + 1, i % 2 ? 'door-1' : 'door-2', `C${i}`, `C${i}`);
      const statuses = ['pending', 'done', 'conflict', 'error', 'discarded'];
      for (let i = 0; i < 100; i++) insOutbox.run(`op-${i}`, i % 4 ? 'bags' : 'other', statuses[i % 5], 1000 + i, 2000 + i);
    })();
    const before = { scans: rows(old, 'scans'), outbox: rows(old, 'outbox') };
    old.close();

    const upgraded = open(file);

    expect(upgraded.backupPath).not.toBeNull();
    expect(rows(upgraded, 'scans')).toEqual(before.scans);
    expect(rows(upgraded, 'outbox')).toEqual(before.outbox);
    const indexes = (
      upgraded.sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('scans', 'outbox')").all() as { name: string }[]
    ).map((r) => r.name);
    expect(indexes).toEqual(expect.arrayContaining(['scans_user_station', 'outbox_pending', 'outbox_stuck', 'outbox_acknowledged']));
    expect(indexes).not.toContain('outbox_due');
    // The open after the upgrade ran PRAGMA optimize: the new indexes have statistics at once.
    const analyzed = (upgraded.sqlite.prepare('SELECT idx FROM sqlite_stat1').all() as { idx: string | null }[]).map((r) => r.idx);
    expect(analyzed).toEqual(expect.arrayContaining(['scans_user_station', 'outbox_pending', 'outbox_acknowledged']));

    // The statements of dock-door.ts (recentScans), drainer.ts (due, counts, stuck) and prune.ts: searches, no sorting.
    const recent = plan(upgraded, 'SELECT s.id FROM scans s WHERE s.user_id = ? AND s.station_id = ? ORDER BY s.id DESC LIMIT ?', 1, 'door-1', 15);
    expect(recent).toMatch(/SEARCH s USING (COVERING )?INDEX scans_user_station \(user_id=\? AND station_id=\?\)/);
    expect(recent).not.toMatch(/TEMP B-TREE/);
    const due = plan(
      upgraded,
      "SELECT seq FROM outbox WHERE upstream = ? AND status = 'pending' AND next_attempt_at <= ? ORDER BY seq LIMIT ?",
      'bags',
      5000,
      500,
    );
    expect(due).toMatch(/SEARCH outbox USING INDEX outbox_pending \(upstream=\?\)/);
    expect(due).not.toMatch(/TEMP B-TREE/);
    const counts = plan(
      upgraded,
      "SELECT (SELECT count(*) FROM outbox WHERE upstream = @upstream AND status = 'pending') AS queued, (SELECT count(*) FROM outbox WHERE upstream = @upstream AND status = 'error') AS stuck",
      { upstream: 'bags' },
    );
    expect(counts).toMatch(/outbox_pending/);
    expect(counts).toMatch(/outbox_stuck/);
    expect(counts.split(' | ')).not.toContain('SCAN outbox'); // no pass over every record
    const stuck = plan(upgraded, "SELECT seq FROM outbox WHERE status = 'error' ORDER BY seq LIMIT 500");
    expect(stuck).toMatch(/outbox_stuck/);
    expect(stuck).not.toMatch(/TEMP B-TREE/);
    const prune = plan(
      upgraded,
      "SELECT seq FROM outbox WHERE status IN ('done', 'conflict') AND updated_at < ? ORDER BY updated_at LIMIT ?",
      5000,
      500,
    );
    expect(prune).toMatch(/outbox_acknowledged \(updated_at<\?\)/);
    expect(prune).not.toMatch(/TEMP B-TREE/);

    // Each partial index holds only its own records.
    const inIndex = (name: string, where: string) =>
      (upgraded.sqlite.prepare(`SELECT count(*) AS n FROM outbox INDEXED BY ${name} WHERE ${where}`).get() as { n: number }).n;
    const outbox = before.outbox as { status: string; upstream: string }[];
    expect(inIndex('outbox_pending', "status = 'pending' AND upstream = 'bags'")).toBe(
      outbox.filter((r) => r.status === 'pending' && r.upstream === 'bags').length,
    );
    expect(inIndex('outbox_stuck', "status = 'error'")).toBe(outbox.filter((r) => r.status === 'error').length);
    expect(inIndex('outbox_acknowledged', "status IN ('done', 'conflict')")).toBe(
      outbox.filter((r) => r.status === 'done' || r.status === 'conflict').length,
    );
  });
});
