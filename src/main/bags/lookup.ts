import type Database from 'better-sqlite3';
import { eq } from 'drizzle-orm';
import type { BagDetail, BagRow } from '../../shared/contract/bags';
import { DomainError } from '../../shared/envelope';
import type { AuditActor, AuditContext } from '../audit/record';
import { recordAudit } from '../audit/record';
import type { Db } from '../db/open';
import { bags } from '../db/schema';
import { BAGS_UPSTREAM, enqueue } from '../outbox/enqueue';
import { SCAN_SELECT, toScanRow, type RawScanRow } from './scan-rows';

/** Finding bags (search, a bag's page) and an admin's delete: everything but the dock-door flow. */
export class BagLookupService {
  readonly #sql: ReturnType<typeof prepareStatements>;

  constructor(private readonly deps: { db: Db; audit: AuditContext; now: () => number }) {
    this.#sql = prepareStatements(deps.db.$client);
  }

  search(q: {
    prefix?: string;
    billNumber?: string;
    from?: number;
    to?: number;
    username?: string;
    kind?: 'parent' | 'child';
    cursor?: string;
    limit?: number;
  }): { rows: BagRow[]; nextCursor: string | null } {
    const limit = q.limit ?? 50;
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: limit + 1 };
    // Order by id text when a prefix or bill narrows the set; otherwise newest first, so a date or
    // user filter over millions of rows reads its index instead of sorting.
    const byCode = q.prefix !== undefined || q.billNumber !== undefined || (q.from === undefined && q.to === undefined && q.username === undefined);
    if (q.prefix) {
      const p = q.prefix.toUpperCase();
      where.push('b.code >= @prefix AND b.code < @prefixEnd');
      params.prefix = p;
      params.prefixEnd = p.slice(0, -1) + String.fromCharCode(p.charCodeAt(p.length - 1) + 1);
    }
    if (q.billNumber) {
      where.push('coalesce(bp1.bill_id, bp2.bill_id) = (SELECT id FROM bills WHERE number = @billNumber)');
      params.billNumber = q.billNumber.toUpperCase();
    }
    if (q.from !== undefined) {
      where.push('b.created_at >= @from');
      params.from = q.from;
    }
    if (q.to !== undefined) {
      where.push('b.created_at <= @to');
      params.to = q.to;
    }
    if (q.username) {
      where.push('b.created_by = (SELECT id FROM users WHERE username = @username)');
      params.username = q.username.toLowerCase();
    }
    if (q.kind) {
      where.push('b.kind = @kind');
      params.kind = q.kind;
    }
    if (q.cursor) {
      const c = decodeCursor(q.cursor);
      if (byCode && typeof c.code === 'string') {
        where.push('b.code > @afterCode');
        params.afterCode = c.code;
      } else if (!byCode && typeof c.at === 'number' && typeof c.id === 'number') {
        where.push('(b.created_at < @afterAt OR (b.created_at = @afterAt AND b.id < @afterId))');
        Object.assign(params, { afterAt: c.at, afterId: c.id });
      } else throw new DomainError('invalid', 'That page link is out of date: search again');
    }
    const sql = `${SEARCH_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY ${byCode ? 'b.code' : 'b.created_at DESC, b.id DESC'} LIMIT @limit`;
    const raw = this.deps.db.$client.prepare(sql).all(params) as RawBagRow[];
    const more = raw.length > limit;
    const page = raw.slice(0, limit);
    const lastRow = page.at(-1);
    const nextCursor = more && lastRow ? encodeCursor(byCode ? { code: lastRow.code } : { at: lastRow.created_at, id: lastRow.id }) : null;
    return { rows: page.map(toBagRow), nextCursor };
  }

  detail(codeInput: string): BagDetail {
    const code = codeInput.trim().toUpperCase();
    const row = this.deps.db.$client.prepare(`${SEARCH_SELECT} WHERE b.code = ?`).get(code) as RawBagRow | undefined;
    if (!row) throw new DomainError('not_found', `No bag ${code}`);
    const children = (this.#sql.children.all(row.id) as { code: string; linked_at: number; linked_by: string | null }[]).map((c) => ({
      code: c.code,
      linkedAt: c.linked_at,
      linkedBy: c.linked_by,
    }));
    const linkedAt = (this.#sql.linkedAt.get(row.id) as number | undefined) ?? null;
    const bill = row.bill_id === null ? null : { id: row.bill_id, number: row.bill_number!, status: row.bill_status as 'draft' | 'finalized' };
    const history = (this.#sql.bagScans.all(code, row.id, 100) as RawScanRow[]).map(toScanRow);
    return { ...toBagRow(row), children, linkedAt, bill, scans: history };
  }

  deleteBag(codeInput: string, reason: string, actor: AuditActor): null {
    const code = codeInput.trim().toUpperCase();
    const now = this.deps.now();
    this.deps.db.transaction(
      (tx) => {
        const detail = this.detail(code);
        if (detail.bill?.status === 'finalized') {
          const what = detail.kind === 'parent' ? code : `${code}'s parent ${detail.parentCode}`;
          throw new DomainError('conflict', `${what} is on finalized bill ${detail.bill.number}: it cannot be deleted`);
        }
        const before = {
          code,
          kind: detail.kind,
          parent: detail.parentCode,
          children: detail.children.map((c) => c.code),
          bill: detail.bill?.number ?? null,
        };
        tx.delete(bags).where(eq(bags.code, code)).run(); // links and bill membership cascade
        recordAudit(this.deps.db, this.deps.audit, actor, {
          action: 'bags.deleted',
          entity: 'bag',
          entityId: code,
          before,
          after: null,
          detail: reason,
        });
        enqueue(this.deps.db, now, { op: 'bag_deleted@1', upstream: BAGS_UPSTREAM, payload: { code, at: now, by: actor.username, reason } });
      },
      { behavior: 'immediate' },
    );
    return null;
  }
}

interface RawBagRow {
  id: number;
  code: string;
  kind: 'parent' | 'child';
  created_at: number;
  created_by: string | null;
  parent_code: string | null;
  child_count: number | null;
  bill_id: number | null;
  bill_number: string | null;
  bill_status: string | null;
}

const SEARCH_SELECT = `
  SELECT b.id, b.code, b.kind, b.created_at, u.username AS created_by, p.code AS parent_code,
    CASE WHEN b.kind = 'parent' THEN (SELECT count(*) FROM bag_links c WHERE c.parent_id = b.id) END AS child_count,
    bl.id AS bill_id, bl.number AS bill_number, bl.status AS bill_status
  FROM bags b
  LEFT JOIN users u ON u.id = b.created_by
  LEFT JOIN bag_links l ON l.child_id = b.id
  LEFT JOIN bags p ON p.id = l.parent_id
  LEFT JOIN bill_parents bp1 ON bp1.parent_id = b.id
  LEFT JOIN bill_parents bp2 ON bp2.parent_id = l.parent_id
  LEFT JOIN bills bl ON bl.id = coalesce(bp1.bill_id, bp2.bill_id)`;

function toBagRow(r: RawBagRow): BagRow {
  return {
    code: r.code,
    kind: r.kind,
    createdAt: r.created_at,
    createdBy: r.created_by,
    parentCode: r.parent_code,
    childCount: r.child_count,
    billNumber: r.bill_number,
  };
}

function prepareStatements(db: Database.Database) {
  return {
    linkedAt: db.prepare('SELECT linked_at FROM bag_links WHERE child_id = ?').pluck(),
    children: db.prepare(`
      SELECT c.code, l.linked_at, u.username AS linked_by FROM bag_links l
      JOIN bags c ON c.id = l.child_id LEFT JOIN users u ON u.id = l.linked_by
      WHERE l.parent_id = ? ORDER BY l.linked_at, c.code LIMIT 5000`),
    bagScans: db.prepare(`${SCAN_SELECT} WHERE s.code = ? OR s.parent_id = ? ORDER BY s.id DESC LIMIT ?`),
  };
}

function encodeCursor(c: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(s: string): Record<string, unknown> {
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as unknown;
    if (typeof v === 'object' && v !== null) return v as Record<string, unknown>;
  } catch {
    /* fall through */
  }
  throw new DomainError('invalid', 'That page link is out of date: search again');
}
