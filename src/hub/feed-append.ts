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

/** The op's row in received_ops, answered in the same statement; the entry's seq is put in `answer.seq`. */
export interface FeedAnswer {
  status: string;
  answer: object;
}

/**
 * Puts one entry on the feed inside the caller's transaction and answers its seq. The advisory lock
 * is held to commit, so seqs become visible in order (a reader of `since=N` never skips one), and the
 * NOTIFY is delivered at commit to every hub process listening (src/hub/feed-notifier.ts).
 *
 * Lock, row, NOTIFY (and the op's answer) are one statement, so the caller's next statement is its
 * COMMIT: every hub applying an op waits for this lock, and each round trip made while holding it
 * (through a busy hub process) is time the whole site waits.
 */
export async function appendFeed(client: pg.PoolClient, entry: FeedAppend, answered?: { opId: string } & FeedAnswer): Promise<number> {
  const row = await client.query<{ seq: string }>(
    `WITH locked AS (SELECT pg_advisory_xact_lock($1)),
       entry AS (INSERT INTO feed (op_id, op, payload, station_id, user_name, at) SELECT $2, $3, $4, $5, $6, $7 FROM locked RETURNING seq),
       notified AS (SELECT pg_notify($8, seq::text) FROM entry),
       answered AS (UPDATE received_ops SET status = $10, answer = jsonb_set($11::jsonb, '{seq}', to_jsonb(entry.seq)) FROM entry WHERE op_id = $9)
     SELECT seq FROM entry, notified`,
    [
      FEED_LOCK,
      entry.opId,
      entry.op,
      JSON.stringify(entry.payload),
      entry.stationId,
      entry.user,
      entry.at,
      FEED_CHANNEL,
      answered?.opId ?? null,
      answered?.status ?? null,
      answered ? JSON.stringify(answered.answer) : null,
    ],
  );
  return Number(row.rows[0].seq);
}
