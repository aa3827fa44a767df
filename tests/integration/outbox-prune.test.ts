import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/main/platform/logger';
import { OUTBOX_RETENTION_MS, OutboxPruner } from '../../src/main/outbox/prune';
import { releaseAll } from '../support/cleanup';
import { makeStation, type TestStation } from '../support/station';

const DAY = 86_400_000;
const opened: TestStation[] = [];
afterEach(async () => {
  for (const t of opened.splice(0)) await t.close();
});
afterEach(releaseAll); // deletes the stations' temp folders

async function station(config: Parameters<typeof makeStation>[0] = {}) {
  const t = await makeStation({ outboxPruneEveryMs: 0, ...config });
  opened.push(t);
  const sqlite = t.station.database.sqlite;
  const insert = sqlite.prepare(
    "INSERT INTO outbox (op_id, op, upstream, payload, status, created_at, updated_at) VALUES (?, 'link_child@1', 'bags', '{}', ?, ?, ?)",
  );
  let n = 0;
  /** `count` records with this status, last changed `ageMs` before the station's now. */
  const add = sqlite.transaction((status: string, ageMs: number, count = 1) => {
    const at = t.clock.now() - ageMs;
    for (let i = 0; i < count; i++) insert.run(`op-${status}-${n++}`, status, at, at);
  });
  const left = () =>
    Object.fromEntries(
      (sqlite.prepare('SELECT status, count(*) AS n FROM outbox GROUP BY status').all() as { status: string; n: number }[]).map((r) => [
        r.status,
        r.n,
      ]),
    );
  return { t, sqlite, add, left };
}

describe('outbox prune', () => {
  it('deletes only what the upstream acknowledged (done, conflict) longer ago than the retention', async () => {
    const { t, add, left } = await station();
    add('done', OUTBOX_RETENTION_MS + DAY, 4);
    add('conflict', OUTBOX_RETENTION_MS + 1, 2);
    add('done', OUTBOX_RETENTION_MS - 1, 3); // inside the retention: kept
    add('conflict', DAY);
    // Never pruned, however old: still to send, stuck until an admin acts, or given up by one.
    add('pending', 90 * DAY, 2);
    add('error', 90 * DAY);
    add('discarded', 90 * DAY);

    const report = await t.station.outboxPruner.pruneNow();

    expect(report.deleted).toBe(6);
    expect(left()).toEqual({ done: 3, conflict: 1, pending: 2, error: 1, discarded: 1 });
    expect(await t.station.outboxPruner.pruneNow()).toMatchObject({ deleted: 0, batches: 1 });
  });

  it('deletes in batches and lets other work run between them', async () => {
    const { t, sqlite, add, left } = await station();
    add('done', OUTBOX_RETENTION_MS + DAY, 10);
    add('pending', OUTBOX_RETENTION_MS + DAY, 1);
    const pruner = new OutboxPruner({ db: t.station.database.db, now: t.clock.now, log: silentLogger, batchSize: 3 });
    const old = () => (sqlite.prepare("SELECT count(*) AS n FROM outbox WHERE status = 'done'").get() as { n: number }).n;

    const running = pruner.pruneNow();
    // A scan arriving meanwhile is a new event-loop task: it runs between two batches, not after the last.
    const seenBetween = await new Promise<number>((resolve) => setImmediate(() => resolve(old())));
    const report = await running;

    expect(seenBetween).toBeGreaterThan(0);
    expect(seenBetween).toBeLessThan(10);
    expect(report).toMatchObject({ deleted: 10, batches: 4 }); // 3 + 3 + 3 + 1
    expect(left()).toEqual({ pending: 1 });
  });

  it('the station prunes on its own schedule', async () => {
    const { t, add, left } = await station({ outboxPruneEveryMs: 20 });
    add('done', OUTBOX_RETENTION_MS + DAY, 5);
    add('done', DAY, 1);
    const deadline = Date.now() + 5_000;
    while (left().done !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(left()).toEqual({ done: 1 });
    // Retention is counted on the station's clock: a week later the last one goes too.
    t.clock.advance(OUTBOX_RETENTION_MS);
    while (left().done !== undefined && Date.now() < deadline + 5_000) await new Promise((r) => setTimeout(r, 20));
    expect(left()).toEqual({});
  });

  it('closing the station waits for a prune under way, which stops between batches', async () => {
    const { t, add } = await station();
    add('done', OUTBOX_RETENTION_MS + DAY, 2_000);
    const running = t.station.outboxPruner.pruneNow();
    opened.splice(opened.indexOf(t), 1);
    await t.close();
    const report = await running;
    expect(report.deleted).toBeGreaterThan(0);
    expect(report.deleted).toBeLessThan(2_000);
  });
});
