import type pg from 'pg';
import type { Notice } from '../shared/hub';
import { inTransaction } from './db';
import type { StationIdentity } from './enrolment';
import { appendFeed } from './feed-append';

/** How many notices one GET /v1/notices answers (the oldest after `since` first). */
export const NOTICES_PAGE = 500;

interface NoticeRow {
  id: string;
  text: string;
  by_user: string;
  station: string;
  posted_at: Date;
}
const toNotice = (r: NoticeRow): Notice => ({
  id: Number(r.id),
  text: r.text,
  by: r.by_user,
  station: r.station,
  postedAt: r.posted_at.toISOString(),
});

/** An admin's notice (the station checked the role): kept, and on the feed as notice@1 for every station. */
export async function postNotice(pool: pg.Pool, station: StationIdentity, req: { text: string; by: string }): Promise<Notice> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<NoticeRow>(
      'INSERT INTO notices (text, by_user, station_id) VALUES ($1, $2, $3) RETURNING id, text, by_user, $4::text AS station, posted_at',
      [req.text, req.by, station.id, station.name],
    );
    const notice = toNotice(rows[0]);
    await appendFeed(client, {
      opId: `notice:${notice.id}`,
      op: 'notice@1',
      payload: notice,
      stationId: station.id,
      user: req.by,
      at: rows[0].posted_at.getTime(),
    });
    return notice;
  });
}

/** Notices after `since` (a notice id), oldest first. */
export async function listNotices(pool: pg.Pool, since: number): Promise<Notice[]> {
  const { rows } = await pool.query<NoticeRow>(
    `SELECT n.id, n.text, n.by_user, s.name AS station, n.posted_at FROM notices n JOIN stations s ON s.id = n.station_id
     WHERE n.id > $1 ORDER BY n.id LIMIT $2`,
    [since, NOTICES_PAGE],
  );
  return rows.map(toNotice);
}
