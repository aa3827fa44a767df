import type Database from 'better-sqlite3';
import type { z } from 'zod';
import { HUB_OP_PAYLOADS, type FeedEntry } from '../../shared/hub';
import type { Db } from '../db/open';
import type { Logger } from '../platform/logger';
import type { FeedApplier } from './feed-applier';

/**
 * Applies the site hub's feed to this station's SQLite replica: what other stations did, in the
 * hub's order. The hub's feed is the site's truth, so a link it carries replaces whatever this
 * station holds for that child (this station's own refused change is already a conflict, or
 * becomes one when the hub answers it). This station's own entries are skipped: they were applied
 * here when they were made.
 */

/** Context of one page: the station's enrolled name, and the clock. */
export interface FeedApplyContext {
  now: number;
  stationName: string;
}

export type { FeedApplier };

function statements(db: Database.Database) {
  return {
    userId: db.prepare('SELECT id FROM users WHERE username = ?').pluck(),
    own: db.prepare('SELECT 1 FROM outbox WHERE op_id = ?').pluck(),
    bag: db.prepare('SELECT id, kind FROM bags WHERE code = ?'),
    insertBag: db.prepare(
      "INSERT INTO bags (code, kind, created_at, created_by, station_id, origin) VALUES (?, ?, ?, ?, ?, 'scan') ON CONFLICT (code) DO NOTHING",
    ),
    link: db.prepare(
      `INSERT INTO bag_links (child_id, parent_id, linked_at, linked_by, scan_id, import_job_id, site_station, site_user) VALUES (@child, @parent, @at, @by, NULL, NULL, @station, @user)
       ON CONFLICT (child_id) DO UPDATE SET parent_id = excluded.parent_id, linked_at = excluded.linked_at, linked_by = excluded.linked_by,
         scan_id = NULL, import_job_id = NULL, site_station = excluded.site_station, site_user = excluded.site_user`,
    ),
    unlink: db.prepare('DELETE FROM bag_links WHERE child_id = ? AND parent_id = ?'),
    unlinked: db.prepare("DELETE FROM bags WHERE id = ? AND kind = 'child' AND NOT EXISTS (SELECT 1 FROM bag_links WHERE child_id = ?)"),
    deleteBag: db.prepare('DELETE FROM bags WHERE code = ?'),
    siteBill: db.prepare(
      `INSERT INTO site_bill_parents (parent_code, station, bill_number, finalized_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (parent_code) DO UPDATE SET station = excluded.station, bill_number = excluded.bill_number, finalized_at = excluded.finalized_at`,
    ),
  };
}
type Statements = ReturnType<typeof statements>;
const prepared = new WeakMap<Database.Database, Statements>();
const sqlOf = (db: Database.Database): Statements => {
  let s = prepared.get(db);
  if (!s) prepared.set(db, (s = statements(db)));
  return s;
};

/** This station's id of the entry's person (people come through the feed too), or null. */
const byOf = (s: Statements, entry: FeedEntry): number | null => (s.userId.get(entry.user) as number | undefined) ?? null;

/** The bag's id, made (with the kind the site gave it) when this station does not know it yet; null when it is known here as the other kind. */
function bagId(s: Statements, entry: FeedEntry, by: number | null, code: string, kind: 'parent' | 'child'): number | null {
  s.insertBag.run(code, kind, entry.at, by, entry.station);
  const bag = s.bag.get(code) as { id: number; kind: string };
  return bag.kind === kind ? bag.id : null;
}

function linkFromFeed(s: Statements, entry: FeedEntry, by: number | null, child: string, parent: string): boolean {
  const parentId = bagId(s, entry, by, parent, 'parent');
  const childId = bagId(s, entry, by, child, 'child');
  if (parentId === null || childId === null) return false;
  s.link.run({ child: childId, parent: parentId, at: entry.at, by, station: entry.station, user: entry.user });
  return true;
}

const parse = <S extends z.ZodType>(schema: S, entry: FeedEntry): z.infer<S> | null => {
  const parsed = schema.safeParse(entry.payload);
  return parsed.success ? parsed.data : null;
};

/** The bag ops' appliers. An entry whose payload this station cannot read is skipped (and logged by the caller). */
export const BAG_APPLIERS: Record<string, FeedApplier> = {
  'bag_created@1'(db, entry) {
    const p = parse(HUB_OP_PAYLOADS['bag_created@1'], entry);
    if (!p) throw new SkipEntry('payload');
    const s = sqlOf(db.$client);
    bagId(s, entry, byOf(s, entry), p.code, p.kind);
  },
  'link_child@1'(db, entry) {
    const p = parse(HUB_OP_PAYLOADS['link_child@1'], entry);
    if (!p) throw new SkipEntry('payload');
    const s = sqlOf(db.$client);
    if (!linkFromFeed(s, entry, byOf(s, entry), p.child, p.parent)) throw new SkipEntry(`${p.child} or ${p.parent} is the other kind of bag here`);
  },
  'import_links@1'(db, entry) {
    const p = parse(HUB_OP_PAYLOADS['import_links@1'], entry);
    if (!p) throw new SkipEntry('payload');
    const s = sqlOf(db.$client);
    const by = byOf(s, entry);
    for (const [child, parent] of p.links) linkFromFeed(s, entry, by, child, parent);
  },
  'move_child@1'(db, entry) {
    const p = parse(HUB_OP_PAYLOADS['move_child@1'], entry);
    if (!p) throw new SkipEntry('payload');
    const s = sqlOf(db.$client);
    if (!linkFromFeed(s, entry, byOf(s, entry), p.child, p.to)) throw new SkipEntry(`${p.child} or ${p.to} is the other kind of bag here`);
  },
  'unlink_child@1'(db, entry) {
    const p = parse(HUB_OP_PAYLOADS['unlink_child@1'], entry);
    if (!p) throw new SkipEntry('payload');
    const s = sqlOf(db.$client);
    const child = s.bag.get(p.child) as { id: number } | undefined;
    const parent = s.bag.get(p.parent) as { id: number } | undefined;
    if (!child || !parent) return;
    s.unlink.run(child.id, parent.id);
    if (p.deleteChild) s.unlinked.run(child.id, child.id);
  },
  'bag_deleted@1'(db, entry) {
    const p = parse(HUB_OP_PAYLOADS['bag_deleted@1'], entry);
    if (!p) throw new SkipEntry('payload');
    sqlOf(db.$client).deleteBag.run(p.code);
  },
  'bill_finalized@1'(db, entry) {
    const p = parse(HUB_OP_PAYLOADS['bill_finalized@1'], entry);
    if (!p) throw new SkipEntry('payload');
    const s = sqlOf(db.$client);
    for (const parent of p.parents) s.siteBill.run(parent.code, entry.station, p.number, entry.at);
  },
};

/**
 * An entry this station cannot apply (a payload it cannot read: a hub of another version, garbage),
 * with why: it is logged and the cursor moves past it, so one bad entry never stops the site's feed.
 * Any other error (the disk full, say) rolls the page back and the follower tries it again.
 */
export class SkipEntry extends Error {}

export interface FeedPageReport {
  applied: number;
  own: number;
  skipped: number;
  /** The entries skipped because this station could not apply them, with why (also logged). */
  refused: { seq: number; op: string; why: string }[];
  last: number;
}

/**
 * Applies one page of entries in one transaction, with the cursor that says it was applied: a
 * crash leaves the page either wholly applied with its cursor, or not at all. Entries at or below
 * the cursor are ignored (a page read twice after a reconnect applies nothing twice).
 */
export function applyFeedPage(opts: {
  db: Db;
  entries: FeedEntry[];
  ctx: FeedApplyContext;
  appliers: Record<string, FeedApplier>;
  cursor: { read(): number; write(seq: number): void };
  log: Logger;
}): FeedPageReport {
  const { entries, ctx, appliers, cursor, log } = opts;
  const db = opts.db.$client;
  const { own } = sqlOf(db);
  return db
    .transaction(() => {
      const report: FeedPageReport = { applied: 0, own: 0, skipped: 0, refused: [], last: cursor.read() };
      for (const entry of entries) {
        if (entry.seq <= report.last) continue;
        report.last = entry.seq;
        if (entry.station === ctx.stationName || own.get(entry.opId)) {
          report.own++;
          continue;
        }
        const apply = appliers[entry.op];
        if (!apply) {
          report.skipped++;
          log.info({ seq: entry.seq, op: entry.op }, 'feed entry of an op this station does not apply; skipped');
          continue;
        }
        db.exec('SAVEPOINT entry');
        try {
          apply(opts.db, entry, ctx);
          db.exec('RELEASE entry');
          report.applied++;
        } catch (error) {
          db.exec('ROLLBACK TO entry');
          db.exec('RELEASE entry');
          if (!(error instanceof SkipEntry)) throw error;
          report.skipped++;
          report.refused.push({ seq: entry.seq, op: entry.op, why: error.message });
          log.warn({ seq: entry.seq, op: entry.op, why: error.message }, 'feed entry skipped');
        }
      }
      cursor.write(report.last);
      return report;
    })
    .immediate();
}
