import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFeed } from '../../src/hub/feed';
import { FeedTail } from '../../src/hub/feed-tail';
import { startHubServer } from '../../src/hub/server';
import { onRelease, releaseAll } from '../support/cleanup';
import { enrolStation, startHubDatabase, type hubClient } from '../support/hub';

/** The feed's newest entries read once per hub process (src/hub/feed-tail.ts), against the table on a real PostgreSQL. */
let pool: pg.Pool;
let dock: ReturnType<typeof hubClient>;
const link = (child: string, parent: string) => ({
  opId: randomUUID(),
  op: 'link_child@1',
  payload: { child, parent, at: Date.UTC(2026, 10, 26), by: 'dock1' },
});
const push = async (n: number, prefix: string) => {
  const r = await dock.push(Array.from({ length: n }, (_, i) => link(`${prefix}${i}`, `SB${prefix}`)));
  expect(r.body.results.every((x: { status: string }) => x.status === 'ok')).toBe(true);
};
const lastSeq = async () => Number((await pool.query('SELECT max(seq) AS s FROM feed')).rows[0].s);

beforeAll(async () => {
  ({ admin: pool } = await startHubDatabase({ migrated: true }));
  const server = await startHubServer({ pool });
  onRelease(() => server.close());
  dock = await enrolStation(pool, server.url, 'Dock 1');
}, 60_000);
afterAll(releaseAll, 60_000);

describe('the feed tail', () => {
  it('holds what was applied after it started, the same entries the table answers, and sends a cursor from before it started to the table', async () => {
    await push(3, 'A');
    const before = await lastSeq();
    const tail = new FeedTail(pool, 100);
    await tail.refresh();
    expect(tail.after(before, 500)).toEqual({ entries: [], more: false });
    expect(tail.after(before - 1, 500)).toBeNull();
    await push(5, 'B');
    await tail.refresh();
    const fromTable = await readFeed(pool, before, 500);
    expect(tail.after(before, 500)!.entries).toEqual(fromTable.entries);
    expect(tail.after(before, 2)).toEqual({ entries: fromTable.entries.slice(0, 2), more: true });
    expect(tail.after(fromTable.entries[2].seq, 500)!.entries).toEqual(fromTable.entries.slice(3));
  });

  it('refreshes that overlap with pushes miss nothing and hold nothing twice', async () => {
    const start = await lastSeq();
    const tail = new FeedTail(pool, 10_000);
    await tail.refresh();
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i++) work.push(push(5, `C${i}-`), tail.refresh());
    await Promise.all(work);
    await tail.refresh();
    const held = tail.after(start, 1000)!.entries;
    expect(held.map((e) => e.seq)).toEqual((await readFeed(pool, start, 1000)).entries.map((e) => e.seq));
    expect(held).toHaveLength(50);
  });

  it('keeps only its capacity: a cursor older than what it keeps goes to the table', async () => {
    const start = await lastSeq();
    const tail = new FeedTail(pool, 4);
    await tail.refresh();
    await push(10, 'D');
    await tail.refresh();
    expect(tail.after(start, 500)).toBeNull();
    const all = (await readFeed(pool, start, 500)).entries;
    expect(tail.after(all[5].seq, 500)!.entries).toEqual(all.slice(6));
  });
});
