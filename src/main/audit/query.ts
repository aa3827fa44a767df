import type { AuditRow } from '../../shared/contract/audit';
import type { Db } from '../db/open';

const parse = (s: string | null): unknown => (s === null ? null : (JSON.parse(s) as unknown));

/** The audit trail for the Admin screen: newest first, keyset by id. */
export function listAudit(
  db: Db,
  q: { action?: string; username?: string; entityId?: string; from?: number; to?: number; cursor?: number; limit?: number },
): { rows: AuditRow[]; nextCursor: number | null } {
  const limit = q.limit ?? 50;
  const where: string[] = [];
  const params: Record<string, unknown> = { limit: limit + 1 };
  // 'bags' matches 'bags.linked', 'bags.deleted', …; a full action matches itself.
  if (q.action) {
    where.push("(action = @action OR action LIKE @actionPrefix ESCAPE '\\')");
    Object.assign(params, { action: q.action, actionPrefix: `${q.action.replace(/[\\%_]/g, '\\$&')}.%` });
  }
  if (q.username) {
    where.push('username = @username');
    params.username = q.username.toLowerCase();
  }
  if (q.entityId) {
    where.push('entity_id = @entityId COLLATE NOCASE');
    params.entityId = q.entityId;
  }
  if (q.from !== undefined) {
    where.push('at >= @from');
    params.from = q.from;
  }
  if (q.to !== undefined) {
    where.push('at <= @to');
    params.to = q.to;
  }
  if (q.cursor !== undefined) {
    where.push('id < @cursor');
    params.cursor = q.cursor;
  }
  const rows = db.$client
    .prepare(
      `SELECT id, at, username, action, entity, entity_id, before, after, detail FROM audit_log
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`,
    )
    .all(params) as {
    id: number;
    at: number;
    username: string | null;
    action: string;
    entity: string | null;
    entity_id: string | null;
    before: string | null;
    after: string | null;
    detail: string | null;
  }[];
  const page = rows.slice(0, limit);
  return {
    rows: page.map((r) => ({
      id: r.id,
      at: r.at,
      username: r.username,
      action: r.action,
      entity: r.entity,
      entityId: r.entity_id,
      before: parse(r.before),
      after: parse(r.after),
      detail: r.detail,
    })),
    nextCursor: rows.length > limit ? page.at(-1)!.id : null,
  };
}
