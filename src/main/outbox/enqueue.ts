import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Db } from '../db/open';

const inserts = new WeakMap<Database.Database, Database.Statement>();

/**
 * Queues a change for an upstream, inside the caller's transaction (same connection), so the
 * change and its outbox row commit together or not at all. `op` carries a version: rename it
 * when the payload changes shape, so rows queued by an older release keep their meaning.
 */
export function enqueue(db: Db, now: number, entry: { op: `${string}@${number}`; upstream: string; payload: unknown }): string {
  const opId = randomUUID();
  enqueueOnce(db, now, { ...entry, opId });
  return opId;
}

/**
 * Queues a record under an id the caller chose (a dedupe key): the same id again queues nothing
 * and answers false, whether the first is still waiting or was sent (until it is pruned).
 */
export function enqueueOnce(db: Db, now: number, entry: { opId: string; op: `${string}@${number}`; upstream: string; payload: unknown }): boolean {
  let insert = inserts.get(db.$client);
  if (!insert) {
    insert = db.$client.prepare(
      'INSERT INTO outbox (op_id, op, upstream, payload, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (op_id) DO NOTHING',
    );
    inserts.set(db.$client, insert);
  }
  return insert.run(entry.opId, entry.op, entry.upstream, JSON.stringify(entry.payload), now, now).changes === 1;
}

/** Bag and bill changes go to the bag-tracking upstream. */
export const BAGS_UPSTREAM = 'bags';
