import type { Db } from '../db/open';
import { auditLog } from '../db/schema';

export interface AuditActor {
  userId: number | null;
  username: string | null;
}

export interface AuditEntry {
  action: string;
  entity?: string;
  entityId?: string | number;
  before?: unknown;
  after?: unknown;
  detail?: string;
}

/** Tx-or-db: call inside the same transaction as the change it describes. */
type Writer = Pick<Db, 'insert'>;

export interface AuditContext {
  stationId: string;
  now: () => number;
}

export function recordAudit(writer: Writer, ctx: AuditContext, actor: AuditActor, entry: AuditEntry): void {
  writer
    .insert(auditLog)
    .values({
      at: ctx.now(),
      userId: actor.userId,
      username: actor.username,
      stationId: ctx.stationId,
      action: entry.action,
      entity: entry.entity ?? null,
      entityId: entry.entityId === undefined ? null : String(entry.entityId),
      before: entry.before === undefined ? null : JSON.stringify(entry.before),
      after: entry.after === undefined ? null : JSON.stringify(entry.after),
      detail: entry.detail ?? null,
    })
    .run();
}
