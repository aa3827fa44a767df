import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/main/platform/logger';
import { BioTrackClient, bioTrackErrorCode, succeeded } from '../../src/main/upstreams/biotrack/client';
import {
  createManifest,
  createManifestOnce,
  findManifest,
  listManifests,
  manifestState,
  voidManifest,
  type ManifestRequest,
} from '../../src/main/upstreams/biotrack/manifests';
import { startBioTrackSimulator, type BioTrackSimulator } from '../../src/simulators/biotrack';
import { onRelease, releaseAll } from '../support/cleanup';
import { withAdmin } from '../support/station';
import { fixedSecrets } from '../support/secrets';

afterEach(releaseAll);

/** A simulator closed after the test. */
async function bioTrackSimulator() {
  const sim = await startBioTrackSimulator();
  onRelease(() => sim.close());
  return sim;
}

async function setup() {
  const sim = await bioTrackSimulator();
  const t = await withAdmin({ upstreams: { biotrack: { url: sim.url, readTimeoutMs: 1000 } }, syncIntervalMs: 0 });
  await t.admin.ok('settings/update', { idleLockMinutes: 240, biotrackLocation: sim.credentials.location });
  await t.admin.ok('sync/set-credential', { name: 'biotrack.license', value: sim.credentials.license });
  await t.admin.ok('sync/set-credential', { name: 'biotrack.username', value: sim.credentials.username });
  await t.admin.ok('sync/set-credential', { name: 'biotrack.password', value: sim.credentials.password });
  return { sim, t };
}

function clientFor(sim: BioTrackSimulator, overrides: Record<string, string> = {}) {
  const secrets = {
    'biotrack.license': sim.credentials.license,
    'biotrack.username': sim.credentials.username,
    'biotrack.password': sim.credentials.password,
    ...overrides,
  };
  return new BioTrackClient({
    url: sim.url,
    now: Date.now,
    log: silentLogger,
    readTimeoutMs: 1000,
    sleep: async () => {},
    secrets: fixedSecrets(secrets),
  });
}

const HOUR = 3_600_000;
function manifestFor(sim: BioTrackSimulator, barcodes: string[], departure = Date.now() + 2 * HOUR): ManifestRequest {
  return {
    employeeId: '001',
    vehicleId: 'V7',
    location: sim.credentials.location,
    stops: [{ stopNumber: 1, vendorLicense: '412345', barcodes, departure, arrival: departure + HOUR, route: 'I-5 south to exit 109' }],
  };
}
/** Items of this facility that are not deleted. */
const liveHere = (sim: BioTrackSimulator) => sim.inventory.filter((i) => i.location === sim.credentials.location && String(i.deleted) !== '1');

describe('BioTrack inventory', () => {
  it("is this facility's rows without deleted ones (7), rooms by this facility's ids, one login reused", async () => {
    const { sim, t } = await setup();
    const r = await t.admin.ok('biotrack/inventory', {});
    expect(r.location).toBe('990010');
    expect(r.items.map((i) => i.barcode).sort()).toEqual(
      liveHere(sim)
        .map((i) => i.id)
        .sort(),
    );
    expect(r.items.length).toBeLessThan(sim.inventory.length);
    expect(sim.logins).toBe(1);
    expect(sim.calls).toEqual(['login', 'sync_inventory_room', 'sync_inventory', 'inventory_qa_check_all']);
    const first = r.items.find((i) => i.barcode === sim.inventory[1].id)!;
    expect(first).toMatchObject({ product: 'Sour Diesel 3.5g', strain: 'Sour Diesel', quantity: 17, room: 'Packaging' });
    // A null productname shows the strain; a null room stays empty.
    const unnamed = r.items.find((i) => i.barcode === sim.inventory[4].id)!;
    expect(unnamed).toMatchObject({ product: 'Blue Dream', room: 'Packaging' });
    expect(r.items.find((i) => i.barcode === sim.inventory[5].id)!.room).toBeNull();
  });

  it('joins lab results by barcode_id, not sample_id; string values become numbers; ids without results keep "no lab data" (1)', async () => {
    const { sim, t } = await setup();
    const r = await t.admin.ok('biotrack/inventory', {});
    const tested = r.items.find((i) => i.barcode === sim.inventory[1].id)!;
    expect(tested).toMatchObject({ labResult: 'passed', sampleId: '2025700000000001', thc: 15.125, total: 15.5, thca: 0.2, cbda: 0, cbd: 0.02 });
    expect(tested.sampleId).not.toBe(tested.barcode);
    const untested = r.items.find((i) => i.barcode === sim.inventory[3].id)!; // qa_check_all answers `false` for it
    expect(untested).toMatchObject({ labResult: null, sampleId: null, total: null, thc: null });
    expect(r.items.find((i) => i.barcode === sim.inventory[0].id)!.labResult).toBe('pending'); // result 0
    expect(r.items.filter((i) => i.labResult !== null).length).toBeGreaterThan(r.items.length / 2);
  });

  it('reads answers with PHP notices before and after the JSON, brackets in them, and string flags (6)', async () => {
    const { sim, t } = await setup();
    sim.faults.strayPrefix = true;
    sim.faults.trailingNotice = true;
    sim.faults.stringSuccess = true;
    const r = await t.admin.ok('biotrack/inventory', {});
    expect(r).toMatchObject({ fromCache: false, warning: null });
    expect(r.items.length).toBe(liveHere(sim).length);
    expect(r.items.find((i) => i.barcode === sim.inventory[1].id)!.thc).toBe(15.125);
  });

  it('logs in again once when the session has expired (code 63)', async () => {
    const { sim, t } = await setup();
    await t.admin.ok('biotrack/inventory', {});
    sim.faults.expireSessions = true;
    expect(await t.admin.ok('biotrack/inventory', { refresh: true })).toMatchObject({ fromCache: false, warning: null });
    expect(sim.logins).toBe(2);
    expect(sim.calls.slice(4)).toEqual(['sync_inventory_room', 'login', 'sync_inventory_room', 'sync_inventory', 'inventory_qa_check_all']);
  });

  it('a refused login shows BioTrack’s words (_detail when it sends no error); a 503 serves the cache with the reason (5)', async () => {
    const { sim, t } = await setup();
    await t.admin.ok('sync/set-credential', { name: 'biotrack.password', value: 'wrong' });
    expect(await t.admin.call('biotrack/inventory', {})).toMatchObject({
      ok: false,
      error: { code: 'unavailable', message: expect.stringContaining('BioTrack refused the login: Invalid username or password.') },
    });
    await t.admin.ok('sync/set-credential', { name: 'biotrack.password', value: sim.credentials.password });
    await t.admin.ok('sync/set-credential', { name: 'biotrack.license', value: '999000999' });
    expect(await t.admin.call('biotrack/inventory', {})).toMatchObject({
      ok: false,
      error: { message: expect.stringContaining('Invalid Company Identifier, only Test IDs allowed [LBL-040]') },
    });
    await t.admin.ok('sync/set-credential', { name: 'biotrack.license', value: sim.credentials.license });
    await t.admin.ok('biotrack/inventory', {});
    sim.faults.unavailable = 10;
    t.clock.advance(30 * 60_000);
    expect(await t.admin.ok('biotrack/inventory', {})).toMatchObject({ fromCache: true, ageSeconds: 1801, warning: 'BioTrack is unavailable (503)' });
    expect(t.waits).toEqual([250, 500]); // two retries on the test's clock: 1800.75 s
  });

  it('the company id must be a 9-digit UBI and the location a 6-digit licence, in words, changing nothing (7)', async () => {
    const { t } = await setup();
    expect(await t.admin.call('sync/set-credential', { name: 'biotrack.license', value: '990010' })).toMatchObject({
      ok: false,
      error: { code: 'invalid', message: expect.stringContaining('9-digit UBI') },
    });
    expect(await t.admin.call('settings/update', { biotrackLocation: '99001' })).toMatchObject({ ok: false, error: { code: 'invalid' } });
    expect((await t.admin.ok('settings/get', {})).biotrackLocation).toBe('990010');
    await t.admin.ok('settings/update', { biotrackLocation: '' });
    expect(await t.admin.call('biotrack/inventory', {})).toMatchObject({
      ok: false,
      error: { code: 'unavailable', message: expect.stringContaining('6-digit licence') },
    });
  });
});

describe('BioTrack errors on any HTTP status (5)', () => {
  it('reads {success: 0, error, errorcode} from HTTP 400 and 500 answers without opening the breaker', async () => {
    const sim = await bioTrackSimulator();
    const client = clientFor(sim);
    // The 2014 API has no manifest lookup: HTTP 500, errorcode 999.
    for (let i = 0; i < 6; i++) {
      await expect(client.call('inventory_manifest_lookup', { manifest_id: '1' })).rejects.toMatchObject({
        kind: 'refused',
        message: 'BioTrack refused inventory_manifest_lookup: Unhandled Request (code 999)',
      });
    }
    expect(client.http.breaker.state).toBe('closed');
    // HTTP 400 for a wrong API version.
    const res = await fetch(sim.url, {
      method: 'POST',
      body: JSON.stringify({ API: '3.0', action: 'login' }),
      headers: { 'content-type': 'text/JSON' },
    });
    expect(res.status).toBe(400);
    // HTTP 200 with success 0 and a code.
    const e = await client.call('inventory_qa_check_all', { barcodeid: [] }).catch((x: unknown) => x);
    expect(e).toMatchObject({ message: 'BioTrack refused inventory_qa_check_all: Please specify at least one identifier. (code 602)' });
    expect(bioTrackErrorCode(e)).toBe(602);
    expect(succeeded({ success: '1' }) && !succeeded({ success: '0' })).toBe(true);
    // Every call carried the API version, the action and a nonce, sent as text/JSON.
    expect(
      sim.bodies.filter((b) => b.API !== '3.0').every((b) => b.API === '4.0' && typeof b.action === 'string' && typeof b.nonce === 'string'),
    ).toBe(true);
  });
});

describe('BioTrack manifests', () => {
  it('answer their id as barcode_id, a 16-digit string (2), with the stop times and route the API asks for (3)', async () => {
    const sim = await bioTrackSimulator();
    const client = clientFor(sim);
    const items = liveHere(sim)
      .slice(0, 2)
      .map((i) => i.id);
    const id = await createManifest(client, manifestFor(sim, items), Date.now());
    expect(id).toMatch(/^\d{16}$/);
    const sent = sim.bodies.find((b) => b.action === 'inventory_manifest')!;
    expect(sent).toMatchObject({ location: '990010', employee_id: '001', vehicle_id: 'V7' });
    const stop = (sent.stop_overview as Record<string, unknown>[])[0];
    expect(stop).toMatchObject({ stop_number: 1, vendor_license: '412345', approximate_route: 'I-5 south to exit 109', barcodeid: items });
    expect(Number.isInteger(stop.approximate_departure) && Number(stop.approximate_arrival) > Number(stop.approximate_departure)).toBe(true);
    expect(await manifestState(client, id)).toMatchObject({
      manifestId: id,
      deleted: false,
      fulfilled: false,
      stops: [{ stopNumber: 1, licenseNumber: '412345', items }],
    });
  });

  it('a departure BioTrack refuses (268) is reported with its code; a past departure is refused before sending (3)', async () => {
    const sim = await bioTrackSimulator();
    const client = clientFor(sim);
    const items = liveHere(sim)
      .slice(0, 1)
      .map((i) => i.id);
    await expect(createManifest(client, manifestFor(sim, items, Date.now() - HOUR), Date.now())).rejects.toMatchObject({
      code: 'invalid',
      message: expect.stringContaining('Stop 1: the departure time is in the past'),
    });
    expect(sim.calls).not.toContain('inventory_manifest');
    sim.faults.minLeadHours = 24; // a state that asks a day's notice
    const e = await createManifest(client, manifestFor(sim, items), Date.now()).catch((x: unknown) => x);
    expect(e).toMatchObject({ kind: 'refused', message: expect.stringContaining('less than 24 hours') });
    expect(bioTrackErrorCode(e)).toBe(268);
  });

  it('are never sent twice automatically: a lost answer is looked up in sync_manifest (4, 8)', async () => {
    const sim = await bioTrackSimulator();
    const client = clientFor(sim);
    const items = liveHere(sim)
      .slice(2, 5)
      .map((i) => i.id);
    const m = manifestFor(sim, items);
    sim.faults.dropManifestAnswers = 1; // BioTrack creates it, the answer never arrives
    const r = await createManifestOnce(client, m, Date.now());
    expect(r.recovered).toBe(true);
    expect(sim.calls.filter((c) => c === 'inventory_manifest')).toHaveLength(1); // no blind retry
    expect(sim.manifests.size).toBe(1);
    expect(r.manifestId).toBe([...sim.manifests.keys()][0]);
    // A retry of the job that may have sent it before looks first and does not create another.
    expect(await createManifestOnce(client, m, Date.now(), true)).toEqual({ manifestId: r.manifestId, recovered: true });
    expect(sim.manifests.size).toBe(1);

    await voidManifest(client, r.manifestId);
    expect(await manifestState(client, r.manifestId)).toMatchObject({ deleted: true });
    expect(await findManifest(client, m)).toBeNull(); // a voided manifest is not "the one we made"
    expect((await listManifests(client)).length).toBe(1);
  });
});
