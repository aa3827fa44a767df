import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/main/app/logger';
import { BioTrackClient, succeeded } from '../../src/main/sync/biotrack';
import { startBioTrackSimulator } from '../../src/simulators/biotrack';
import { withAdmin } from '../support/station';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const sim = await startBioTrackSimulator();
  const t = await withAdmin({ upstreams: { biotrack: { url: sim.url, readTimeoutMs: 1000 } }, syncIntervalMs: 0 });
  cleanups.push(() => sim.close(), () => t.close());
  await t.admin.ok('settings/update', { idleLockMinutes: 240 });
  await t.admin.ok('sync/set-credential', { name: 'biotrack.license', value: sim.credentials.license });
  await t.admin.ok('sync/set-credential', { name: 'biotrack.username', value: sim.credentials.username });
  await t.admin.ok('sync/set-credential', { name: 'biotrack.password', value: sim.credentials.password });
  return { sim, t };
}

describe('BioTrack', () => {
  it('inventory with rooms and lab potency (Total, THCA, THC, CBDA, CBD), one login reused', async () => {
    const { sim, t } = await setup();
    const r = await t.admin.ok('biotrack/inventory', {});
    expect(r.items).toHaveLength(60);
    expect(r.items[1]).toEqual({ barcode: '6647100000000001', product: 'Sour Diesel 3.5g', quantity: 17, room: 'Packaging', labResult: 'passed', total: 17.16, thca: 19, thc: 0.5, cbda: 0.05, cbd: 0.02 });
    expect(r.items[0].labResult).toBe('pending'); // result 0
    expect(sim.logins).toBe(1);
    expect(sim.calls).toEqual(['login', 'sync_inventory_room', 'sync_inventory', 'inventory_qa_check_all']);
  });

  it('logs in again once when the session has expired, and reads answers with stray text and string flags', async () => {
    const { sim, t } = await setup();
    await t.admin.ok('biotrack/inventory', {});
    sim.faults.expireSessions = true;
    sim.faults.strayPrefix = true;
    sim.faults.stringSuccess = true;
    const again = await t.admin.ok('biotrack/inventory', { refresh: true });
    expect(again).toMatchObject({ fromCache: false, warning: null });
    expect(sim.logins).toBe(2);
    expect(sim.calls.slice(4)).toEqual(['sync_inventory_room', 'login', 'sync_inventory_room', 'sync_inventory', 'inventory_qa_check_all']);
  });

  it('a refused login or a 503 serves the cached copy with the reason; with nothing cached, a clear error', async () => {
    const { sim, t } = await setup();
    await t.admin.ok('sync/set-credential', { name: 'biotrack.password', value: 'wrong' });
    expect(await t.admin.call('biotrack/inventory', {})).toMatchObject({ ok: false, error: { code: 'unavailable', message: expect.stringContaining('BioTrack refused the login: Invalid login credentials') } });
    await t.admin.ok('sync/set-credential', { name: 'biotrack.password', value: sim.credentials.password });
    await t.admin.ok('biotrack/inventory', {});
    sim.faults.unavailable = 10;
    t.clock.advance(30 * 60_000);
    expect(await t.admin.ok('biotrack/inventory', {})).toMatchObject({ fromCache: true, ageSeconds: 1800, warning: 'biotrack is unavailable (503)' });
  });

  it('an error answer (HTTP 200, success 0) is reported with its text and code', async () => {
    const sim = await startBioTrackSimulator();
    cleanups.push(() => sim.close());
    const secrets = new Map(Object.entries({ 'biotrack.license': sim.credentials.license, 'biotrack.username': sim.credentials.username, 'biotrack.password': sim.credentials.password }));
    const client = new BioTrackClient({ url: sim.url, now: Date.now, log: silentLogger, secrets: { get: (k) => secrets.get(k) ?? null, set() {}, delete() {}, names: () => [] } });
    await expect(client.call('inventory_teleport')).rejects.toThrow('BioTrack refused inventory_teleport: Unknown action inventory_teleport (code 7)');
    expect([succeeded({ success: 1 }), succeeded({ success: '1' }), succeeded({ success: '0' }), succeeded({ success: 0 }), succeeded({})]).toEqual([true, true, false, false, false]);
  });
});

describe('BioTrack manifests and blackout windows', () => {
  it('creates, looks up and voids a manifest; refuses one without stops', async () => {
    const { createManifest, lookupManifest, voidManifest } = await import('../../src/main/sync/biotrack');
    const sim = await startBioTrackSimulator();
    cleanups.push(() => sim.close());
    const secrets = new Map(Object.entries({ 'biotrack.license': sim.credentials.license, 'biotrack.username': sim.credentials.username, 'biotrack.password': sim.credentials.password }));
    const client = new BioTrackClient({ url: sim.url, now: Date.now, log: silentLogger, secrets: { get: (k) => secrets.get(k) ?? null, set() {}, delete() {}, names: () => [] } });
    const id = await createManifest(client, { employeeId: 'E1', vehicleId: 'V7', location: 'OR-1234', stops: [{ stopNumber: 1, licenseNumber: 'OR-9999', barcodes: ['6647100000000001'] }] });
    expect(id).toBe('9000001');
    expect(await lookupManifest(client, id)).toEqual({ manifestId: id, voided: false });
    await voidManifest(client, id);
    expect(await lookupManifest(client, id)).toEqual({ manifestId: id, voided: true });
    await expect(createManifest(client, { employeeId: 'E1', vehicleId: 'V7', location: 'OR-1234', stops: [] })).rejects.toThrow('A manifest needs at least one stop (code 21)');
  });

  it('a 503 blackout window with Retry-After: served from the cache until it ends, then fresh', async () => {
    const { sim, t } = await setup();
    await t.admin.ok('biotrack/inventory', {});
    sim.faults.unavailableUntil = Date.now() + 60_000;
    t.clock.advance(10 * 60_000);
    const during = await t.admin.ok('biotrack/inventory', {});
    expect(during).toMatchObject({ fromCache: true, warning: 'biotrack is unavailable (503)' });
    const status = (await t.admin.ok('sync/status', {})).find((u) => u.upstream === 'biotrack')!;
    expect(status.restingUntil).toBeGreaterThanOrEqual(t.clock.t + 59_000); // rests as long as Retry-After says
    sim.faults.unavailableUntil = 0;
    t.clock.advance(61_000);
    expect(await t.admin.ok('biotrack/inventory', { refresh: true })).toMatchObject({ fromCache: false, warning: null });
  });
});
