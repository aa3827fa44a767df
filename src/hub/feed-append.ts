import type pg from 'pg';
import type { FeedOpName } from '../shared/hub';
import { FEED_CHANNEL } from './feed-notifier';

/** Taken, per transaction, just before a feed row is numbered and held to commit: seqs commit in order. */
const FEED_LOCK = 0x66656564; // "feed"

export interface FeedAppend {
  /** Unique on the feed: a station op's own id, or `lease:<uuid>` for a lease event. */
  opId: string;
  op: FeedOpName;
  payload: unknown;
  stationId: number;
  user: string;
  /** ms since 1970: the station's clock for its ops; PostgreSQL's for lease events. */
  at: number;
}

/**
 * Puts one entry on the feed inside the caller's transaction and answers its seq. The advisory lock
 * is held to commit, so seqs become visible in order (a reader of `since=N` never skips one), and the
 * NOTIFY is delivered at commit to every hub process listening (src/hub/feed-notifier.ts).
 */
export async function appendFeed(client: pg.PoolClient, entry: FeedAppend): Promise<number> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [FEED_LOCK]);
  // The insert and its NOTIFY in one statement: the lock is held for one round trip less.
  const row = await client.query<{ seq: string }>(
    `WITH entry AS (INSERT INTO feed (op_id, op, payload, station_id, user_name, at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq)
     SELECT seq, pg_notify($7, seq::text) FROM entry`,
    [entry.opId, entry.op, JSON.stringify(entry.payload), entry.stationId, entry.user, entry.at, FEED_CHANNEL],
  );
  return Number(row.rows[0].seq);
}
