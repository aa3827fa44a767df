import { randomUUID } from 'node:crypto';
import type { Db } from '../db/open';
import { outbox } from '../db/schema';

/**
 * Queues a change for an upstream, inside the caller's transaction, so the change and its
 * outbox row commit together or not at all. `op` carries a version: rename it when the payload
 * changes shape, so rows queued by an older release keep their meaning.
 */
export function enqueue(
  tx: Pick<Db, 'insert'>,
  now: number,
  entry: { op: `${string}@${number}`; upstream: string; payload: unknown },
): string {
  const opId = randomUUID();
  tx.insert(outbox)
    .values({ opId, op: entry.op, upstream: entry.upstream, payload: JSON.stringify(entry.payload), createdAt: now, updatedAt: now })
    .run();
  return opId;
}

/** Bag and bill changes go to the bag-tracking upstream. */
export const BAGS_UPSTREAM = 'bags';
