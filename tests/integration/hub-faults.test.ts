import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseAll } from '../support/cleanup';
import { enrolStation, followFeed, hubClient, startHubDatabase, startHubProcess, until, type HubProcess } from '../support/hub';
import type { TestPostgres } from '../support/postgres';

/** Faults on two hub processes and a real PostgreSQL: a hub SIGKILLed mid-batch, the database restarted. */
let postgres: TestPostgres;
let admin: pg.Pool;
const T0 = Date.UTC(2026, 10, 26, 8, 0, 0);
const link = (child: string, parent: string) => ({
  opId: randomUUID(),
  op: 'link_child@1',
  payload: { child, parent, at: T0, by: 'dock1', station: 's' },
});

const enrolledClient = async (hub: HubProcess, name: string) => (await enrolStation(admin, hub.url, name)).token!;

beforeAll(async () => {
  ({ postgres, admin } = await startHubDatabase());
}, 60_000);

afterAll(releaseAll, 60_000); // hub processes and PostgreSQL stop here

describe('hub faults', () => {
  it('a hub SIGKILLed in the middle of a batch: the batch sent again to the other hub applies every op once', async () => {
    const [hubA, hubB] = await Promise.all([startHubProcess(postgres.url), startHubProcess(postgres.url)]);
    const token = await enrolledClient(hubA, 'Dock K');
    const batch = Array.from({ length: 60 }, (_, i) => link(`CKILL${i}`, i === 25 ? 'SBBLOCK' : 'SBKILL'));

    // The test holds SBBLOCK's row, uncommitted: hub A applies ops 0–24, then waits on op 25. Kill it there.
    const blocker = new pg.Client({ connectionString: postgres.url });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query(
      `INSERT INTO bags (code, kind, station_id, user_name, at) SELECT 'SBBLOCK', 'parent', id, 'test', 0 FROM stations WHERE name = 'Dock K'`,
    );
    const sent = hubClient(hubA.url, token)
      .push(batch)
      .catch((e: Error) => e);
    await until('hub A to apply 25 ops and wait on the 26th', async () => {
      const applied = await admin.query('SELECT count(*)::int AS n FROM feed WHERE op_id = ANY($1)', [batch.map((o) => o.opId)]);
      const waiting = await admin.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`);
      return applied.rows[0].n === 25 && waiting.rowCount! > 0;
    });
    hubA.kill('SIGKILL');
    await hubA.closed;
    expect(await sent).toBeInstanceOf(Error); // the station never heard an answer
    await blocker.query('ROLLBACK');
    await blocker.end();

    const again = await hubClient(hubB.url, token).push(batch);
    expect(again.status).toBe(200);
    const results = again.body.results as { opId: string; status: string; duplicate?: boolean }[];
    expect(results.map((r) => r.opId)).toEqual(batch.map((o) => o.opId));
    expect(results.every((r) => r.status === 'ok')).toBe(true);
    expect(results.filter((r) => r.duplicate).length).toBe(25);
    const feed = await admin.query('SELECT op_id, count(*)::int AS n FROM feed WHERE op_id = ANY($1) GROUP BY op_id', [batch.map((o) => o.opId)]);
    expect(feed.rowCount).toBe(60);
    expect(feed.rows.every((r) => r.n === 1)).toBe(true);
    const links = await admin.query(`SELECT count(*)::int AS n FROM bag_links WHERE child_code LIKE 'CKILL%'`);
    expect(links.rows[0].n).toBe(60);
  }, 120_000); // two hub processes start inside the test

  for (const mode of ['fast', 'immediate'] as const) {
    it(`PostgreSQL restarted (${mode}): both hubs reconnect by themselves and a station catches up from its last seq`, async () => {
      const hubs = await Promise.all([startHubProcess(postgres.url), startHubProcess(postgres.url)]);
      const token = await enrolledClient(hubs[0], `Dock R ${mode}`);
      const before = await hubClient(hubs[0].url, token).push([link(`CR${mode}0`, `SBR${mode}`)]);
      const lastSeq = before.body.results[0].seq as number;
      expect(lastSeq).toBeGreaterThan(0);

      const stream = await followFeed(hubs[1].url, token, lastSeq);
      await postgres.restart(mode);

      // The first call on a pool whose connections died may fail (answered 503 or per-op error, nothing kept); a station retries.
      const pushed: number[] = [];
      for (const [i, hub] of hubs.entries()) {
        const o = link(`CR${mode}${i + 1}`, `SBR${mode}`);
        const answer = await until(`hub ${i + 1} to apply after the restart`, async () => {
          const res = await hubClient(hub.url, token).push([o]);
          return res.status === 200 && res.body.results[0].status === 'ok' ? res.body.results[0] : null;
        });
        pushed.push(answer.seq);
      }
      const caughtUp = await hubClient(hubs[1].url, token).feed(lastSeq);
      expect(caughtUp.body.entries.filter((e: { station: string }) => e.station === `Dock R ${mode}`).map((e: { seq: number }) => e.seq)).toEqual(
        pushed,
      );
      // The stream opened before the restart carries on: its hub listens again and sends what was applied.
      for (const seq of pushed) await stream.entries.first((e) => e.seq === seq);
      expect(stream.entries.items.map((e) => e.seq)).toEqual(pushed);
      const rows = await admin.query(`SELECT count(*)::int AS n FROM bag_links WHERE child_code LIKE $1`, [`CR${mode}%`]);
      expect(rows.rows[0].n).toBe(3);
    }, 120_000);
  }
});
