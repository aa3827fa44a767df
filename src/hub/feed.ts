import type pg from 'pg';
import type { FeedEntry, FeedResponse, HubOpName } from '../shared/hub';

export const FEED_PAGE_MAX = 1000;

/** Applied ops after `since`, in seq order, one page; `next` is the following call's `since`. */
export async function readFeed(pool: pg.Pool, since: number, limit: number): Promise<FeedResponse> {
  const { rows } = await pool.query<{
    seq: string;
    op_id: string;
    op: HubOpName;
    payload: unknown;
    name: string;
    user_name: string;
    at: string;
    applied_at: Date;
  }>(
    `SELECT f.seq, f.op_id, f.op, f.payload, s.name, f.user_name, f.at, f.applied_at FROM feed f JOIN stations s ON s.id = f.station_id
     WHERE f.seq > $1 ORDER BY f.seq LIMIT $2`,
    [since, limit + 1],
  );
  const page = rows.slice(0, limit);
  const entries: FeedEntry[] = page.map((r) => ({
    seq: Number(r.seq),
    opId: r.op_id,
    op: r.op,
    payload: r.payload,
    station: r.name,
    user: r.user_name,
    at: Number(r.at),
    appliedAt: r.applied_at.toISOString(),
  }));
  return { entries, next: entries.at(-1)?.seq ?? since, more: rows.length > limit };
}
