import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Lease, LeaseEndedHow, LeaseHolder, LeaseRefusalCode, Presence } from '../shared/hub';
import { inTransaction } from './db';
import type { StationIdentity } from './enrolment';
import { appendFeed } from './feed-append';

/**
 * The site's leases: a resource ("rack:Ground/R1") held by one person at one station until
 * expires_at, on PostgreSQL's clock (now(): one clock for every hub process). PostgreSQL decides who
 * wins: a claim is one INSERT … ON CONFLICT on the resource's primary key, so two hubs claiming at
 * once are ordered by the database and exactly one gets it. A lease past its expiry belongs to no one;
 * it is deleted, with lease_expired@1 on the feed, by the claim that takes it over or by a hub's
 * sweeper, whichever deletes the row (a DELETE … RETURNING: one of them, once).
 *
 * Lock order, so nothing deadlocks: a lease row first, then the feed's advisory lock (appendFeed).
 */

export class LeaseRefusal extends Error {
  constructor(
    readonly status: 403 | 409,
    readonly code: LeaseRefusalCode,
    message: string,
    /** Who holds the resource now; null: no one. */
    readonly holder: LeaseHolder | null,
    /** The hub's clock when it refused (ISO), when the refusal read it. */
    readonly now?: string,
  ) {
    super(message);
  }
}

interface LeaseRow {
  resource: string;
  lease_id: string;
  holder_user: string;
  holder_station_id: number;
  station: string;
  claimed_at: Date;
  expires_at: Date;
  ttl_ms: number;
  /** PostgreSQL's now(): the hub's clock, answered with every lease so stations measure their offset. */
  now: Date;
}

/** The columns every lease query answers, `l` the lease and `s` its holder's station. */
const LEASE_COLUMNS =
  'l.resource, l.lease_id, l.holder_user, l.holder_station_id, s.name AS station, l.claimed_at, l.expires_at, l.ttl_ms, now() AS now';

/** A lease with the hub's clock when it answered. */
export interface TimedLease {
  lease: Lease;
  now: string;
}
const timed = (r: LeaseRow): TimedLease => ({ lease: toLease(r), now: r.now.toISOString() });

/** Ends a lease's history row (src/hub/schema.ts lease_history) in the caller's transaction. */
async function endHistory(client: pg.ClientBase, leaseId: string, endedAt: Date, how: LeaseEndedHow): Promise<void> {
  await client.query('UPDATE lease_history SET ended_at = $2, ended_how = $3 WHERE lease_id = $1 AND ended_at IS NULL', [leaseId, endedAt, how]);
}

const toLease = (r: LeaseRow): Lease => ({
  resource: r.resource,
  leaseId: r.lease_id,
  user: r.holder_user,
  station: r.station,
  claimedAt: r.claimed_at.toISOString(),
  expiresAt: r.expires_at.toISOString(),
  ttlMs: r.ttl_ms,
});
const toHolder = (r: LeaseRow): LeaseHolder => ({
  user: r.holder_user,
  station: r.station,
  since: r.claimed_at.toISOString(),
  expiresAt: r.expires_at.toISOString(),
});
const heldBy = (h: LeaseHolder, resource: string) => `${resource} is held by ${h.user} at ${h.station} since ${h.since}`;

const leaseEventId = () => `lease:${randomUUID()}`;

/** The unexpired lease on a resource, or null. */
async function currentLease(client: pg.ClientBase, resource: string): Promise<LeaseRow | null> {
  const { rows } = await client.query<LeaseRow>(
    `SELECT ${LEASE_COLUMNS} FROM leases l JOIN stations s ON s.id = l.holder_station_id WHERE l.resource = $1 AND l.expires_at > now()`,
    [resource],
  );
  return rows[0] ?? null;
}

/**
 * Deletes lapsed leases (one resource's, or up to `limit` of any) and puts lease_expired@1 on the
 * feed for each, in the caller's transaction. The sweeper skips rows another transaction holds (a
 * claim taking one over, another hub's sweeper): that one emits the expiry. Answers how many expired.
 */
async function expireLapsed(client: pg.PoolClient, resource: string | null, limit = 500): Promise<number> {
  const { rows } = await client.query<LeaseRow>(
    `DELETE FROM leases l USING stations s
     WHERE s.id = l.holder_station_id AND l.resource IN (
       SELECT resource FROM leases WHERE expires_at <= now() AND ($1::text IS NULL OR resource = $1)
       ORDER BY resource LIMIT $2 FOR UPDATE${resource === null ? ' SKIP LOCKED' : ''})
     RETURNING ${LEASE_COLUMNS}`,
    [resource, limit],
  );
  for (const r of rows) await feedExpired(client, r);
  return rows.length;
}

/** lease_expired@1 for a lapsed lease just deleted: on its holder's station, at its expiry. */
async function feedExpired(client: pg.PoolClient, r: LeaseRow): Promise<void> {
  await endHistory(client, r.lease_id, r.expires_at, 'expired');
  await appendFeed(client, {
    opId: leaseEventId(),
    op: 'lease_expired@1',
    payload: {
      resource: r.resource,
      leaseId: r.lease_id,
      user: r.holder_user,
      station: r.station,
      claimedAt: r.claimed_at.toISOString(),
      expiredAt: r.expires_at.toISOString(),
    },
    stationId: r.holder_station_id,
    user: r.holder_user,
    at: r.expires_at.getTime(),
  });
}

/**
 * Claims a resource for `user` at `station`. Held by them already (unexpired): renewed, same lease
 * id, nothing on the feed. Free or lapsed: a new lease (a lapsed one's expiry goes on the feed
 * first, then the claim). Held by anyone else: refused naming the holder.
 */
export async function claimLease(
  pool: pg.Pool,
  station: StationIdentity,
  req: { resource: string; user: string; ttlMs: number },
): Promise<TimedLease> {
  return inTransaction(pool, async (client) => {
    // A lease that became lapsed between the two statements (its claim waited on a lock for longer
    // than its TTL) is expired on the next turn.
    for (let attempt = 0; attempt < 3; attempt++) {
      await expireLapsed(client, req.resource);
      // The rule: the primary key. A conflicting row is locked by ON CONFLICT whether or not it is
      // updated, so the holder read after a refusal is the one that won.
      const { rows } = await client.query<LeaseRow & { inserted: boolean }>(
        `INSERT INTO leases AS l (resource, lease_id, holder_user, holder_station_id, claimed_at, renewed_at, expires_at, ttl_ms)
         VALUES ($1, $2, $3, $4, now(), now(), now() + $5::int * interval '1 millisecond', $5)
         ON CONFLICT (resource) DO UPDATE SET renewed_at = now(), expires_at = EXCLUDED.expires_at, ttl_ms = EXCLUDED.ttl_ms
         WHERE l.holder_user = EXCLUDED.holder_user AND l.holder_station_id = EXCLUDED.holder_station_id AND l.expires_at > now()
         RETURNING l.resource, l.lease_id, l.holder_user, l.holder_station_id, $6::text AS station, l.claimed_at, l.expires_at, l.ttl_ms,
           now() AS now, (xmax = 0) AS inserted`,
        [req.resource, randomUUID(), req.user, station.id, req.ttlMs, station.name],
      );
      const row = rows[0];
      if (row) {
        const lease = toLease(row);
        if (row.inserted) {
          await client.query('INSERT INTO lease_history (lease_id, resource, holder_user, station_id, claimed_at) VALUES ($1, $2, $3, $4, $5)', [
            row.lease_id,
            row.resource,
            row.holder_user,
            station.id,
            row.claimed_at,
          ]);
          const { resource, leaseId, user, claimedAt, expiresAt, ttlMs } = lease;
          await appendFeed(client, {
            opId: leaseEventId(),
            op: 'lease_claimed@1',
            payload: { resource, leaseId, user, station: station.name, claimedAt, expiresAt, ttlMs },
            stationId: station.id,
            user,
            at: row.claimed_at.getTime(),
          });
        }
        return timed(row);
      }
      const holder = await currentLease(client, req.resource);
      if (holder) throw new LeaseRefusal(409, 'held', heldBy(toHolder(holder), req.resource), toHolder(holder), holder.now.toISOString());
    }
    throw new Error(`${req.resource}'s lease kept changing while it was claimed: try again`);
  });
}

/** Renews the holder's lease by its TTL from now; a lease that lapsed, was broken or was taken is lost. */
export async function renewLease(pool: pg.Pool, station: StationIdentity, req: { resource: string; leaseId: string }): Promise<TimedLease> {
  // The heartbeat's way is one statement, outside a transaction.
  const { rows } = await pool.query<LeaseRow>(
    `UPDATE leases l SET renewed_at = now(), expires_at = now() + l.ttl_ms * interval '1 millisecond' FROM stations s
     WHERE s.id = l.holder_station_id AND l.resource = $1 AND l.lease_id = $2 AND l.holder_station_id = $3 AND l.expires_at > now()
     RETURNING ${LEASE_COLUMNS}`,
    [req.resource, req.leaseId, station.id],
  );
  if (rows[0]) return timed(rows[0]);
  const holder = await inTransaction(pool, async (client) => {
    await expireLapsed(client, req.resource);
    return currentLease(client, req.resource);
  });
  throw lost(req.resource, holder);
}

function lost(resource: string, holder: LeaseRow | null): LeaseRefusal {
  if (!holder) {
    return new LeaseRefusal(
      409,
      'lost',
      `Your lease on ${resource} is gone (it ran out or was broken) and ${resource} is free: claim it again`,
      null,
    );
  }
  const h = toHolder(holder);
  return new LeaseRefusal(409, 'lost', `Your lease on ${resource} was lost: ${heldBy(h, resource)}`, h, holder.now.toISOString());
}

/** Only the holder (its lease id, at its station) releases; the feed carries lease_released@1. */
export async function releaseLease(pool: pg.Pool, station: StationIdentity, req: { resource: string; leaseId: string }): Promise<TimedLease> {
  const outcome = await inTransaction(pool, async (client) => {
    const { rows } = await client.query<LeaseRow & { live: boolean }>(
      `DELETE FROM leases l USING stations s
       WHERE s.id = l.holder_station_id AND l.resource = $1 AND l.lease_id = $2 AND l.holder_station_id = $3
       RETURNING ${LEASE_COLUMNS}, l.expires_at > now() AS live`,
      [req.resource, req.leaseId, station.id],
    );
    const mine = rows[0];
    if (mine && !mine.live) {
      // It had run out before this release: the feed says so, and the holder hears it was lost.
      await feedExpired(client, mine);
      return { kind: 'expired', row: mine } as const;
    }
    if (mine) {
      const now = [{ now: mine.now }];
      await endHistory(client, mine.lease_id, mine.now, 'released');
      await appendFeed(client, {
        opId: leaseEventId(),
        op: 'lease_released@1',
        payload: {
          resource: mine.resource,
          leaseId: mine.lease_id,
          user: mine.holder_user,
          station: mine.station,
          claimedAt: mine.claimed_at.toISOString(),
          releasedAt: now[0].now.toISOString(),
        },
        stationId: station.id,
        user: mine.holder_user,
        at: now[0].now.getTime(),
      });
      return { kind: 'released', row: mine } as const;
    }
    await expireLapsed(client, req.resource);
    return { kind: 'refused', holder: await currentLease(client, req.resource) } as const;
  });
  if (outcome.kind === 'released') return timed(outcome.row);
  if (outcome.kind === 'expired') {
    const r = outcome.row;
    throw new LeaseRefusal(
      409,
      'lost',
      `Your lease on ${r.resource} ran out at ${r.expires_at.toISOString()}, before this release: ${r.resource} is free`,
      null,
      r.now.toISOString(),
    );
  }
  if (!outcome.holder) throw new LeaseRefusal(409, 'not_held', `${req.resource} is not held by anyone: nothing to release`, null);
  const h = toHolder(outcome.holder);
  throw new LeaseRefusal(
    403,
    'not_holder',
    `${heldBy(h, req.resource)}: only its holder can release it (an admin can break it)`,
    h,
    outcome.holder.now.toISOString(),
  );
}

/**
 * An admin breaks a lease (the station checked the role): the hub records who, from which station,
 * and why, on the feed as lease_broken@1, and answers the lease that was broken (its holder is told).
 */
export async function breakLease(
  pool: pg.Pool,
  station: StationIdentity,
  req: { resource: string; by: string; reason: string; leaseId?: string },
): Promise<TimedLease> {
  const outcome = await inTransaction(pool, async (client) => {
    await expireLapsed(client, req.resource);
    const { rows } = await client.query<LeaseRow>(
      `DELETE FROM leases l USING stations s
       WHERE s.id = l.holder_station_id AND l.resource = $1 AND ($2::uuid IS NULL OR l.lease_id = $2::uuid)
       RETURNING ${LEASE_COLUMNS}`,
      [req.resource, req.leaseId ?? null],
    );
    const broken = rows[0] as LeaseRow | undefined;
    if (!broken) return { kind: 'refused', holder: await currentLease(client, req.resource) } as const;
    await endHistory(client, broken.lease_id, broken.now, 'broken');
    await appendFeed(client, {
      opId: leaseEventId(),
      op: 'lease_broken@1',
      payload: {
        resource: broken.resource,
        leaseId: broken.lease_id,
        user: broken.holder_user,
        station: broken.station,
        claimedAt: broken.claimed_at.toISOString(),
        by: req.by,
        byStation: station.name,
        reason: req.reason,
        brokenAt: broken.now.toISOString(),
      },
      stationId: station.id,
      user: req.by,
      at: broken.now.getTime(),
    });
    return { kind: 'broken', row: broken } as const;
  });
  if (outcome.kind === 'broken') return timed(outcome.row);
  if (!outcome.holder) throw new LeaseRefusal(409, 'not_held', `${req.resource} is not held by anyone: nothing to break`, null);
  const h = toHolder(outcome.holder);
  throw new LeaseRefusal(
    409,
    'not_held',
    `${req.resource} is no longer held under lease ${req.leaseId}: ${heldBy(h, req.resource)}; nothing was broken`,
    h,
    outcome.holder.now.toISOString(),
  );
}

/** Unexpired leases whose resource starts with `prefix`, by resource. */
export async function listLeases(pool: pg.Pool, prefix: string): Promise<Lease[]> {
  const { rows } = await pool.query<LeaseRow>(
    `SELECT ${LEASE_COLUMNS} FROM leases l JOIN stations s ON s.id = l.holder_station_id
     WHERE l.expires_at > now() AND starts_with(l.resource, $1) ORDER BY l.resource`,
    [prefix],
  );
  return rows.map(toLease);
}

interface PresenceRow {
  user_name: string;
  station: string;
  last_seen: Date;
  expires_at: Date;
}
const toPresence = (r: PresenceRow): Presence => ({
  user: r.user_name,
  station: r.station,
  lastSeen: r.last_seen.toISOString(),
  expiresAt: r.expires_at.toISOString(),
});

/** A person's heartbeat at a station: present until now + ttlMs. Not on the feed. */
export async function heartbeat(pool: pg.Pool, station: StationIdentity, req: { user: string; ttlMs: number }): Promise<Presence> {
  const { rows } = await pool.query<PresenceRow>(
    `INSERT INTO presence AS p (user_name, station_id, last_seen, expires_at) VALUES ($1, $2, now(), now() + $3::int * interval '1 millisecond')
     ON CONFLICT (user_name, station_id) DO UPDATE SET last_seen = EXCLUDED.last_seen, expires_at = EXCLUDED.expires_at
     RETURNING p.user_name, $4::text AS station, p.last_seen, p.expires_at`,
    [req.user, station.id, req.ttlMs, station.name],
  );
  return toPresence(rows[0]);
}

/** Who is present now (unexpired heartbeats), by person and station. */
export async function listPresence(pool: pg.Pool): Promise<Presence[]> {
  const { rows } = await pool.query<PresenceRow>(
    `SELECT p.user_name, s.name AS station, p.last_seen, p.expires_at FROM presence p JOIN stations s ON s.id = p.station_id
     WHERE p.expires_at > now() ORDER BY p.user_name, s.name`,
  );
  return rows.map(toPresence);
}

/** One sweep: lapsed leases expire (on the feed), lapsed presence goes. Answers how many leases expired. */
export async function sweepLapsed(pool: pg.Pool): Promise<number> {
  const expired = await inTransaction(pool, (client) => expireLapsed(client, null));
  await pool.query('DELETE FROM presence WHERE expires_at <= now()');
  return expired;
}

/**
 * Every hub process sweeps every `everyMs`; sweeps of several hubs never emit one expiry twice (each
 * takes only rows no one else holds, and deletes what it takes). A failing sweep (the database
 * restarting) is logged once and tried again next time. Answers the stop.
 */
export function startLeaseSweeper(pool: pg.Pool, everyMs: number, log: (line: string) => void): () => Promise<void> {
  let stopped = false;
  let failing = false;
  let timer: NodeJS.Timeout | null = null;
  let sweeping: Promise<void> = Promise.resolve();
  const tick = async () => {
    try {
      await sweepLapsed(pool);
      if (failing) log('lease sweeper: working again');
      failing = false;
    } catch (error) {
      if (!failing) log(`lease sweeper: a sweep failed (${(error as Error).message}); trying again every ${everyMs} ms`);
      failing = true;
    }
    if (!stopped)
      timer = setTimeout(() => {
        sweeping = tick();
      }, everyMs);
  };
  timer = setTimeout(() => {
    sweeping = tick();
  }, everyMs);
  // Stopped before the pool ends: a sweep under way finishes first.
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    return sweeping;
  };
}
