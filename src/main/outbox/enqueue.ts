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
  let insert = inserts.get(db.$client);
  if (!insert) {
    insert = db.$client.prepare('INSERT INTO outbox (op_id, op, upstream, payload, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)');
    inserts.set(db.$client, insert);
  }
  const opId = randomUUID();
  insert.run(opId, entry.op, entry.upstream, JSON.stringify(entry.payload), now, now);
  return opId;
}

/** Bag and bill changes go to the bag-tracking upstream. */
export const BAGS_UPSTREAM = 'bags';
