import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateHub, openPool } from '../../src/hub/db';
import { startHubServer } from '../../src/hub/server';
import type { FeedEntry } from '../../src/shared/hub';
import { onRelease, releaseAll } from '../support/cleanup';
import { enrolStation, hubClient, until, type HubProcess, startTwoHubSite } from '../support/hub';
import type { TestPostgres } from '../support/postgres';

/** The hub's lease service on a real PostgreSQL, through two hub processes (each sweeping lapsed leases). */
let postgres: TestPostgres;
let admin: pg.Pool;
let hubA: HubProcess;
let hubB: HubProcess;
/** Dock 1 talks to hub A, Dock 2 to hub B: every race below is between the two processes. */
let dock1: ReturnType<typeof hubClient>;
let dock2: ReturnType<typeof hubClient>;

type Client = ReturnType<typeof hubClient>;

/** Everything on the feed about `resource`, in seq order, read as a station reads it. */
async function feedOf(client: Client, resource: string): Promise<FeedEntry[]> {
  const found: FeedEntry[] = [];
  for (let since = 0, more = true; more;) {
    const page = await client.feed(since, 1000);
    expect(page.status).toBe(200);
    found.push(...(page.body.entries as FeedEntry[]).filter((e) => (e.payload as { resource?: string }).resource === resource));
    since = page.body.next;
    more = page.body.more;
  }
  return found;
}
const ops = (entries: FeedEntry[]) => entries.map((e) => e.op);

beforeAll(async () => {
  ({ postgres, admin, hubA, hubB, dock1, dock2 } = await startTwoHubSite());
}, 120_000);

afterAll(releaseAll, 60_000); // hub processes and PostgreSQL stop here

describe('hub leases', () => {
  it('two stations claiming one rack at once through two hubs, 20 rounds: one lease each round, the refusal names the winner', async () => {
    for (let round = 0; round < 20; round++) {
      const resource = `rack:Ground/RACE${round}`;
      const [a, b] = await Promise.all([dock1.claim({ resource, user: 'anna' }), dock2.claim({ resource, user: 'bob' })]);
      expect([a.status, b.status].sort()).toEqual([200, 409]);
      const [won, lost] = a.status === 200 ? [a, b] : [b, a];
      const winner = a.status === 200 ? { user: 'anna', station: 'Dock 1' } : { user: 'bob', station: 'Dock 2' };
      expect(won.body.lease).toMatchObject({ resource, ...winner, leaseId: expect.any(String), ttlMs: 60_000 });
      expect(lost.body.error.code).toBe('held');
      expect(lost.body.error.message).toBe(`${resource} is held by ${winner.user} at ${winner.station} since ${won.body.lease.claimedAt}`);
      expect(lost.body.holder).toEqual({ ...winner, since: won.body.lease.claimedAt, expiresAt: won.body.lease.expiresAt });
      const rows = await admin.query('SELECT lease_id, holder_user FROM leases WHERE resource = $1', [resource]);
      expect(rows.rows).toEqual([{ lease_id: won.body.lease.leaseId, holder_user: winner.user }]);
      const events = await feedOf(dock1, resource);
      expect(events.map((e) => [e.op, e.station, e.user])).toEqual([['lease_claimed@1', winner.station, winner.user]]);
      expect(events[0].opId).toMatch(/^lease:[0-9a-f-]{36}$/);
    }
  }, 120_000);

  it('the holder renews and claims again (same lease, nothing on the feed); another station is refused meanwhile', async () => {
    const resource = 'rack:Ground/R1';
    const claimed = await dock1.claim({ resource, user: 'anna', ttlMs: 30_000 });
    expect(claimed.status).toBe(200);
    const { leaseId } = claimed.body.lease;

    const renewed = await dock1.renew({ resource, leaseId });
    expect(renewed.status).toBe(200);
    expect(renewed.body.lease).toMatchObject({ resource, leaseId, user: 'anna', station: 'Dock 1', claimedAt: claimed.body.lease.claimedAt });
    expect(Date.parse(renewed.body.lease.expiresAt)).toBeGreaterThanOrEqual(Date.parse(claimed.body.lease.expiresAt));

    // Through the other hub: the same person at the same station claiming again renews.
    const again = await hubClient(hubB.url, dock1.token).claim({ resource, user: 'anna', ttlMs: 30_000 });
    expect(again.status).toBe(200);
    expect(again.body.lease.leaseId).toBe(leaseId);

    // The same person at another station, or another person at this one, is someone else.
    expect((await dock2.claim({ resource, user: 'anna' })).body.error.code).toBe('held');
    expect((await dock1.claim({ resource, user: 'carl' })).body.error.code).toBe('held');
    // Another station cannot renew with the lease id.
    const stolen = await dock2.renew({ resource, leaseId });
    expect(stolen.status).toBe(409);
    expect(stolen.body.error).toMatchObject({ code: 'lost', message: expect.stringContaining(`${resource} is held by anna at Dock 1`) });

    expect(ops(await feedOf(dock2, resource))).toEqual(['lease_claimed@1']);
    const listed = await dock2.leases('rack:Ground/');
    expect(listed.body.leases.find((l: { resource: string }) => l.resource === resource)).toMatchObject({ leaseId, user: 'anna' });
    expect((await dock2.leases('rack:Upper/')).body.leases).toEqual([]);
  });

  it('release: refused to anyone but the holder; the holder frees it, the feed carries released, and another may claim', async () => {
    const resource = 'rack:Ground/R2';
    const { leaseId } = (await dock1.claim({ resource, user: 'anna' })).body.lease;

    const otherStation = await dock2.release({ resource, leaseId });
    expect(otherStation.status).toBe(403);
    expect(otherStation.body.error.code).toBe('not_holder');
    expect(otherStation.body.error.message).toMatch(/^rack:Ground\/R2 is held by anna at Dock 1 since .*: only its holder can release it/);
    const wrongLease = await dock1.release({ resource, leaseId: randomUUID() });
    expect(wrongLease.status).toBe(403);
    expect((await admin.query('SELECT lease_id FROM leases WHERE resource = $1', [resource])).rows).toEqual([{ lease_id: leaseId }]);

    const released = await dock1.release({ resource, leaseId });
    expect(released.status).toBe(200);
    expect(released.body.released).toMatchObject({ resource, leaseId, user: 'anna', station: 'Dock 1' });
    const events = await feedOf(dock2, resource);
    expect(ops(events)).toEqual(['lease_claimed@1', 'lease_released@1']);
    expect(events[1]).toMatchObject({ station: 'Dock 1', user: 'anna', payload: { resource, leaseId, user: 'anna', station: 'Dock 1' } });

    const twice = await dock1.release({ resource, leaseId });
    expect(twice.status).toBe(409);
    expect(twice.body.error).toEqual({ code: 'not_held', message: `${resource} is not held by anyone: nothing to release` });
    expect((await dock2.claim({ resource, user: 'bob' })).status).toBe(200);
    // The released lease is gone for its old holder.
    expect((await dock1.renew({ resource, leaseId })).body.error.code).toBe('lost');
  });

  it('an admin breaks a lease: the answer and the feed name the holder, the admin, the station and the reason; the holder has lost it', async () => {
    const resource = 'rack:Ground/R3';
    const { leaseId } = (await dock1.claim({ resource, user: 'anna' })).body.lease;
    const broken = await dock2.breakLease({ resource, by: 'admin', reason: 'Anna went home' });
    expect(broken.status).toBe(200);
    expect(broken.body).toMatchObject({ broken: { resource, leaseId, user: 'anna', station: 'Dock 1' }, by: 'admin', reason: 'Anna went home' });
    const events = await feedOf(dock1, resource);
    expect(ops(events)).toEqual(['lease_claimed@1', 'lease_broken@1']);
    expect(events[1]).toMatchObject({
      station: 'Dock 2',
      user: 'admin',
      payload: { resource, leaseId, user: 'anna', station: 'Dock 1', by: 'admin', byStation: 'Dock 2', reason: 'Anna went home' },
    });
    const renew = await dock1.renew({ resource, leaseId });
    expect(renew.status).toBe(409);
    expect(renew.body).toMatchObject({ error: { code: 'lost' }, holder: null });
    const again = await dock2.breakLease({ resource, by: 'admin', reason: 'again' });
    expect(again.body.error).toEqual({ code: 'not_held', message: `${resource} is not held by anyone: nothing to break` });
  });

  it('leases that run out expire once each on the feed with both hubs sweeping, and another station takes them over', async () => {
    const resources = Array.from({ length: 8 }, (_, i) => `rack:Ground/EXP${i}`);
    const claims = await Promise.all(resources.map((resource) => dock1.claim({ resource, user: 'anna', ttlMs: 5_000 })));
    expect(claims.map((c) => c.status)).toEqual(resources.map(() => 200));
    // Dock 2 keeps trying through the other hub: refused while held, then it gets each one, racing the sweepers.
    const taken = await Promise.all(
      resources.map((resource) =>
        until(`${resource} to be claimable`, async () => {
          const res = await dock2.claim({ resource, user: 'bob' });
          return res.status === 200 ? res.body.lease : null;
        }),
      ),
    );
    for (const [i, resource] of resources.entries()) {
      expect(taken[i]).toMatchObject({ resource, user: 'bob', station: 'Dock 2' });
      expect(Date.parse(taken[i].claimedAt)).toBeGreaterThanOrEqual(Date.parse(claims[i].body.lease.expiresAt));
      const events = await feedOf(dock1, resource);
      expect(ops(events)).toEqual(['lease_claimed@1', 'lease_expired@1', 'lease_claimed@1']);
      expect(events[1]).toMatchObject({ station: 'Dock 1', user: 'anna', payload: { leaseId: claims[i].body.lease.leaseId } });
      expect(events[2].payload).toMatchObject({ leaseId: taken[i].leaseId, user: 'bob' });
    }
    // And one nobody takes over is swept: the hub reports it expired, once.
    const resource = 'rack:Ground/EXPSWEPT';
    const { leaseId } = (await dock1.claim({ resource, user: 'anna', ttlMs: 5_000 })).body.lease;
    await until('the sweepers to expire it', async () => (await feedOf(dock2, resource)).length === 2);
    expect((await dock1.leases(resource)).body.leases).toEqual([]);
    expect((await admin.query('SELECT 1 FROM leases WHERE resource = $1', [resource])).rowCount).toBe(0);
    expect((await dock1.renew({ resource, leaseId })).body).toMatchObject({ error: { code: 'lost' }, holder: null });
    const everyExpiry = await admin.query(
      `SELECT payload->>'leaseId' AS lease, count(*)::int AS n FROM feed WHERE op = 'lease_expired@1' GROUP BY 1`,
    );
    expect(everyExpiry.rows.every((r) => r.n === 1)).toBe(true);
  }, 120_000);

  it('presence: a heartbeat makes a person present at a station until its TTL runs out; nothing goes on the feed', async () => {
    const before = await dock1.feed(0, 1000);
    const beat = await dock1.heartbeat({ user: 'anna', ttlMs: 5_000 });
    expect(beat.status).toBe(200);
    expect(beat.body.presence).toMatchObject({ user: 'anna', station: 'Dock 1' });
    expect(Date.parse(beat.body.presence.expiresAt) - Date.parse(beat.body.presence.lastSeen)).toBe(5_000);
    const long = await dock2.heartbeat({ user: 'bob' });
    expect(Date.parse(long.body.presence.expiresAt) - Date.parse(long.body.presence.lastSeen)).toBe(90_000);
    const listed = await dock2.presence();
    expect(listed.body.presence.map((p: { user: string; station: string }) => `${p.user}@${p.station}`)).toEqual(['anna@Dock 1', 'bob@Dock 2']);
    await until('anna’s presence to lapse', async () => {
      const now = await dock2.presence();
      return now.body.presence.every((p: { user: string }) => p.user !== 'anna');
    });
    expect((await dock1.presence()).body.presence.map((p: { user: string }) => p.user)).toEqual(['bob']);
    const after = await dock1.feed(before.body.next, 1000);
    expect(after.body.entries).toEqual([]);
  }, 60_000);

  it('bad bodies are refused with the field named and change nothing; without a token every lease call is refused', async () => {
    const cases: [Promise<{ status: number; body: { error: { code: string; message: string; issues: { path: string }[] } } }>, string][] = [
      [dock1.call('POST', '/v1/leases/claim', { user: 'anna' }), 'resource'],
      [dock1.claim({ resource: 'rack:Ground/BAD', user: '' }), 'user'],
      [dock1.claim({ resource: 'rack:Ground/BAD', user: 'anna', ttlMs: 100 }), 'ttlMs'],
      [dock1.call('POST', '/v1/leases/claim', { resource: 'rack:Ground/BAD', user: 'anna', ttlMs: 'long' }), 'ttlMs'],
      [dock1.renew({ resource: 'rack:Ground/BAD', leaseId: 'mine' }), 'leaseId'],
      [dock1.call('POST', '/v1/leases/release', { resource: 'rack:Ground/BAD' }), 'leaseId'],
      [dock1.call('POST', '/v1/leases/break', { resource: 'rack:Ground/BAD', by: 'admin' }), 'reason'],
      [dock1.heartbeat({ user: ' ', ttlMs: 5_000 }), 'user'],
      [dock1.heartbeat({ user: 'anna', ttlMs: 10_000_000 }), 'ttlMs'],
    ];
    for (const [call, field] of cases) {
      const res = await call;
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid');
      expect(res.body.error.message).toContain(`${field}: `);
      expect(res.body.error.issues.map((i) => i.path)).toContain(field);
    }
    expect((await admin.query(`SELECT 1 FROM leases WHERE resource = 'rack:Ground/BAD'`)).rowCount).toBe(0);

    const anonymous = hubClient(hubA.url);
    for (const [method, path] of [
      ['POST', '/v1/leases/claim'],
      ['POST', '/v1/leases/renew'],
      ['POST', '/v1/leases/release'],
      ['POST', '/v1/leases/break'],
      ['GET', '/v1/leases'],
      ['POST', '/v1/presence'],
      ['GET', '/v1/presence'],
    ]) {
      const res = await anonymous.call(method, path, method === 'POST' ? { resource: 'rack:Ground/BAD', user: 'anna' } : undefined);
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.body.error.code).toBe('unauthenticated');
    }
    expect((await anonymous.call('POST', '/v1/leases/claim', { resource: 'rack:Ground/BAD', user: 'x' }, 'not-a-token')).status).toBe(401);
  });

  it('a station cannot push a lease event as an op', async () => {
    const pushed = await dock1.push([{ opId: randomUUID(), op: 'lease_claimed@1', payload: { resource: 'rack:Ground/R9', at: 1, by: 'anna' } }]);
    expect(pushed.body.results[0]).toMatchObject({ status: 'error', message: expect.stringMatching(/^Unknown op “lease_claimed@1”/) });
    expect(await feedOf(dock1, 'rack:Ground/R9')).toEqual([]);
  });

  it('a lapsed lease not yet swept is taken over by the next claim, which puts expired then claimed on the feed', async () => {
    // A hub of this process on a database of its own, sweeping only after an hour: the claim is what expires the lease.
    const pool = openPool(await postgres.createDatabase('leases_lazy'), 4);
    onRelease(() => pool.end());
    await migrateHub(pool);
    const server = await startHubServer({ pool, leaseSweepMs: 3_600_000 });
    onRelease(() => server.close());
    const one = await enrolStation(pool, server.url, 'Dock 1');
    const two = await enrolStation(pool, server.url, 'Dock 2');
    const resource = 'rack:Ground/LAZY';
    const first = (await one.claim({ resource, user: 'anna', ttlMs: 5_000 })).body.lease;
    await until('the lease to lapse', async () => (await two.leases(resource)).body.leases.length === 0);
    expect((await pool.query('SELECT 1 FROM leases WHERE resource = $1', [resource])).rowCount).toBe(1); // not swept
    const taken = await two.claim({ resource, user: 'bob' });
    expect(taken.status).toBe(200);
    const events = await feedOf(two, resource);
    expect(ops(events)).toEqual(['lease_claimed@1', 'lease_expired@1', 'lease_claimed@1']);
    expect(events[2].seq).toBe(events[1].seq + 1);
    expect(events[1].payload).toMatchObject({ leaseId: first.leaseId, user: 'anna', station: 'Dock 1', expiredAt: first.expiresAt });
    expect(events[2].payload).toMatchObject({ leaseId: taken.body.lease.leaseId, user: 'bob', station: 'Dock 2' });
  }, 60_000);

  it('PostgreSQL restarted: leases held before it are still held, and claims, renewals and sweeps work again on both hubs', async () => {
    const resource = 'rack:Ground/R4';
    const { leaseId } = (await dock1.claim({ resource, user: 'anna', ttlMs: 600_000 })).body.lease;
    await postgres.restart('immediate');
    // The first call on a pool whose connections died may be answered 503; a station tries again.
    const renewed = await until('hub A to renew after the restart', async () => {
      const res = await dock1.renew({ resource, leaseId });
      return res.status === 200 ? res.body.lease : null;
    });
    expect(renewed.leaseId).toBe(leaseId);
    const refused = await until('hub B to answer a claim after the restart', async () => {
      const res = await dock2.claim({ resource, user: 'bob' });
      return res.status === 409 ? res.body : null;
    });
    expect(refused.holder).toMatchObject({ user: 'anna', station: 'Dock 1' });
    for (const [client, name] of [
      [dock1, 'AFTER1'],
      [dock2, 'AFTER2'],
    ] as const) {
      const res = await until(`a claim through ${client.url}`, async () => {
        const r = await client.claim({ resource: `rack:Ground/${name}`, user: 'carl', ttlMs: 5_000 });
        return r.status === 200 ? r : null;
      });
      expect(res.body.lease.user).toBe('carl');
    }
    await until('the sweepers to expire the claims made after the restart', async () => {
      const events = [...(await feedOf(dock1, 'rack:Ground/AFTER1')), ...(await feedOf(dock1, 'rack:Ground/AFTER2'))];
      return ops(events).filter((o) => o === 'lease_expired@1').length === 2;
    });
  }, 120_000);
});
