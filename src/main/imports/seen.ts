import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { ownerOnlyFolder } from '../files/owner-only';

/**
 * Which child ids a preview has met, and under which parent, kept in a throwaway SQLite file
 * with an 8 MB cache: a million ids in a Map would cost more memory than the station has to spare.
 */
export class SeenChildren {
  readonly #db: Database.Database;
  readonly #file: string;
  readonly #insert: Database.Statement;
  readonly #find: Database.Statement;
  #pending = 0;

  constructor(dir: string) {
    ownerOnlyFolder(dir);
    this.#file = path.join(dir, `seen-${randomUUID()}.sqlite`);
    this.#db = new Database(this.#file);
    this.#db.pragma('journal_mode = OFF');
    this.#db.pragma('synchronous = OFF');
    this.#db.pragma('cache_size = -8000');
    this.#db.exec('CREATE TABLE seen (child TEXT PRIMARY KEY, parent TEXT NOT NULL) WITHOUT ROWID');
    this.#insert = this.#db.prepare('INSERT INTO seen (child, parent) VALUES (?, ?) ON CONFLICT (child) DO NOTHING');
    this.#find = this.#db.prepare('SELECT parent FROM seen WHERE child = ?').pluck();
    this.#db.exec('BEGIN');
  }

  /** Records child→parent; returns the parent it was first seen under, or undefined if new. */
  remember(child: string, parent: string): string | undefined {
    if (++this.#pending === 50_000) {
      this.#db.exec('COMMIT; BEGIN');
      this.#pending = 0;
    }
    if (this.#insert.run(child, parent).changes === 1) return undefined;
    return this.#find.get(child) as string;
  }

  close(): void {
    if (this.#db.open) this.#db.close();
    fs.rmSync(this.#file, { force: true });
  }
}
