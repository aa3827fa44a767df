import type pg from 'pg';
import { startHubServer } from '../../src/hub/server';
import type { FeedApplier } from '../../src/main/hub/feed-applier';
import { applyFeedPage as applyStationFeedPage } from '../../src/main/hub/feed-apply';
import { HUB_SETTING, type HubMembership } from '../../src/main/hub/membership';
import { BAGS_UPSTREAM } from '../../src/main/outbox/enqueue';
import type { FeedEntry, FeedResponse, HubOpName, HubOpResult } from '../../src/shared/hub';
import { silentLogger } from '../../src/main/platform/logger';
import { onRelease } from './cleanup';
import { enrolStation, hubClient, startHubDatabase } from './hub';
import type { TestStation } from './station';

/**
 * Stations on a site hub without the station's own hub client: a test pushes a station's outbox
 * and applies the feed to another station by hand, one step at a time, with the station's appliers.
 */
export type HubClient = ReturnType<typeof hubClient>;

/** A migrated hub database and a hub server in this process (closed before the pool ends). */
export async function startSiteHub(): Promise<{ pool: pg.Pool; url: string; databaseUrl: string }> {
  const { admin: pool, postgres } = await startHubDatabase({ migrated: true });
  const server = await startHubServer({ pool });
  onRelease(() => server.close());
  return { pool, url: server.url, databaseUrl: postgres.url };
}

/** Enrols the station as `name` and stores its membership, as Admin → Station → Join a site will; answers its hub client. */
export async function joinSite(t: TestStation, hub: { pool: pg.Pool; url: string }, name: string): Promise<HubClient> {
  const client = await enrolStation(hub.pool, hub.url, name);
  const membership: HubMembership = { url: hub.url, stationName: name, stationId: 0, joinedAt: t.clock.now(), joinedBy: 'test' };
  t.station.settings.storeKey(HUB_SETTING, membership);
  return client;
}

interface OutboxRow {
  op_id: string;
  op: string;
  payload: string;
}

/** The station's pending ops for the hub (the bags upstream), oldest first; `op` keeps only those. */
export function pendingOps(t: TestStation, op?: HubOpName): { opId: string; op: string; payload: unknown }[] {
  const rows = t.station.database.sqlite
    .prepare("SELECT op_id, op, payload FROM outbox WHERE upstream = ? AND status = 'pending' ORDER BY seq")
    .all(BAGS_UPSTREAM) as OutboxRow[];
  return rows.filter((r) => !op || r.op === op).map((r) => ({ opId: r.op_id, op: r.op, payload: JSON.parse(r.payload) as unknown }));
}

/** Sends the station's pending hub ops in one batch and marks each with its answer's status; answers the results. */
export async function pushOutbox(t: TestStation, client: HubClient): Promise<HubOpResult[]> {
  const ops = pendingOps(t);
  if (ops.length === 0) return [];
  const res = await client.push(ops);
  if (res.status !== 200) throw new Error(`push failed: ${res.status} ${JSON.stringify(res.body)}`);
  const results = res.body.results as HubOpResult[];
  const mark = t.station.database.sqlite.prepare('UPDATE outbox SET status = ?, last_error = ? WHERE op_id = ?');
  for (const r of results) {
    if (r.status !== 'error') mark.run(r.status === 'ok' ? 'done' : 'conflict', r.message ?? null, r.opId);
  }
  return results;
}

/**
 * Reads one page of the feed after `since` and applies it to the station as its follower does
 * (src/main/hub/feed-apply.ts: one transaction, its own entries skipped), with these appliers only.
 * Answers the page and the entries applied.
 */
export async function applyFeedPage(
  t: TestStation,
  client: HubClient,
  since: number,
  appliers: Partial<Record<HubOpName, FeedApplier>>,
  stationName: string,
): Promise<FeedResponse & { applied: FeedEntry[]; refused: { seq: number; op: string; why: string }[] }> {
  const res = await client.feed(since);
  if (res.status !== 200) throw new Error(`feed failed: ${res.status} ${JSON.stringify(res.body)}`);
  const page = res.body as FeedResponse;
  const applied: FeedEntry[] = [];
  const counted = Object.fromEntries(
    Object.entries(appliers).map(([op, apply]) => [op, ((db, entry, ctx) => (apply(db, entry, ctx), applied.push(entry))) satisfies FeedApplier]),
  );
  const report = applyStationFeedPage({
    db: t.station.database.db,
    entries: page.entries,
    ctx: { now: t.clock.now(), stationName },
    appliers: counted,
    cursor: { read: () => since, write: () => {} },
    log: silentLogger,
  });
  return { ...page, applied, refused: report.refused };
}
