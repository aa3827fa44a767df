import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubServer } from '../../src/hub/server';
import { onRelease, releaseAll } from '../support/cleanup';
import { enrolStation, startHubDatabase, type hubClient } from '../support/hub';

/** The site-wide rules each op is applied under, on a real PostgreSQL (the hub in this process). */
let pool: pg.Pool;
let dock1: ReturnType<typeof hubClient>;
let dock2: ReturnType<typeof hubClient>;
const T0 = Date.UTC(2026, 10, 26, 8, 0, 0);
const op = (name: string, payload: Record<string, unknown>) => ({ opId: randomUUID(), op: name, payload });
const link = (child: string, parent: string, by: string) => op('link_child@1', { child, parent, at: T0, by, station: 's' });
const unlink = (child: string, parent: string, by: string, deleteChild = false) =>
  op('unlink_child@1', { child, parent, at: T0 + 1, by, deleteChild });
const finalize = (number: string, parents: string[]) =>
  op('bill_finalized@1', {
    number,
    parents: parents.map((code) => ({ code, children: 1 })),
    childCount: 1,
    weightKg: 1,
    kgPerChild: 1,
    at: T0,
    by: 'billing',
  });
const one = async (client: ReturnType<typeof hubClient>, o: unknown) => (await client.push([o])).body.results[0];
const linkOf = async (child: string) =>
  (await pool.query('SELECT parent_code FROM bag_links WHERE child_code = $1', [child])).rows[0]?.parent_code ?? null;

beforeAll(async () => {
  ({ admin: pool } = await startHubDatabase({ migrated: true }));
  const server = await startHubServer({ pool });
  // Closed before the pool ends (newest first): its feed listener holds a pool client until then.
  onRelease(() => server.close());
  dock1 = await enrolStation(pool, server.url, 'Dock 1');
  dock2 = await enrolStation(pool, server.url, 'Dock 2');
}, 60_000);

afterAll(releaseAll, 60_000); // hub processes and PostgreSQL stop here

describe('hub rules', () => {
  it('a link to the parent the child is already on is ok and changes nothing; a conflict sent again answers the same conflict', async () => {
    expect(await one(dock1, link('C1', 'SB1', 'dock1'))).toMatchObject({ status: 'ok', seq: expect.any(Number) });
    const same = await one(dock2, link('C1', 'SB1', 'dock2'));
    expect(same).toMatchObject({ status: 'ok', message: 'C1 was already on SB1 (linked at Dock 1 by dock1)' });
    expect(same.seq).toBeUndefined();
    const loser = link('C1', 'SB2', 'dock2');
    const first = await one(dock2, loser);
    expect(first).toMatchObject({ status: 'conflict', winner: { child: 'C1', parent: 'SB1', station: 'Dock 1', user: 'dock1', at: T0 } });
    expect(await one(dock2, loser)).toEqual({ ...first, duplicate: true });
    expect(await linkOf('C1')).toBe('SB1');
  });

  it('undo only by the person who linked, and only of the link the site has', async () => {
    await one(dock1, link('C2', 'SB1', 'dock1'));
    const other = await one(dock2, unlink('C2', 'SB1', 'dock2'));
    expect(other).toMatchObject({ status: 'conflict', message: expect.stringContaining('Only dock1, who linked it, can undo C2 → SB1') });
    const wrongParent = await one(dock1, unlink('C2', 'SB9', 'dock1'));
    expect(wrongParent.message).toMatch(/C2 is on SB1 .*not on SB9: nothing was undone/);
    expect(await linkOf('C2')).toBe('SB1');
    expect(await one(dock1, unlink('C2', 'SB1', 'dock1', true))).toMatchObject({ status: 'ok', seq: expect.any(Number) });
    expect(await linkOf('C2')).toBeNull();
    expect((await pool.query(`SELECT 1 FROM bags WHERE code = 'C2'`)).rowCount).toBe(0);
    // Now free: another door may take it.
    expect(await one(dock2, link('C2', 'SB2', 'dock2'))).toMatchObject({ status: 'ok' });
  });

  it('a finalized bill makes its parents read-only site-wide, and a parent goes on one finalized bill', async () => {
    await one(dock1, link('C3', 'SB3', 'dock1'));
    expect(await one(dock1, finalize('B-1', ['SB3']))).toMatchObject({ status: 'ok' });
    expect(await one(dock2, link('C4', 'SB3', 'dock2'))).toMatchObject({
      status: 'conflict',
      message: 'SB3 is on finalized bill B-1 (Dock 1): it takes no more bags',
    });
    expect((await one(dock1, unlink('C3', 'SB3', 'dock1'))).message).toMatch(/finalized bill B-1 .*cannot be undone/);
    expect((await one(dock2, op('bag_deleted@1', { code: 'C3', at: T0, by: 'admin' }))).message).toBe(
      "C3's parent SB3 is on finalized bill B-1 (Dock 1): it cannot be deleted",
    );
    // Dock 2's own bill with SB5 and SB3: refused whole, SB5 stays free.
    const other = await one(dock2, finalize('B-1', ['SB5', 'SB3']));
    expect(other).toMatchObject({ status: 'conflict', message: expect.stringContaining('SB3 is already on finalized bill B-1 (Dock 1)') });
    expect((await pool.query(`SELECT 1 FROM bill_parents WHERE parent_code = 'SB5'`)).rowCount).toBe(0);
    expect((await pool.query(`SELECT 1 FROM bills WHERE station_id = (SELECT id FROM stations WHERE name = 'Dock 2')`)).rowCount).toBe(0);
    expect(await linkOf('C3')).toBe('SB3');
  });

  it('an import applies the free links and answers conflict naming every child on another parent', async () => {
    await one(dock1, link('C10', 'SB10', 'dock1'));
    const result = await one(
      dock2,
      op('import_links@1', {
        file: 'x.csv',
        job: 1,
        links: [
          ['C11', 'SB11'],
          ['C10', 'SB11'],
          ['C12', 'SB11'],
          ['C1', 'SB11'],
        ],
        at: T0,
        by: 'billing',
      }),
    );
    expect(result.status).toBe('conflict');
    expect(result.message).toMatch(/^2 of 4 links applied; 2 refused: C10 is on SB10 .*C1 is on SB1/);
    expect(result.winners.map((w: { child: string; station: string }) => [w.child, w.station])).toEqual([
      ['C10', 'Dock 1'],
      ['C1', 'Dock 1'],
    ]);
    const feed = await pool.query('SELECT payload FROM feed WHERE seq = $1', [result.seq]);
    expect(feed.rows[0].payload.links).toEqual([
      ['C11', 'SB11'],
      ['C12', 'SB11'],
    ]);
    expect(await linkOf('C10')).toBe('SB10');
    expect(await linkOf('C12')).toBe('SB11');
  });

  it('bags: a code is one kind site-wide; a deleted bag takes its links with it', async () => {
    expect(await one(dock1, op('bag_created@1', { code: 'SB20', kind: 'parent', at: T0, by: 'dock1' }))).toMatchObject({ status: 'ok' });
    const clash = await one(dock2, op('bag_created@1', { code: 'SB20', kind: 'child', at: T0, by: 'dock2' }));
    expect(clash).toMatchObject({ status: 'conflict', winner: { station: 'Dock 1', user: 'dock1' } });
    expect(clash.message).toMatch(/SB20 is already a parent bag site-wide/);
    await one(dock1, link('C20', 'SB20', 'dock1'));
    expect(await one(dock2, op('bag_deleted@1', { code: 'SB20', at: T0, by: 'admin', reason: 'test' }))).toMatchObject({ status: 'ok' });
    expect(await linkOf('C20')).toBeNull();
    expect(await one(dock2, op('bag_deleted@1', { code: 'SB20', at: T0, by: 'admin' }))).toMatchObject({
      status: 'ok',
      message: expect.stringContaining('not known'),
    });
  });
});
