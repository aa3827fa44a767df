import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { applyOps } from '../../src/hub/apply';
import { openPool } from '../../src/hub/db';
import type { StationIdentity } from '../../src/hub/enrolment';
import { onRelease, releaseAll } from '../support/cleanup';
import { startHubDatabase } from '../support/hub';

/**
 * Every hub applying an op waits for the feed's advisory lock (src/hub/feed-append.ts), held to
 * COMMIT; each statement a transaction sends while holding it is a round trip the whole site waits
 * for. bench/hub.ts found 20 stations' pushes queued behind lock holders whose hub process was busy.
 * Here the statements of real transactions on a real PostgreSQL are recorded.
 */
let admin: pg.Pool;
let recorded: pg.Pool;
let station: StationIdentity;
const sent: string[] = [];

beforeAll(async () => {
  let url: string;
  ({
    admin,
    postgres: { url },
  } = await startHubDatabase({ migrated: true }));
  const { rows } = await admin.query<{ id: number }>(`INSERT INTO stations (name, token_hash) VALUES ('Dock 1', 'x') RETURNING id`);
  station = { id: rows[0].id, name: 'Dock 1' };
  recorded = openPool(url, 2);
  onRelease(() => recorded.end());
  const wrapped = new WeakSet<pg.PoolClient>();
  const connect = recorded.connect.bind(recorded) as () => Promise<pg.PoolClient>;
  recorded.connect = (async () => {
    const client = await connect();
    if (!wrapped.has(client)) {
      wrapped.add(client);
      const query = client.query.bind(client) as (text: string, values?: unknown[]) => Promise<pg.QueryResult>;
      (client as unknown as { query: typeof query }).query = (text, values) => {
        sent.push(text);
        return query(text, values);
      };
    }
    return client;
  }) as typeof recorded.connect;
}, 60_000);
afterAll(releaseAll, 60_000);

it('sends COMMIT right after the statement that takes the feed lock, and keeps each answer with its seq', async () => {
  const at = Date.UTC(2026, 10, 26, 8);
  const op = (name: string, payload: object) => ({ opId: randomUUID(), op: name, payload: { at, by: 'dock1', ...payload } });
  const ops = [
    op('bag_created@1', { code: 'SB00001', kind: 'parent' }),
    op('link_child@1', { child: 'C-1', parent: 'SB00001' }),
    op('link_child@1', { child: 'C-1', parent: 'SB00002' }), // a conflict: nothing on the feed
    op('link_child@1', { child: 'C-2', parent: 'SB00001' }),
  ];
  const results = await applyOps(recorded, station, ops);
  expect(results.map((r) => r.status)).toEqual(['ok', 'ok', 'conflict', 'ok']);

  const locking = sent.flatMap((text, i) => (text.includes('pg_advisory_xact_lock') ? [i] : []));
  expect(locking).toHaveLength(3);
  for (const i of locking) expect(sent[i + 1]).toBe('COMMIT');

  const { rows } = await admin.query<{ op_id: string; status: string; answer: { seq?: number }; seq: string | null }>(
    'SELECT r.op_id, r.status, r.answer, f.seq FROM received_ops r LEFT JOIN feed f USING (op_id)',
  );
  const byId = new Map(rows.map((r) => [r.op_id, r]));
  ops.forEach((o, i) => {
    const row = byId.get(o.opId)!;
    expect(row.status).toBe(results[i].status);
    expect(row.answer).toEqual(results[i]);
    expect(row.seq === null ? undefined : Number(row.seq)).toBe(results[i].seq);
  });
});
