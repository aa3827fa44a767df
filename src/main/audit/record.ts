import type Database from 'better-sqlite3';
import type { Db } from '../db/open';

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

export interface AuditContext {
  stationId: string;
  now: () => number;
}

/**
 * One prepared statement per connection: audit rows are written on every change, and compiling
 * the INSERT each time cost more than the rest of a scan (bench/scan.ts).
 */
const inserts = new WeakMap<Database.Database, Database.Statement>();

/**
 * Call inside the transaction of the change it describes: it runs on the same connection, so
 * the audit row commits or rolls back with the change.
 */
export function recordAudit(db: Db, ctx: AuditContext, actor: AuditActor, entry: AuditEntry): void {
  let insert = inserts.get(db.$client);
  if (!insert) {
    insert = db.$client.prepare(
      `INSERT INTO audit_log (at, user_id, username, station_id, action, entity, entity_id, before, after, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    inserts.set(db.$client, insert);
  }
  insert.run(
    ctx.now(),
    actor.userId,
    actor.username,
    ctx.stationId,
    entry.action,
    entry.entity ?? null,
    entry.entityId === undefined ? null : String(entry.entityId),
    entry.before === undefined ? null : JSON.stringify(entry.before),
    entry.after === undefined ? null : JSON.stringify(entry.after),
    entry.detail ?? null,
  );
}
