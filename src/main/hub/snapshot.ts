import type { AuditActor } from '../audit/record';
import type { BillService } from '../bills/service';
import type { Db } from '../db/open';
import { BAGS_UPSTREAM, enqueue } from '../outbox/enqueue';

/** Links per op of the snapshot, as an import's ops carry them. */
const LINKS_PER_OP = 1_000;

/**
 * What a station holds when it joins a site, queued for the hub in the join's transaction: its own
 * links (as import ops; links it learnt from the site are not its to send) and its finalized bills.
 * The hub applies them like any op: a child another station already has elsewhere becomes a
 * conflict on this station's Scan screen, a link the site already has is taken as it is.
 * Bags on no parent (a parent scanned but never filled) stay local until they are used.
 */
export function enqueueSiteSnapshot(deps: {
  db: Db;
  now: number;
  actor: AuditActor;
  stationId: string;
  bills: Pick<BillService, 'finalizedRecords'>;
}): {
  links: number;
  bills: number;
} {
  const { db, now, actor, stationId } = deps;
  const by = actor.username ?? 'station';
  // Page by page (a write cannot run while a statement iterates on the same connection).
  const page = db.$client.prepare(
    `SELECT l.child_id AS id, c.code AS child, p.code AS parent FROM bag_links l JOIN bags c ON c.id = l.child_id JOIN bags p ON p.id = l.parent_id
     WHERE l.site_station IS NULL AND l.child_id > ? ORDER BY l.child_id LIMIT ${LINKS_PER_OP}`,
  );
  let total = 0;
  for (let after = 0; ;) {
    const rows = page.all(after) as { id: number; child: string; parent: string }[];
    if (rows.length === 0) break;
    enqueue(db, now, {
      op: 'import_links@1',
      upstream: BAGS_UPSTREAM,
      payload: { file: 'held by this station when it joined the site', links: rows.map((r) => [r.child, r.parent]), at: now, by, station: stationId },
    });
    total += rows.length;
    after = rows.at(-1)!.id;
  }
  const bills = deps.bills.finalizedRecords();
  for (const bill of bills)
    enqueue(db, now, { op: 'bill_finalized@1', upstream: BAGS_UPSTREAM, payload: { ...bill, at: now, by, station: stationId } });
  return { links: total, bills: bills.length };
}
