import { afterEach, describe, expect, it } from 'vitest';
import type { TripExecutionView } from '../../src/shared/contract/trip-execution';
import type { ManifestRequest } from '../../src/main/upstreams/biotrack/manifests';
import { startBioTrackSimulator } from '../../src/simulators/biotrack';
import { onRelease, releaseAll } from '../support/cleanup';
import { connectBioTrack, HOUR, manifestsPerStop, tripPlan } from '../support/trip-execution';
import { makeStation, tempDir, withAdmin, type TestWindow } from '../support/station';
import { RETRY_FIRST_MS } from '../../src/main/trips/execution';

afterEach(releaseAll);

async function setup(config: Parameters<typeof withAdmin>[0] = {}) {
  const sim = await startBioTrackSimulator();
  onRelease(() => sim.close());
  const plans = new Map<number, ManifestRequest>();
  const statuses: string[] = [];
  const t = await withAdmin({
    upstreams: { biotrack: { url: sim.url, readTimeoutMs: 1000 } },
    syncIntervalMs: 0,
    ...config,
    trips: {
      loadPlan: (tripId) => structuredClone(plans.get(tripId)!),
      onStatus: (tripId, status) => statuses.push(`${tripId} ${status}`),
    },
  });
  await connectBioTrack(t.admin, sim.credentials);
  const dispatcher = await t.signedIn('dispatcher');
  return { sim, t, plans, statuses, dispatcher };
}

/** The trip's execution once it has ended (completed or failed), as pushed to this window after its first `from` events. */
async function ended(w: TestWindow, tripId: number, from = 0): Promise<TripExecutionView> {
  const e = await w.event((e) => {
    const v = e.data as TripExecutionView;
    return e.event === 'trip/progress' && v.tripId === tripId && (v.status === 'completed' || v.status === 'failed') && w.events.indexOf(e) >= from;
  });
  return e.data as TripExecutionView;
}

const progressOf = (w: TestWindow) => w.events.filter((e) => e.event === 'trip/progress').map((e) => e.data as TripExecutionView);

describe('executing a trip', () => {
  it('creates one manifest per stop, in order, and pushes progress to its starter and admins only', async () => {
    const { sim, t, plans, statuses, dispatcher } = await setup();
    const biller = await t.signedIn('biller');
    const plan = tripPlan(sim, 3);
    plans.set(7, plan);
    const started = await dispatcher.ok('trips/execute', { tripId: 7 });
    expect(started).toMatchObject({ tripId: 7, status: 'pending', stopsTotal: 3 });

    const done = await ended(dispatcher, 7);
    expect(done).toMatchObject({ status: 'completed', stopsDone: 3, message: 'All 3 manifests created', step: 6, lastError: null });
    expect(done.stops.map((s) => s.state)).toEqual(['created', 'created', 'created']);
    for (const s of done.stops) expect(s.manifestId).toMatch(/^\d{16}$/);
    expect(manifestsPerStop(sim, plan)).toEqual([1, 1, 1]);
    // Each stop is a manifest of its own, with the stop's items and times.
    const sent = sim.bodies.filter((b) => b.action === 'inventory_manifest').map((b) => b.stop_overview as { barcodeid: string[] }[]);
    expect(sent.map((stops) => stops.map((s) => s.barcodeid))).toEqual(plan.stops.map((s) => [s.barcodes]));
    expect(progressOf(dispatcher).map((v) => v.message)).toContain('Creating the manifest for stop 2 of 3');
    expect(await ended(t.admin, 7)).toMatchObject({ status: 'completed' });
    expect(progressOf(biller)).toEqual([]);
    expect(await biller.ok('trips/execution', { tripId: 7 })).toMatchObject({ status: 'completed' });
    expect(statuses.at(0)).toBe('7 pending');
    expect(statuses.at(-1)).toBe('7 completed');
    const again = await dispatcher.call('trips/execute', { tripId: 7 });
    expect(again).toMatchObject({ ok: false, error: { code: 'conflict', message: 'This trip has already been executed' } });
  });

  it('waits while BioTrack answers 503, saying why, with growing waits that honour its cooldown, then completes with one manifest per stop', async () => {
    const { sim, t, plans, dispatcher } = await setup();
    const plan = tripPlan(sim, 3);
    plans.set(1, plan);
    sim.faults.unavailable = 12; // each try: the create, then sync_manifest and its two retries
    await dispatcher.ok('trips/execute', { tripId: 1 });
    const done = await ended(dispatcher, 1);
    expect(done.status).toBe('completed');
    expect(manifestsPerStop(sim, plan)).toEqual([1, 1, 1]);
    const waits = progressOf(dispatcher)
      .map((v) => /^BioTrack is not available right now: trying stop 1 again in (\d+) s$/.exec(v.message ?? '')?.[1])
      .filter((s) => s !== undefined)
      .map(Number);
    // 2, 4, 8 s are shorter than the 15 s BioTrack's 503 asks to rest; the 4th, 16 s, is longer.
    expect(waits).toEqual([15, 15, 15, 16]);
    expect(done.attempts).toBe(5);
    expect(t.waits).toContain(16_000); // waited on the station's clock, not the wall clock
  });

  it('stops as failed at a refused stop with BioTrack’s words, and Retry continues from that stop after the fix', async () => {
    const { sim, plans, dispatcher } = await setup();
    sim.faults.minLeadHours = 24;
    const plan = tripPlan(sim, 3, { hoursAhead: 30 });
    const bad = structuredClone(plan);
    bad.stops[1].departure = Date.now() + 2 * HOUR;
    bad.stops[1].arrival = bad.stops[1].departure + HOUR;
    plans.set(3, bad);
    await dispatcher.ok('trips/execute', { tripId: 3 });
    const failed = await ended(dispatcher, 3);
    expect(failed).toMatchObject({
      status: 'failed',
      failedStop: 2,
      stopsDone: 1,
      lastError:
        'Stop 2: BioTrack refused the manifest: The departure time for stop number 2 is less than 24 hours from the current time and will need to be corrected. (code 268)',
    });
    expect(failed.message).toBe(failed.lastError);
    expect(failed.stops.map((s) => s.state)).toEqual(['created', 'refused']);
    const first = failed.stops[0].manifestId;

    plans.set(3, plan); // the dispatcher fixed the departure time
    const from = dispatcher.events.length;
    const retried = await dispatcher.ok('trips/retry', { tripId: 3 });
    expect(retried.status).toBe('pending');
    const done = await ended(dispatcher, 3, from);
    expect(done).toMatchObject({ status: 'completed', failedStop: null, lastError: null });
    expect(done.stops[0].manifestId).toBe(first);
    expect(manifestsPerStop(sim, plan)).toEqual([1, 1, 1]);
    expect(sim.calls.filter((c) => c === 'inventory_manifest')).toHaveLength(4); // 1, 2 refused, 2, 3
  });

  it('fails at a stop with an item BioTrack does not know, naming the item', async () => {
    const { sim, plans, dispatcher } = await setup();
    const plan = tripPlan(sim, 3);
    plan.stops[2].barcodes = ['2026999999999999'];
    plans.set(4, plan);
    await dispatcher.ok('trips/execute', { tripId: 4 });
    expect(await ended(dispatcher, 4)).toMatchObject({
      status: 'failed',
      failedStop: 3,
      lastError: 'Stop 3: BioTrack refused the manifest: Barcode 2026999999999999 was not found at this location. (code 602)',
    });
    expect(manifestsPerStop(sim, plan)).toEqual([1, 1, 0]);
  });

  it('finds the manifest of a create whose answer was lost in sync_manifest instead of creating it again', async () => {
    const { sim, t, plans, dispatcher } = await setup();
    const plan = tripPlan(sim, 3);
    plans.set(5, plan);
    sim.faults.dropManifestCall = 2; // stop 2 is created at BioTrack, its answer never arrives
    await dispatcher.ok('trips/execute', { tripId: 5 });
    const done = await ended(dispatcher, 5);
    expect(done.status).toBe('completed');
    expect(manifestsPerStop(sim, plan)).toEqual([1, 1, 1]);
    expect(sim.calls.filter((c) => c === 'inventory_manifest')).toHaveLength(3);
    expect(done.stops[1].manifestId).toBe(sim.manifestsFor(plan.stops[1].barcodes)[0].manifestid);
    const recovered = t.station.database.sqlite.prepare('SELECT stop_number FROM trip_manifests WHERE recovered = 1').pluck().all();
    expect(recovered).toEqual([2]);
  });

  it('keeps waiting after an HTTP 500 on a create, and creates the manifest once BioTrack answers', async () => {
    const { sim, plans, dispatcher } = await setup();
    const plan = tripPlan(sim, 3);
    plans.set(6, plan);
    sim.faults.failManifestCall = 1;
    await dispatcher.ok('trips/execute', { tripId: 6 });
    expect(await ended(dispatcher, 6)).toMatchObject({ status: 'completed' });
    expect(manifestsPerStop(sim, plan)).toEqual([1, 1, 1]);
    expect(progressOf(dispatcher).some((v) => v.message?.startsWith('BioTrack answered with an error: trying stop 1 again in 2 s'))).toBe(true);
  });

  it('lets an admin void one stop’s manifest (audited), not a dispatcher; Retry then gives that stop a new one', async () => {
    const { sim, t, plans, dispatcher } = await setup();
    const plan = tripPlan(sim, 3);
    plans.set(8, plan);
    await dispatcher.ok('trips/execute', { tripId: 8 });
    const done = await ended(dispatcher, 8);
    const old = done.stops[1].manifestId!;

    expect(await dispatcher.call('trips/void-stop', { tripId: 8, stopNumber: 2 })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const voided = await t.admin.ok('trips/void-stop', { tripId: 8, stopNumber: 2 });
    expect(voided.stops[1]).toMatchObject({ state: 'voided', manifestId: old });
    expect(sim.manifests.get(old)?.deleted).toBe(1);
    const audit = t.station.database.sqlite.prepare("SELECT username, entity_id, before FROM audit_log WHERE action = 'trips.manifest_voided'").all();
    expect(audit).toEqual([{ username: 'boss', entity_id: '8', before: JSON.stringify({ stopNumber: 2, manifestId: old }) }]);
    expect(await t.admin.call('trips/void-stop', { tripId: 8, stopNumber: 2 })).toMatchObject({
      ok: false,
      error: { code: 'conflict', message: 'Stop 2 has no manifest to void' },
    });

    const from = dispatcher.events.length;
    await dispatcher.ok('trips/retry', { tripId: 8 });
    const again = await ended(dispatcher, 8, from);
    expect(again.status).toBe('completed');
    expect(again.stops[1].manifestId).not.toBe(old);
    expect(sim.manifestsFor(plan.stops[1].barcodes).map((m) => m.deleted)).toEqual([1, 0]);
    expect(manifestsPerStop(sim, plan)).toEqual([1, 2, 1]); // the voided one and its replacement
  });

  it('leaves an execution waiting for BioTrack open when the station closes, and the next start finishes it', async () => {
    const dataDir = tempDir();
    let waiting = (_: number) => {};
    const asked = new Promise<number>((resolve) => (waiting = resolve));
    // Short waits (the HTTP client's own retries) pass at once; the execution's wait never ends by itself.
    const sleep = (ms: number) => (ms >= RETRY_FIRST_MS ? (waiting(ms), new Promise<void>(() => {})) : Promise.resolve());
    const { sim, t, plans, dispatcher } = await setup({ dataDir, sleep });
    const plan = tripPlan(sim, 3);
    plans.set(2, plan);
    sim.faults.unavailable = 1_000;
    await dispatcher.ok('trips/execute', { tripId: 2 });
    expect(await asked).toBeGreaterThanOrEqual(RETRY_FIRST_MS);
    await t.close(); // does not wait out the backoff

    sim.faults.unavailable = 0;
    const again = await makeStation({
      dataDir,
      upstreams: { biotrack: { url: sim.url, readTimeoutMs: 1000 } },
      syncIntervalMs: 0,
      trips: { loadPlan: () => structuredClone(plan) },
    });
    expect(again.station.tripExecutor.view(2)?.status).toBe('processing');
    await again.station.tripExecutor.settled(2);
    expect(again.station.tripExecutor.view(2)).toMatchObject({ status: 'completed', stopsDone: 3 });
    expect(manifestsPerStop(sim, plan)).toEqual([1, 1, 1]);
  });
});
