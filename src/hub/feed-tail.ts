import type pg from 'pg';
import type { FeedEntry } from '../shared/hub';
import { readFeed } from './feed';

/**
 * The newest feed entries, read once per hub process and served from memory to all its streams.
 * Without it every notification made every open stream read the feed table itself (twenty doors:
 * twenty reads an op, most of the database's work). One reader per process reads what is new after
 * the last seq it holds; a stream whose cursor is inside what it holds is answered from memory,
 * one further back (a station catching up after a day off) reads the table as before.
 *
 * Seqs commit in order (the feed lock is held to commit), so "after the last seq read" misses
 * nothing; seqs may have gaps (a rolled-back insert), which changes nothing here.
 */
export class FeedTail {
  #entries: FeedEntry[] = [];
  /** Everything with seq in (#start, #last] is in #entries; -1: not read yet. */
  #start = -1;
  #last = -1;
  #wanted = 0;
  #done = 0;
  #running: Promise<void> | null = null;

  constructor(
    private readonly pool: pg.Pool,
    private readonly capacity = 10_000,
  ) {}

  /** Reads what was applied since the last read; calls that overlap share the reads (and wait for one that starts after them). */
  refresh(): Promise<void> {
    this.#wanted++;
    this.#running ??= this.#loop().finally(() => (this.#running = null));
    return this.#running;
  }

  async #loop(): Promise<void> {
    while (this.#done < this.#wanted) {
      const target = this.#wanted;
      await this.#readNew();
      this.#done = target;
    }
  }

  async #readNew(): Promise<void> {
    if (this.#last < 0) {
      // Starts at the present: what came before is read from the table by whoever needs it.
      const { rows } = await this.pool.query<{ seq: string }>('SELECT coalesce(max(seq), 0) AS seq FROM feed');
      this.#start = this.#last = Number(rows[0].seq);
    }
    for (let more = true; more;) {
      const page = await readFeed(this.pool, this.#last, 1000);
      this.#entries.push(...page.entries);
      this.#last = page.next;
      more = page.more;
    }
    if (this.#entries.length > this.capacity) {
      const drop = this.#entries.length - this.capacity;
      this.#start = this.#entries[drop - 1].seq;
      this.#entries = this.#entries.slice(drop);
    }
  }

  /** Up to `limit` entries after `since` from memory, or null when `since` is older than what is held. */
  after(since: number, limit: number): { entries: FeedEntry[]; more: boolean } | null {
    if (this.#start < 0 || since < this.#start) return null;
    let lo = 0;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#entries[mid].seq <= since) lo = mid + 1;
      else hi = mid;
    }
    const entries = this.#entries.slice(lo, lo + limit);
    return { entries, more: lo + limit < this.#entries.length };
  }
}
