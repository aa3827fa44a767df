import { afterEach, describe, expect, it } from 'vitest';
import { loadPlan } from '../../src/main/trips/plan';
import { createManifest, manifestProblems } from '../../src/main/upstreams/biotrack/manifests';
import { BioTrackClient } from '../../src/main/upstreams/biotrack/client';
import { silentLogger } from '../../src/main/platform/logger';
import { startBioTrackSimulator } from '../../src/simulators/biotrack';
import { startLeafTradeSimulator } from '../../src/simulators/leaftrade';
import { onRelease, releaseAll } from '../support/cleanup';
import { fixedSecrets } from '../support/secrets';
import { ManualClock, withAdmin } from '../support/station';
import { TestSmtpServer } from '../support/smtp';
import { MAIL_UPSTREAM } from '../../src/main/mail/smtp';

afterEach(releaseAll);

const HOUR = 3_600_000;

/** `clock`: the simulator checks departures against its own (real) clock, so a manifest test starts at the real time. */
async function setup(clock?: ManualClock) {
  const leaftrade = await startLeafTradeSimulator();
  onRelease(() => leaftrade.close());
  const biotrack = await startBioTrackSimulator();
  onRelease(() => biotrack.close());
  const t = await withAdmin({
    upstreams: { leaftrade: { url: leaftrade.url, readTimeoutMs: 1000 }, biotrack: { url: biotrack.url, readTimeoutMs: 1000 } },
    syncIntervalMs: 0,
    ...(clock ? { clock } : {}),
  });
  await t.admin.ok('settings/update', { idleLockMinutes: 240, biotrackLocation: biotrack.credentials.location });
  await t.admin.ok('sync/set-credential', { name: 'leaftrade.token', value: leaftrade.token });
  await t.admin.ok('sync/set-credential', { name: 'biotrack.license', value: biotrack.credentials.license });
  await t.admin.ok('sync/set-credential', { name: 'biotrack.username', value: biotrack.credentials.username });
  await t.admin.ok('sync/set-credential', { name: 'biotrack.password', value: biotrack.credentials.password });
  const dispatcher = await t.signedIn('dispatcher');
  /** The simulator's inventory id of item i (16 digits). */
  const item = (i: number) => biotrack.inventory[i].id;
  return { t, dispatcher, leaftrade, biotrack, item };
}

/**
 * A packed two-stop trip that BioTrack refuses at stop 2 once executed: it wants departures 4
 * hours ahead and stop 2 leaves in 2. `dep`: stop 1's departure; the fix for stop 2 is an hour later.
 */
async function tripRefusedAtStop2({ t, dispatcher, biotrack, item }: Awaited<ReturnType<typeof setup>>) {
  const trip = await dispatcher.ok('trips/create', {
    orderIds: [5000, 5008],
    driverName: 'Ana',
    driverEmployeeId: '001',
    vehicleName: 'Van 7',
    vehicleId: 'V7',
  });
  const [one, two] = trip.stops.map((s) => s.id);
  const dep = t.clock.now() + 6 * HOUR;
  await dispatcher.ok('trips/update', {
    tripId: trip.id,
    stops: [
      { stopId: one, departureAt: dep, arrivalAt: dep + HOUR, route: 'US-97 north' },
      { stopId: two, departureAt: t.clock.now() + 2 * HOUR, arrivalAt: t.clock.now() + 3 * HOUR, route: 'Local roads' },
    ],
  });
  await dispatcher.ok('trips/pack', { tripId: trip.id, stopId: one, barcode: item(6) });
  await dispatcher.ok('trips/pack', { tripId: trip.id, stopId: two, barcode: item(2), quantity: 1 });
  biotrack.faults.minLeadHours = 4;
  await dispatcher.ok('trips/execute', { tripId: trip.id });
  await t.station.tripExecutor.settled(trip.id);
  return { trip, one, two, dep };
}

/** Admin → Station pointed at a local SMTP server (`password`: sign in with the server's user). */
async function mailTo(t: Awaited<ReturnType<typeof setup>>['t'], server: TestSmtpServer, password = true) {
  await t.admin.ok('mail/update-settings', {
    host: '127.0.0.1',
    port: server.port,
    security: 'none',
    user: password ? server.user : '',
    from: 'dock@example.com',
    recipients: 'dispatch@example.com',
  });
  if (password) await t.admin.ok('mail/set-password', { password: server.password });
}

/** Orders 5000 (1 line: Blue Dream ×2), 5001 (Sour Diesel ×3, OG Kush ×6), 5002 (OG Kush ×4, Blue Dream ×2, Sour Diesel ×5). */
const THREE = [5000, 5001, 5002];

function refusal(code: string, message: string | RegExp) {
  return { ok: false, error: { code, message: typeof message === 'string' ? expect.stringContaining(message) : expect.stringMatching(message) } };
}

describe('trips: create and edit', () => {
  it('creates a draft with one stop per order, in the order given, with lines, address and licence', async () => {
    const { dispatcher } = await setup();
    const trip = await dispatcher.ok('trips/create', {
      orderIds: [5002, 5000, 5001],
      driverName: 'Ana',
      driverEmployeeId: '001',
      vehicleName: 'Van 7',
      vehicleId: 'V7',
    });
    expect(trip).toMatchObject({
      number: 'T-000001',
      name: 'Trip T-000001',
      status: 'draft',
      executionStatus: null,
      stopCount: 3,
      stopsPacked: 0,
      createdBy: 'dispatcher1',
    });
    expect(trip.stops.map((s) => [s.position, s.orderId])).toEqual([
      [1, 5002],
      [2, 5000],
      [3, 5001],
    ]);
    expect(trip.stops[1]).toMatchObject({
      invoice: 'INV-26000',
      dispensary: 'Green Leaf Dispensary',
      address: '100 Main St, Bend, OR 97701',
      vendorLicense: '412000',
      lines: [{ product: 'Blue Dream 1g pre-roll', quantity: 2, unit: 'each', packed: 0, missing: 2 }],
      complete: false,
    });
    expect(trip.stops[0].lines.map((l) => l.product)).toEqual(['OG Kush cartridge', 'Blue Dream 1g pre-roll', 'Sour Diesel 3.5g']);
  });

  it('lists approved orders filtered by delivery date and dispensary, naming the trip an order is on', async () => {
    const { dispatcher } = await setup();
    const all = await dispatcher.ok('trips/orders', {});
    expect(all.orders).toHaveLength(90);
    expect(all.dispensaries).toEqual(['Green Leaf Dispensary', 'Harbor Wellness', 'Summit Cannabis Co']);
    const byDate = await dispatcher.ok('trips/orders', { deliveryDate: '2026-12-02' });
    expect(byDate.orders.map((o) => o.id)).toEqual([5001, 5029, 5057, 5085, 5113]);
    expect((await dispatcher.ok('trips/orders', { dispensary: 'Harbor Wellness' })).orders).toHaveLength(30);
    expect((await dispatcher.ok('trips/orders', { deliveryDate: '2026-12-02', dispensary: 'Harbor Wellness' })).orders).toHaveLength(5);
    expect((await dispatcher.ok('trips/orders', { deliveryDate: '2026-12-02', dispensary: 'Green Leaf Dispensary' })).orders).toEqual([]);
    await dispatcher.ok('trips/create', { orderIds: [5001] });
    expect((await dispatcher.ok('trips/orders', { deliveryDate: '2026-12-02' })).orders.find((o) => o.id === 5001)?.onTrip).toBe('T-000001');
  });

  it('refuses an order already on a trip, one picked twice, and one that is not approved', async () => {
    const { dispatcher } = await setup();
    await dispatcher.ok('trips/create', { orderIds: [5000] });
    expect(await dispatcher.call('trips/create', { orderIds: [5001, 5000] })).toMatchObject(
      refusal('conflict', 'Order INV-26000 is already on trip T-000001'),
    );
    expect(await dispatcher.call('trips/create', { orderIds: [5001, 5001] })).toMatchObject(refusal('invalid', 'Order 5001 is picked twice'));
    // 5003 is pending, not approved.
    expect(await dispatcher.call('trips/create', { orderIds: [5003] })).toMatchObject(
      refusal('not_found', 'Order 5003 is not an approved LeafTrade order'),
    );
    expect((await dispatcher.ok('trips/list', {})).rows).toHaveLength(1);
  });

  it('reorders stops, sets driver, vehicle, per-stop times and route, adds and removes stops', async () => {
    const { t, dispatcher } = await setup();
    const trip = await dispatcher.ok('trips/create', { orderIds: THREE });
    const [a, b, c] = trip.stops.map((s) => s.id);
    const dep = t.clock.now() + 2 * HOUR;
    const edited = await dispatcher.ok('trips/update', {
      tripId: trip.id,
      name: 'Tuesday south',
      driverEmployeeId: '002',
      driverName: 'Ben',
      vehicleId: 'V9',
      vehicleName: 'Box truck',
      stopOrder: [c, a, b],
      stops: [{ stopId: a, departureAt: dep, arrivalAt: dep + HOUR, route: 'I-5 south to exit 109' }],
    });
    expect(edited).toMatchObject({ name: 'Tuesday south', driverEmployeeId: '002', driverName: 'Ben', vehicleId: 'V9', vehicleName: 'Box truck' });
    expect(edited.stops.map((s) => s.id)).toEqual([c, a, b]);
    expect(edited.stops[1]).toMatchObject({ position: 2, departureAt: dep, arrivalAt: dep + HOUR, route: 'I-5 south to exit 109' });
    const changed = await dispatcher.ok('trips/update', { tripId: trip.id, removeStopIds: [c], addOrderIds: [5004] });
    expect(changed.stops.map((s) => [s.position, s.orderId])).toEqual([
      [1, 5000],
      [2, 5001],
      [3, 5004],
    ]);
  });

  it('refuses an arrival before the departure and a route order that misses a stop, changing nothing', async () => {
    const { t, dispatcher } = await setup();
    const trip = await dispatcher.ok('trips/create', { orderIds: THREE });
    const [a, b] = trip.stops.map((s) => s.id);
    const dep = t.clock.now() + 2 * HOUR;
    expect(
      await dispatcher.call('trips/update', { tripId: trip.id, stops: [{ stopId: a, departureAt: dep, arrivalAt: dep - 60_000 }] }),
    ).toMatchObject(refusal('invalid', 'Stop 1 (Green Leaf Dispensary): the arrival must be after the departure'));
    expect(await dispatcher.call('trips/update', { tripId: trip.id, stopOrder: [b, a] })).toMatchObject(
      refusal('invalid', 'The new route order must list each stop of the trip once'),
    );
    expect(await dispatcher.ok('trips/get', { tripId: trip.id })).toEqual(trip);
  });

  it('deletes a draft; an executed trip can be neither changed, packed nor deleted', async () => {
    const { t, dispatcher, item } = await setup();
    const first = await dispatcher.ok('trips/create', { orderIds: [5000] });
    expect(await dispatcher.ok('trips/delete', { tripId: first.id })).toEqual({ deleted: true });
    expect(await dispatcher.call('trips/get', { tripId: first.id })).toMatchObject(refusal('not_found', 'No trip'));
    // The order is free again; the deleted trip's number is not given again.
    const trip = await dispatcher.ok('trips/create', { orderIds: [5000] });
    expect(trip.number).toBe('T-000002');
    t.station.database.sqlite.prepare("UPDATE trips SET status = 'executing' WHERE id = ?").run(trip.id);
    const running = 'is being executed: wait until it has finished or stopped';
    expect(await dispatcher.call('trips/update', { tripId: trip.id, name: 'late' })).toMatchObject(refusal('conflict', running));
    expect(await dispatcher.call('trips/pack', { tripId: trip.id, stopId: trip.stops[0].id, barcode: item(6) })).toMatchObject(
      refusal('conflict', running),
    );
    t.station.database.sqlite.prepare("UPDATE trips SET status = 'done' WHERE id = ?").run(trip.id);
    const executed = 'has been executed: it can no longer change';
    expect(await dispatcher.call('trips/update', { tripId: trip.id, name: 'late' })).toMatchObject(refusal('conflict', executed));
    expect(await dispatcher.call('trips/delete', { tripId: trip.id })).toMatchObject(refusal('conflict', executed));
    expect(await dispatcher.call('trips/pack', { tripId: trip.id, stopId: trip.stops[0].id, barcode: item(6) })).toMatchObject(
      refusal('conflict', executed),
    );
  });

  it('audits every change with the trip number', async () => {
    const { t, dispatcher, item } = await setup();
    const trip = await dispatcher.ok('trips/create', { orderIds: [5000] });
    await dispatcher.ok('trips/update', { tripId: trip.id, driverName: 'Ana' });
    const packed = await dispatcher.ok('trips/pack', { tripId: trip.id, stopId: trip.stops[0].id, barcode: item(6) });
    await dispatcher.ok('trips/unpack', { tripId: trip.id, packId: packed.trip.stops[0].packs[0].id });
    await dispatcher.ok('trips/delete', { tripId: trip.id });
    const rows = t.station.database.sqlite
      .prepare("SELECT action, entity_id, username FROM audit_log WHERE action LIKE 'trips.%' ORDER BY id")
      .all() as { action: string; entity_id: string; username: string }[];
    expect(rows).toEqual(
      ['trips.created', 'trips.updated', 'trips.packed', 'trips.unpacked', 'trips.deleted'].map((action) => ({
        action,
        entity_id: 'T-000001',
        username: 'dispatcher1',
      })),
    );
  });
});

describe('trips: packing', () => {
  it("fills the line of the item's product with what it still needs, and the stop completes", async () => {
    const { dispatcher, item } = await setup();
    const trip = await dispatcher.ok('trips/create', { orderIds: [5001] }); // Sour Diesel ×3, OG Kush ×6
    const stopId = trip.stops[0].id;
    // Item 2 is an OG Kush cartridge with 24 left: it fills the OG Kush line (6), not the first line.
    const first = await dispatcher.ok('trips/pack', { tripId: trip.id, stopId, barcode: item(2) });
    expect(first.message).toBe(`Packed 6 of ${item(2)} (OG Kush cartridge) for OG Kush cartridge, stop 1`);
    expect(first.trip.stops[0].lines.map((l) => [l.product, l.packed, l.missing])).toEqual([
      ['Sour Diesel 3.5g', 0, 3],
      ['OG Kush cartridge', 6, 0],
    ]);
    expect(first.trip.stops[0].complete).toBe(false);
    // Item 6 is Blue Dream, which this stop did not order: refused, unless its line is chosen.
    expect(await dispatcher.call('trips/pack', { tripId: trip.id, stopId, barcode: item(6) })).toMatchObject(
      refusal('conflict', `${item(6)} is Blue Dream 1g pre-roll: Stop 1 (Harbor Wellness) ordered none of it. Choose the line it fills`),
    );
    const sourLine = first.trip.stops[0].lines[0].id;
    await dispatcher.ok('trips/pack', { tripId: trip.id, stopId, lineId: sourLine, barcode: item(6), quantity: 1 });
    expect(await dispatcher.call('trips/pack', { tripId: trip.id, stopId, barcode: item(5) })).toMatchObject(
      refusal('conflict', 'Stop 1 (Harbor Wellness) has all the OG Kush cartridge it ordered'),
    );
    const second = await dispatcher.ok('trips/pack', { tripId: trip.id, stopId, barcode: ` ${item(1)} ` });
    expect(second.trip.stops[0]).toMatchObject({ complete: true, lines: [{ missing: 0 }, { missing: 0 }] });
    expect(second.trip.stopsPacked).toBe(1);
    expect(await dispatcher.call('trips/pack', { tripId: trip.id, stopId, barcode: item(7) })).toMatchObject(
      refusal('conflict', 'Stop 1 (Harbor Wellness) has everything it ordered: nothing more to pack'),
    );
  });

  it('refuses an id that is not 16 digits, or not in this location’s inventory, with the reason', async () => {
    const { dispatcher, item } = await setup();
    const trip = await dispatcher.ok('trips/create', { orderIds: [5000] });
    const pack = (barcode: string) => dispatcher.call('trips/pack', { tripId: trip.id, stopId: trip.stops[0].id, barcode });
    expect(await pack('12345')).toMatchObject(refusal('invalid', '12345 is not a BioTrack inventory id: those are 16 digits'));
    expect(await pack('SB00001')).toMatchObject(refusal('invalid', 'SB00001 is not a BioTrack inventory id'));
    expect(await pack('9999999999999999')).toMatchObject(refusal('not_found', "9999999999999999 is not in this location's BioTrack inventory"));
    // Item 9 belongs to another facility of the company; item 16 is deleted.
    expect(await pack(item(9))).toMatchObject(refusal('not_found', `${item(9)} is not in this location's BioTrack inventory`));
    expect(await pack(item(16))).toMatchObject(refusal('not_found', "is not in this location's BioTrack inventory"));
    expect((await dispatcher.ok('trips/get', { tripId: trip.id })).stops[0].packs).toEqual([]);
  });

  it('refuses an id already packed on another stop of the trip, or again on the same stop', async () => {
    const { dispatcher, item } = await setup();
    const trip = await dispatcher.ok('trips/create', { orderIds: [5000, 5002] });
    const [one, two] = trip.stops.map((s) => s.id);
    await dispatcher.ok('trips/pack', { tripId: trip.id, stopId: one, barcode: item(6) });
    expect(await dispatcher.call('trips/pack', { tripId: trip.id, stopId: two, barcode: item(6) })).toMatchObject(
      refusal('conflict', `${item(6)} is already packed on stop 1 (Green Leaf Dispensary): one id goes to one stop`),
    );
    expect(await dispatcher.call('trips/pack', { tripId: trip.id, stopId: one, barcode: item(6) })).toMatchObject(
      refusal('conflict', `${item(6)} is already packed on this stop`),
    );
  });

  it('refuses more than the item has left (other trips’ packs count) and more than the line needs', async () => {
    const { dispatcher, item } = await setup();
    const big = await dispatcher.ok('trips/create', { orderIds: [5002] }); // Sour Diesel ×5 on its third line
    const sourLine = big.stops[0].lines[2];
    // Item 1: Sour Diesel, 17 left.
    expect(
      await dispatcher.call('trips/pack', { tripId: big.id, stopId: big.stops[0].id, lineId: sourLine.id, barcode: item(1), quantity: 6 }),
    ).toMatchObject(refusal('conflict', 'Sour Diesel 3.5g needs only 5 each more on this stop; 6 is too many'));
    const other = await dispatcher.ok('trips/create', { orderIds: [5008] }); // no line items: packed freely
    const free = await dispatcher.ok('trips/pack', { tripId: other.id, stopId: other.stops[0].id, barcode: item(1), quantity: 15 });
    expect(free.trip.stops[0]).toMatchObject({ lines: [], complete: true, packs: [{ barcode: item(1), quantity: 15, lineId: null }] });
    expect(
      await dispatcher.call('trips/pack', { tripId: big.id, stopId: big.stops[0].id, lineId: sourLine.id, barcode: item(1), quantity: 3 }),
    ).toMatchObject(refusal('conflict', `${item(1)} has only 2 left; 3 is more than that`));
    // Without a quantity it takes what is left.
    const rest = await dispatcher.ok('trips/pack', { tripId: big.id, stopId: big.stops[0].id, lineId: sourLine.id, barcode: item(1) });
    expect(rest.trip.stops[0].lines[2]).toMatchObject({ packed: 2, missing: 3 });
  });

  it('unpacking takes the id off so it can be packed on another stop', async () => {
    const { dispatcher, item } = await setup();
    const trip = await dispatcher.ok('trips/create', { orderIds: [5000, 5002] });
    const [one, two] = trip.stops.map((s) => s.id);
    const packed = await dispatcher.ok('trips/pack', { tripId: trip.id, stopId: one, barcode: item(6) });
    const after = await dispatcher.ok('trips/unpack', { tripId: trip.id, packId: packed.trip.stops[0].packs[0].id });
    expect(after.stops[0]).toMatchObject({ packs: [], lines: [{ missing: 2 }] });
    expect((await dispatcher.ok('trips/pack', { tripId: trip.id, stopId: two, barcode: item(6) })).trip.stops[1].packs).toHaveLength(1);
  });
});

describe('trips: roles', () => {
  it('billers read trips but neither create, edit, pack nor delete; dispatchers and admins do', async () => {
    const { t, dispatcher, item } = await setup();
    const biller = await t.signedIn('biller');
    const trip = await dispatcher.ok('trips/create', { orderIds: [5000] });
    expect((await biller.ok('trips/list', {})).rows.map((r) => r.number)).toEqual(['T-000001']);
    expect((await biller.ok('trips/get', { tripId: trip.id })).stops).toHaveLength(1);
    const forbidden = { ok: false, error: { code: 'forbidden' } };
    expect(await biller.call('trips/orders', {})).toMatchObject(forbidden);
    expect(await biller.call('trips/create', { orderIds: [5001] })).toMatchObject(forbidden);
    expect(await biller.call('trips/update', { tripId: trip.id, name: 'x' })).toMatchObject(forbidden);
    expect(await biller.call('trips/pack', { tripId: trip.id, stopId: trip.stops[0].id, barcode: item(6) })).toMatchObject(forbidden);
    expect(await biller.call('trips/unpack', { tripId: trip.id, packId: 1 })).toMatchObject(forbidden);
    expect(await biller.call('trips/delete', { tripId: trip.id })).toMatchObject(forbidden);
    expect(await t.admin.ok('trips/update', { tripId: trip.id, name: 'By the admin' })).toMatchObject({ name: 'By the admin' });
  });
});

describe('trips: the manifest plan', () => {
  it('loadPlan maps a packed trip to the manifest BioTrack takes, stops in route order', async () => {
    const { t, dispatcher, biotrack, item } = await setup(new ManualClock(Date.now()));
    const trip = await dispatcher.ok('trips/create', { orderIds: [5000, 5008], driverEmployeeId: '001', vehicleId: 'V7' });
    const [one, two] = trip.stops.map((s) => s.id);
    const dep = t.clock.now() + 2 * HOUR;
    await dispatcher.ok('trips/update', {
      tripId: trip.id,
      stopOrder: [two, one],
      stops: [
        { stopId: one, departureAt: dep + HOUR, arrivalAt: dep + 2 * HOUR, route: 'US-97 north' },
        { stopId: two, departureAt: dep, arrivalAt: dep + HOUR / 2, route: 'Local roads' },
      ],
    });
    await dispatcher.ok('trips/pack', { tripId: trip.id, stopId: one, barcode: item(6) });
    await dispatcher.ok('trips/pack', { tripId: trip.id, stopId: two, barcode: item(2), quantity: 1 });
    const plan = loadPlan(t.station.database.db, trip.id);
    expect(plan).toEqual({
      tripId: trip.id,
      tripNumber: 'T-000001',
      driverName: '',
      vehicleName: '',
      employeeId: '001',
      vehicleId: 'V7',
      location: biotrack.credentials.location,
      stops: [
        {
          stopId: two,
          orderId: 5008,
          dispensary: 'Green Leaf Dispensary',
          stopNumber: 1,
          vendorLicense: '412000',
          barcodes: [item(2)],
          departure: dep,
          arrival: dep + HOUR / 2,
          route: 'Local roads',
        },
        {
          stopId: one,
          orderId: 5000,
          dispensary: 'Green Leaf Dispensary',
          stopNumber: 2,
          vendorLicense: '412000',
          barcodes: [item(6)],
          departure: dep + HOUR,
          arrival: dep + 2 * HOUR,
          route: 'US-97 north',
        },
      ],
    });
    expect(manifestProblems(plan, t.clock.now())).toEqual([]);
    const client = new BioTrackClient({
      url: biotrack.url,
      now: t.clock.now,
      log: silentLogger,
      readTimeoutMs: 1000,
      sleep: async () => {},
      secrets: fixedSecrets({
        'biotrack.license': biotrack.credentials.license,
        'biotrack.username': biotrack.credentials.username,
        'biotrack.password': biotrack.credentials.password,
      }),
    });
    expect(await createManifest(client, plan, t.clock.now())).toMatch(/^\d{16}$/);
  });

  it('a plan with times not set says so through manifestProblems', async () => {
    const { t, dispatcher } = await setup();
    const trip = await dispatcher.ok('trips/create', { orderIds: [5000] });
    expect(manifestProblems(loadPlan(t.station.database.db, trip.id), t.clock.now())).toEqual([
      'Choose the driver (employee)',
      'Choose the vehicle',
      'Stop 1: the departure time is missing',
      'Stop 1: the arrival time is missing',
      'Stop 1: describe the route',
      'Stop 1: no items',
    ]);
  });
});

describe('trips: executed by the station', () => {
  it('a packed trip executed through the router gets one manifest per stop, and the trip shows the execution as done', async () => {
    const { t, dispatcher, biotrack, item } = await setup(new ManualClock(Date.now()));
    const trip = await dispatcher.ok('trips/create', { orderIds: [5000, 5008], driverEmployeeId: '001', vehicleId: 'V7' });
    const [one, two] = trip.stops.map((s) => s.id);
    const dep = t.clock.now() + 2 * HOUR;
    await dispatcher.ok('trips/update', {
      tripId: trip.id,
      stops: [
        { stopId: one, departureAt: dep, arrivalAt: dep + HOUR, route: 'US-97 north' },
        { stopId: two, departureAt: dep + HOUR, arrivalAt: dep + 2 * HOUR, route: 'Local roads' },
      ],
    });
    await dispatcher.ok('trips/pack', { tripId: trip.id, stopId: one, barcode: item(6) });
    await dispatcher.ok('trips/pack', { tripId: trip.id, stopId: two, barcode: item(2), quantity: 1 });

    await dispatcher.ok('trips/execute', { tripId: trip.id });
    await t.station.tripExecutor.settled(trip.id);
    expect(await dispatcher.ok('trips/execution', { tripId: trip.id })).toMatchObject({ status: 'completed' });
    expect([biotrack.manifestsFor([item(6)]).length, biotrack.manifestsFor([item(2)]).length]).toEqual([1, 1]);
    expect(await dispatcher.ok('trips/get', { tripId: trip.id })).toMatchObject({ status: 'done', executionStatus: 'completed' });
    expect(await dispatcher.call('trips/pack', { tripId: trip.id, stopId: one, barcode: item(7) })).toMatchObject({ ok: false });
  });

  it('a trip refused at stop 2 is fixed there (its time) while stop 1 with its manifest stays as it is, and Retry completes it', async () => {
    const ctx = await setup(new ManualClock(Date.now()));
    const { t, dispatcher, biotrack, item } = ctx;
    const { trip, one, two, dep } = await tripRefusedAtStop2(ctx);
    const failedRun = await dispatcher.ok('trips/execution', { tripId: trip.id });
    expect(failedRun).toMatchObject({ status: 'failed', failedStop: 2, lastError: expect.stringContaining('less than 4 hours') });
    expect(await dispatcher.ok('trips/get', { tripId: trip.id })).toMatchObject({ status: 'failed' });

    // Stop 1 is BioTrack's now: its time, its packs, the driver and the route order stay.
    const m1 = failedRun!.stops[0].manifestId!;
    const stop1 = `Stop 1 (${trip.stops[0].dispensary}) already has BioTrack manifest ${m1}`;
    expect(await dispatcher.call('trips/update', { tripId: trip.id, stops: [{ stopId: one, route: 'I-5' }] })).toMatchObject(
      refusal('conflict', stop1),
    );
    expect(await dispatcher.call('trips/pack', { tripId: trip.id, stopId: one, barcode: item(7) })).toMatchObject(refusal('conflict', stop1));
    const packed1 = (await dispatcher.ok('trips/get', { tripId: trip.id })).stops[0].packs[0].id;
    expect(await dispatcher.call('trips/unpack', { tripId: trip.id, packId: packed1 })).toMatchObject(refusal('conflict', stop1));
    expect(await dispatcher.call('trips/update', { tripId: trip.id, driverEmployeeId: '002' })).toMatchObject(
      refusal('conflict', 'already have their manifests with this driver and vehicle'),
    );
    expect(await dispatcher.call('trips/update', { tripId: trip.id, stopOrder: [two, one] })).toMatchObject(
      refusal('conflict', 'cannot be added, taken off or put in another order'),
    );
    expect(await dispatcher.call('trips/delete', { tripId: trip.id })).toMatchObject(refusal('conflict', 'has been executed'));
    // The editor sends every field again: unchanged values of stop 1 pass.
    const fixed = await dispatcher.ok('trips/update', {
      tripId: trip.id,
      driverEmployeeId: '001',
      stopOrder: [one, two],
      stops: [
        { stopId: one, departureAt: dep, arrivalAt: dep + HOUR, route: 'US-97 north' },
        { stopId: two, departureAt: dep + HOUR, arrivalAt: dep + 2 * HOUR, route: 'Local roads' },
      ],
    });
    expect(fixed.stops[1].departureAt).toBe(dep + HOUR);

    await dispatcher.ok('trips/retry', { tripId: trip.id });
    await t.station.tripExecutor.settled(trip.id);
    const done = await dispatcher.ok('trips/execution', { tripId: trip.id });
    expect(done).toMatchObject({ status: 'completed', stopsDone: 2 });
    expect(done!.stops[0].manifestId).toBe(m1);
    expect([biotrack.manifestsFor([item(6)]).length, biotrack.manifestsFor([item(2)]).length]).toEqual([1, 1]);
    expect(await dispatcher.ok('trips/get', { tripId: trip.id })).toMatchObject({ status: 'done' });
  });

  it('mails the trip’s end once per run: a stop refused with BioTrack’s words, then, after Retry, every manifest id', async () => {
    const server = new TestSmtpServer();
    await server.start();
    onRelease(() => server.stop());
    const ctx = await setup(new ManualClock(Date.now()));
    const { t, dispatcher } = ctx;
    await mailTo(t, server);
    const { trip, two, dep } = await tripRefusedAtStop2(ctx);
    await t.station.sync.drain(MAIL_UPSTREAM);
    expect(server.received).toHaveLength(1);
    const failedMail = server.received[0].parsed;
    expect(failedMail.subject).toBe(`Trip ${trip.number} stopped at stop 2: it needs a fix and Retry`);
    expect(failedMail.text).toContain('less than 4 hours from the current time');
    expect(failedMail.text).toContain('Driver: Ana (001) · Vehicle: Van 7 (V7)');
    expect(server.received[0].envelopeTo).toEqual(['dispatch@example.com']);

    await dispatcher.ok('trips/update', { tripId: trip.id, stops: [{ stopId: two, departureAt: dep + HOUR, arrivalAt: dep + 2 * HOUR }] });
    await dispatcher.ok('trips/retry', { tripId: trip.id });
    await t.station.tripExecutor.settled(trip.id);
    await t.station.sync.drain(MAIL_UPSTREAM);
    await t.station.sync.drain(MAIL_UPSTREAM);
    const run = (await dispatcher.ok('trips/execution', { tripId: trip.id }))!;
    expect(server.received.map((m) => m.parsed.subject)).toEqual([failedMail.subject, `Trip ${trip.number} executed: 2 BioTrack manifests created`]);
    const doneText = server.received[1].parsed.text ?? '';
    for (const s of run.stops) expect(doneText).toContain(`manifest ${s.manifestId}`);
    expect(doneText.indexOf(`manifest ${run.stops[0].manifestId}`)).toBeLessThan(doneText.indexOf(`manifest ${run.stops[1].manifestId}`));
    expect(doneText).toMatch(/^1\. .*\n2\. /m);
  });

  it('a trip completes while the mail server is down; its mail waits in the outbox', async () => {
    const server = new TestSmtpServer();
    await server.start();
    const { t, dispatcher, item } = await setup(new ManualClock(Date.now()));
    await mailTo(t, server, false);
    await server.stop();
    const trip = await dispatcher.ok('trips/create', { orderIds: [5000], driverEmployeeId: '001', vehicleId: 'V7' });
    const dep = t.clock.now() + 2 * HOUR;
    await dispatcher.ok('trips/update', {
      tripId: trip.id,
      stops: [{ stopId: trip.stops[0].id, departureAt: dep, arrivalAt: dep + HOUR, route: 'US-97' }],
    });
    await dispatcher.ok('trips/pack', { tripId: trip.id, stopId: trip.stops[0].id, barcode: item(6) });
    await dispatcher.ok('trips/execute', { tripId: trip.id });
    await t.station.tripExecutor.settled(trip.id);
    await t.station.sync.drain(MAIL_UPSTREAM);
    expect(await dispatcher.ok('trips/execution', { tripId: trip.id })).toMatchObject({ status: 'completed' });
    expect(await t.admin.ok('mail/status', {})).toMatchObject({ waiting: 1, sent: 0, lastError: 'Mail server not reachable' });
  });
});
