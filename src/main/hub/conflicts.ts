import type Database from 'better-sqlite3';
import type { SiteConflictView, SiteWinner } from '../../shared/contract/site';
import { DomainError } from '../../shared/envelope';
import type { HubWinner } from '../../shared/hub';
import { recordAudit, type AuditActor, type AuditContext } from '../audit/record';
import type { Db } from '../db/open';
import type { OutboxRecord, RecordResult } from '../outbox/drainer';
import { BAGS_UPSTREAM, enqueue } from '../outbox/enqueue';

/**
 * Conflicts: changes of this station the site hub refused because another station got there
 * first (or a bill closed). They are kept from the hub's answer — in the transaction that marks
 * the outbox record answered — and shown on the Scan screen until a dispatcher or admin resolves
 * them: keep the site's version, or move the bag to this station's parent (a new op, which the hub
 * applies only if the child is still where the conflict says). Nothing is dropped silently.
 */

interface ConflictRow {
  id: number;
  op_id: string;
  op: string;
  child: string;
  parent: string | null;
  winner: string | null;
  message: string;
  by: string;
  at: number;
  detected_at: number;
  status: 'open' | 'accepted' | 'moved';
  resolved_by: string | null;
  resolved_at: number | null;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);

/** Keeps a conflict answer as one row per child it is about (an import that lost several children: one each). */
export function recordConflict(db: Database.Database, record: OutboxRecord, result: RecordResult, detectedAt: number): void {
  const p = (record.payload ?? {}) as Record<string, unknown>;
  const detail = (result.detail ?? {}) as { winner?: HubWinner; winners?: HubWinner[] };
  const by = str(p.by) ?? '?';
  const at = num(p.at, detectedAt);
  const message = result.message ?? 'The site refused this change';
  const insert = db.prepare(
    `INSERT INTO site_conflicts (op_id, op, child, parent, winner, message, by, at, detected_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (op_id, child) DO NOTHING`,
  );
  if (record.op === 'import_links@1' && Array.isArray(p.links) && detail.winners?.length) {
    const ours = new Map((p.links as [string, string][]).map(([child, parent]) => [child, parent]));
    for (const w of detail.winners) {
      const child = w.child ?? '';
      insert.run(
        record.opId,
        record.op,
        child,
        ours.get(child) ?? null,
        JSON.stringify(w),
        `${child} is on ${w.parent} (linked at ${w.station} by ${w.user})`,
        by,
        at,
        detectedAt,
      );
    }
    return;
  }
  const child = str(p.child) ?? (record.op === 'bag_created@1' || record.op === 'bag_deleted@1' ? (str(p.code) ?? '') : '');
  const parent = str(p.parent) ?? str(p.to) ?? (record.op === 'bill_finalized@1' ? str(p.number) : null);
  insert.run(record.opId, record.op, child, parent, detail.winner ? JSON.stringify(detail.winner) : null, message, by, at, detectedAt);
}

/** What this station did, in words. */
function describe(op: string, child: string, parent: string | null): string {
  switch (op) {
    case 'link_child@1':
    case 'import_links@1':
      return `${op === 'import_links@1' ? 'Imported' : 'Linked'} ${child} to ${parent ?? '?'}`;
    case 'move_child@1':
      return `Moved ${child} to ${parent ?? '?'}`;
    case 'unlink_child@1':
      return `Undid ${child} on ${parent ?? '?'}`;
    case 'bag_created@1':
      return `Made bag ${child}`;
    case 'bag_deleted@1':
      return `Deleted bag ${child}`;
    case 'bill_finalized@1':
      return `Finalized bill ${parent ?? '?'}`;
    default:
      return op;
  }
}

function view(r: ConflictRow): SiteConflictView {
  const w = r.winner ? (JSON.parse(r.winner) as HubWinner) : null;
  const winner: SiteWinner | null = w ? { child: w.child, parent: w.parent, station: w.station, user: w.user, at: w.at } : null;
  const isLink = r.op === 'link_child@1' || r.op === 'import_links@1' || r.op === 'move_child@1';
  return {
    id: r.id,
    what: describe(r.op, r.child, r.parent),
    message: r.message,
    child: r.child || null,
    parent: r.parent,
    winner,
    by: r.by,
    at: r.at,
    detectedAt: r.detected_at,
    canMove: r.status === 'open' && isLink && !!r.child && !!r.parent && !!winner?.parent && winner.parent !== r.parent,
    status: r.status,
    resolvedBy: r.resolved_by,
    resolvedAt: r.resolved_at,
  };
}

export class SiteConflicts {
  constructor(private readonly deps: { db: Db; audit: AuditContext; now: () => number }) {}

  list(status: 'open' | 'all' = 'open', limit = 200): SiteConflictView[] {
    const sql =
      status === 'open'
        ? "SELECT * FROM site_conflicts WHERE status = 'open' ORDER BY id DESC LIMIT ?"
        : 'SELECT * FROM site_conflicts ORDER BY id DESC LIMIT ?';
    return (this.deps.db.$client.prepare(sql).all(limit) as ConflictRow[]).map(view);
  }

  openCount(): number {
    return this.deps.db.$client.prepare("SELECT count(*) FROM site_conflicts WHERE status = 'open'").pluck().get() as number;
  }

  /**
   * accept: the site's version stays (the replica has it from the feed, or will); move: the child
   * goes to this station's parent here at once and at the hub through the outbox. Both audited.
   */
  resolve(id: number, action: 'accept' | 'move', actor: AuditActor): SiteConflictView {
    const db = this.deps.db.$client;
    const now = this.deps.now();
    return db
      .transaction(() => {
        const row = db.prepare('SELECT * FROM site_conflicts WHERE id = ?').get(id) as ConflictRow | undefined;
        if (!row) throw new DomainError('not_found', `There is no conflict ${id}`);
        if (row.status !== 'open') {
          throw new DomainError('conflict', `This conflict was already resolved by ${row.resolved_by ?? '?'}: nothing was changed`);
        }
        const before = view(row);
        if (action === 'move') {
          if (!before.canMove || !before.winner?.parent || !row.parent) {
            throw new DomainError('invalid', 'Only a link the site gave to another parent can be moved here: keep the site’s version instead');
          }
          this.moveHere(row.child, before.winner.parent, row.parent, actor, now);
        }
        const status = action === 'move' ? 'moved' : 'accepted';
        db.prepare('UPDATE site_conflicts SET status = ?, resolved_by = ?, resolved_at = ? WHERE id = ?').run(status, actor.username, now, id);
        recordAudit(this.deps.db, this.deps.audit, actor, {
          action: action === 'move' ? 'site.conflict_moved' : 'site.conflict_accepted',
          entity: 'bag',
          entityId: row.child || row.op_id,
          before: { what: before.what, winner: before.winner, message: row.message },
          after: action === 'move' ? { code: row.child, parent: row.parent } : { kept: before.winner ?? row.message },
        });
        return view(db.prepare('SELECT * FROM site_conflicts WHERE id = ?').get(id) as ConflictRow);
      })
      .immediate();
  }

  private moveHere(child: string, from: string, to: string, actor: AuditActor, now: number): void {
    const db = this.deps.db.$client;
    const ids = db.prepare('SELECT code, id, kind FROM bags WHERE code IN (?, ?)').all(child, to) as { code: string; id: number; kind: string }[];
    const childRow = ids.find((b) => b.code === child);
    let toRow = ids.find((b) => b.code === to);
    if (childRow?.kind !== 'child') throw new DomainError('conflict', `${child} is not a child bag on this station any more: nothing was moved`);
    if (toRow && toRow.kind !== 'parent') throw new DomainError('conflict', `${to} is not a parent bag: nothing was moved`);
    if (!toRow) {
      const created = db
        .prepare("INSERT INTO bags (code, kind, created_at, created_by, station_id, origin) VALUES (?, 'parent', ?, ?, ?, 'scan')")
        .run(to, now, actor.userId, this.deps.audit.stationId);
      toRow = { code: to, id: Number(created.lastInsertRowid), kind: 'parent' };
    }
    db.prepare(
      `INSERT INTO bag_links (child_id, parent_id, linked_at, linked_by) VALUES (?, ?, ?, ?)
       ON CONFLICT (child_id) DO UPDATE SET parent_id = excluded.parent_id, linked_at = excluded.linked_at, linked_by = excluded.linked_by,
         scan_id = NULL, import_job_id = NULL, site_station = NULL, site_user = NULL`,
    ).run(childRow.id, toRow.id, now, actor.userId);
    enqueue(this.deps.db, now, {
      op: 'move_child@1',
      upstream: BAGS_UPSTREAM,
      payload: { child, from, to, at: now, by: actor.username, station: this.deps.audit.stationId },
    });
  }
}
