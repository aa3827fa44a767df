import { afterEach, describe, expect, it } from 'vitest';
import { startBagsSimulator } from '../../src/simulators/bags-upstream';
import { backoffMs, MAX_ATTEMPTS } from '../../src/main/outbox/drainer';
import { retryAfterMs } from '../../src/main/upstreams/http';
import { onRelease, releaseAll } from '../support/cleanup';
import { withAdmin } from '../support/station';

afterEach(releaseAll);

async function setup(readTimeoutMs = 2000) {
  const sim = await startBagsSimulator();
  onRelease(() => sim.close());
  const t = await withAdmin({ upstreams: { bags: { url: sim.url, readTimeoutMs } }, syncIntervalMs: 0 });
  const dock = await t.signedIn('dispatcher', 'dock1');
  const scan = (code: string) => dock.ok('bags/scan', { code, source: 'manual' });
  const outbox = (status: string) =>
    (t.station.database.sqlite.prepare('SELECT count(*) n FROM outbox WHERE status = ?').get(status) as { n: number }).n;
  const drain = () => t.station.sync.drainAll();
  return { sim, t, dock, scan, outbox, drain };
}

describe('outbox drain to the bag-tracking simulator', () => {
  it('sends every record once, marks it done, and never sends a done record again', async () => {
    const { sim, t, scan, outbox, drain } = await setup();
    await scan('SB00001');
    for (let i = 0; i < 5; i++) await scan(`C-${i}`);
    expect(outbox('pending')).toBe(11); // 6 bags created + 5 links
    await drain();
    expect(outbox('done')).toBe(11);
    expect([...sim.applied.values()].every((n) => n === 1)).toBe(true);
    expect(sim.applied.size).toBe(11);
    const requests = sim.stats().requests;
    await drain();
    expect(sim.stats().requests).toBe(requests);
    const status = await t.admin.ok('sync/status', {});
    expect(status).toEqual([expect.objectContaining({ upstream: 'bags', online: true, queued: 0, stuck: 0 })]);
  });

  it('a short 503 is retried inside the call; a 503 with a long Retry-After rests the upstream until then', async () => {
    const { sim, t, scan, outbox, drain } = await setup();
    await scan('SB00001');
    sim.faults.unavailable = 1;
    await drain();
    expect(t.waits).toEqual([250]); // the first backoff step, on the test's clock
    expect(outbox('done')).toBe(1);

    await scan('C-1');
    sim.faults.unavailable = 5;
    sim.faults.retryAfterS = 30;
    await drain();
    expect(outbox('pending')).toBe(2); // attempts untouched: being offline is not the record's fault
    const s = (await t.admin.ok('sync/status', {}))[0];
    expect(s).toMatchObject({ online: false, queued: 2, lastError: 'Site hub is unavailable (503)' });
    expect(s.restingUntil).toBe(t.clock.t + 30_000);
    const before = sim.stats().requests;
    await drain(); // resting: no request at all
    expect(sim.stats().requests).toBe(before);
    t.clock.advance(30_001);
    sim.faults.unavailable = 0;
    await drain();
    expect(outbox('done')).toBe(3);
    expect((await t.admin.ok('sync/status', {}))[0].online).toBe(true);
  });

  it('honours 429 Retry-After inside the call; a garbled answer rests the upstream without costing attempts, then the records go', async () => {
    const { sim, t, scan, outbox, drain } = await setup();
    await scan('SB00001');
    sim.faults.rateLimited = 1;
    await drain();
    expect(t.waits).toEqual([1000]); // the simulator's Retry-After: 1
    expect(outbox('done')).toBe(1);

    await scan('C-1');
    sim.faults.malformed = 2;
    const requests = sim.stats().requests;
    await drain();
    expect(sim.stats().requests).toBe(requests + 1); // not JSON: not retried inside the call
    expect(outbox('pending')).toBe(2);
    expect((await t.admin.ok('sync/status', {}))[0]).toMatchObject({
      online: false,
      lastError: 'Site hub answered with something that is not JSON',
      restingUntil: t.clock.t + 5000,
    });
    await drain(); // resting: nothing is sent
    expect(sim.stats().requests).toBe(requests + 1);
    t.clock.advance(5000);
    await drain(); // the second garbled answer
    t.clock.advance(5000);
    await drain();
    expect(outbox('done')).toBe(3);
    expect(t.station.database.sqlite.prepare('SELECT max(attempts) n FROM outbox').get()).toEqual({ n: 0 });
    expect([...sim.applied.values()]).toEqual([1, 1, 1]);
    expect((await t.admin.ok('sync/status', {}))[0]).toMatchObject({ online: true, queued: 0 });
  });

  it('a record the upstream keeps refusing backs off alone, then waits for an admin; the queue keeps moving', async () => {
    const { sim, t, scan, outbox, drain } = await setup();
    await t.admin.ok('settings/update', { idleLockMinutes: 240 });
    sim.faults.errorWhen = 'POISON';
    await scan('SB00001');
    await scan('POISON-1');
    await scan('C-2');
    await drain();
    expect(outbox('done')).toBe(3); // everything but the poison bag's bag_created and link
    expect(outbox('pending')).toBe(2);
    const row = t.station.database.sqlite
      .prepare("SELECT attempts, next_attempt_at FROM outbox WHERE status = 'pending' ORDER BY seq LIMIT 1")
      .get() as { attempts: number; next_attempt_at: number };
    expect(row.attempts).toBe(1);
    expect(row.next_attempt_at).toBeGreaterThan(t.clock.t);
    for (let i = 1; i < MAX_ATTEMPTS; i++) {
      t.clock.advance(10 * 60_000);
      await drain();
    }
    const stuck = await t.admin.ok('sync/stuck', {});
    expect(stuck).toHaveLength(2);
    expect(stuck[0]).toMatchObject({ attempts: MAX_ATTEMPTS, lastError: 'upstream rejected the record (simulated)' });
    expect((await t.admin.ok('sync/status', {}))[0]).toMatchObject({ stuck: 2, queued: 0 });

    sim.faults.errorWhen = null;
    await t.admin.ok('sync/retry', { seq: stuck[0].seq });
    await drain();
    await t.admin.ok('sync/discard', { seq: stuck[1].seq, reason: 'mislabelled bag' });
    expect(outbox('error')).toBe(0);
    expect(outbox('discarded')).toBe(1);
    expect((await t.admin.ok('audit/list', { action: 'sync' })).rows.map((r) => r.action)).toEqual(['sync.discarded', 'sync.retried']);
  });

  it('an upstream conflict is a final answer: recorded, not retried', async () => {
    const { scan, t, outbox, drain } = await setup();
    await scan('SB00001');
    await scan('C-1');
    await drain();
    await t.admin.ok('bags/delete', { code: 'C-1', reason: 'rescanned' });
    await scan('SB00002');
    await scan('C-1');
    await drain();
    expect(outbox('conflict')).toBe(1);
    const row = t.station.database.sqlite.prepare("SELECT last_error FROM outbox WHERE status = 'conflict'").get() as { last_error: string };
    expect(row.last_error).toBe('C-1 is on SB00001 upstream');
  });

  it('an answer lost after the upstream committed: the batch is sent again and applied once', async () => {
    // A 1 s read timeout leaves a loaded machine room for the answers that are not held back;
    // the held one waits 5 s, and a timer only ever fires later under load, never sooner.
    const { sim, t, scan, outbox, drain } = await setup(1000);
    await scan('SB00001');
    for (let i = 0; i < 4; i++) await scan(`C-${i}`);
    sim.faults.commitThenHangMs = 5000; // applied, then the answer is late: the station times out
    await drain();
    expect(t.waits).toEqual([250]); // timed out, waited the first backoff step, sent the batch again
    await drain();
    expect(outbox('done')).toBe(9);
    expect(sim.stats().duplicates).toBeGreaterThanOrEqual(9);
    expect([...sim.applied.values()].every((n) => n === 1)).toBe(true);
  });
});

describe('backoff and Retry-After', () => {
  it('backs off exponentially with jitter, capped at 5 minutes', () => {
    expect(backoffMs(1, () => 0.5)).toBe(1000);
    expect(backoffMs(4, () => 0.5)).toBe(8000);
    expect(backoffMs(30, () => 0.5)).toBe(300_000);
    expect(backoffMs(3, () => 0)).toBe(3000);
  });

  it('reads Retry-After as seconds or as a date', () => {
    const now = Date.UTC(2026, 10, 25, 12, 0, 0);
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs('Wed, 25 Nov 2026 12:01:00 GMT', now)).toBe(60_000);
    expect(retryAfterMs('soon', now)).toBeNull();
    expect(retryAfterMs(undefined, now)).toBeNull();
  });
});
