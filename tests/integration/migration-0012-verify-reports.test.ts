import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/main/db/open';
import { silentLogger } from '../../src/main/platform/logger';
import { releaseAll } from '../support/cleanup';
import { MIGRATIONS_DIR, tempDir } from '../support/station';

const opened: { close(): void }[] = [];
afterEach(() => opened.splice(0).forEach((d) => d.close()));
afterEach(releaseAll);

function open(file: string, migrationsDir = MIGRATIONS_DIR) {
  const d = openDatabase({ path: file, migrationsDir, logger: silentLogger });
  opened.push(d);
  return d;
}

/** A copy of the migrations folder whose journal stops at the one tagged `tag`. */
function migrationsUpTo(tag: string): string {
  const dir = tempDir('dockside-migrations-');
  fs.cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  const journalFile = path.join(dir, 'meta', '_journal.json');
  const journal = JSON.parse(fs.readFileSync(journalFile, 'utf8')) as { entries: { tag: string }[] };
  journal.entries = journal.entries.slice(0, journal.entries.findIndex((e) => e.tag === tag) + 1);
  fs.writeFileSync(journalFile, JSON.stringify(journal));
  return dir;
}

describe('migration 0012 (verification reports)', () => {
  it('keeps the lines the hub had already accepted as the site’s records, with the station’s name; other lines are not records', () => {
    const file = path.join(tempDir(), 'station.sqlite');
    const old = open(file, migrationsUpTo('0011_stock_verification'));
    const sql = old.sqlite;
    sql
      .prepare("INSERT INTO settings (key, value, updated_at) VALUES ('hub', ?, 1)")
      .run(JSON.stringify({ url: 'https://hub', stationName: 'Dock 7' }));
    sql
      .prepare(
        "INSERT INTO verify_sessions (id, rack_id, floor, user_id, username, started_at, status) VALUES ('s1', 'R1', 'Ground', 1, 'dana', 1, 'finalized')",
      )
      .run();
    const line = sql.prepare(
      `INSERT INTO verify_lines (client_record_id, session_id, item_code, verified, damaged, serials, floor, made_at, hub_made_at, status, updated_at)
       VALUES (?, 's1', ?, ?, ?, ?, 'Ground', 10, 15, ?, 20)`,
    );
    line.run('ok-1', 'ITEM-1', 5, 1, '["S1","S2"]', 'ok');
    line.run('queued-1', 'ITEM-2', 3, 0, '[]', 'queued');
    line.run('conflict-1', 'ITEM-3', 2, 0, '[]', 'conflict');
    old.close();

    const upgraded = open(file);
    expect(upgraded.sqlite.prepare('SELECT * FROM site_verify_records').all()).toEqual([
      {
        client_record_id: 'ok-1',
        session_id: 's1',
        rack_id: 'R1',
        floor: 'Ground',
        item_code: 'ITEM-1',
        verified: 5,
        damaged: 1,
        serials: '["S1","S2"]',
        user: 'dana',
        station: 'Dock 7',
        hub_made_at: 15,
        batch_id: null,
      },
    ]);
  });
});
