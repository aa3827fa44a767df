import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import type { InventoryItem } from '../../src/shared/contract/biotrack';
import { startBioTrackSimulator } from '../../src/simulators/biotrack';
import { onRelease, releaseAll } from '../support/cleanup';
import { exportFile } from '../support/exports';
import { withAdmin } from '../support/station';

afterEach(releaseAll);

/** A station with BioTrack set up against a simulator of 60 items (some with a 0-led id). */
async function setup() {
  const sim = await startBioTrackSimulator();
  onRelease(() => sim.close());
  // An id with leading zeros (as in BioTrack's own samples): files must keep them.
  sim.inventory[2].id = '0000000090000033';
  const t = await withAdmin({ upstreams: { biotrack: { url: sim.url, readTimeoutMs: 1000 } }, syncIntervalMs: 0 });
  await t.admin.ok('settings/update', { idleLockMinutes: 240, biotrackLocation: sim.credentials.location });
  for (const [name, value] of [
    ['biotrack.license', sim.credentials.license],
    ['biotrack.username', sim.credentials.username],
    ['biotrack.password', sim.credentials.password],
  ] as const)
    await t.admin.ok('sync/set-credential', { name, value });
  return { sim, t };
}

const liveHere = (sim: Awaited<ReturnType<typeof startBioTrackSimulator>>) =>
  sim.inventory.filter((i) => i.location === sim.credentials.location && String(i.deleted) !== '1');

const total = (items: InventoryItem[]) => ({
  items: items.length,
  quantity: Math.round(items.reduce((n, i) => n + (i.quantity ?? 0), 0) * 1000) / 1000,
});

/** The file name the station gives at its clock's local time. */
function stamped(ms: number, ext: string) {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `inventory-${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}-${two(d.getHours())}${two(d.getMinutes())}.${ext}`;
}

describe('Reports → Inventory', () => {
  it('lists every item of this facility with quantity, product, room name and room id, and the lab columns', async () => {
    const { sim, t } = await setup();
    const r = await t.admin.ok('biotrack/inventory-report', { limit: 500 });
    expect(r.rows.map((i) => i.barcode).sort()).toEqual(
      liveHere(sim)
        .map((i) => i.id)
        .sort(),
    );
    expect(r.rows.find((i) => i.barcode === sim.inventory[1].id)).toMatchObject({
      product: 'Sour Diesel 3.5g',
      quantity: 17,
      roomId: '2',
      room: 'Packaging',
      labResult: 'passed',
      total: 15.5,
      thca: 0.2,
      thc: 15.125,
      cbda: 0,
      cbd: 0.02,
    });
    expect(r.rows.find((i) => i.barcode === sim.inventory[5].id)).toMatchObject({ roomId: null, room: null });
    expect(r.rooms).toEqual([
      { id: '2', name: 'Packaging' },
      { id: '3', name: 'Shipping dock' },
      { id: '1', name: 'Vault' },
    ]);
    // Room name, then product: items without a room come last.
    expect(r.rows.at(-1)!.room).toBeNull();
    expect(r.rows[0].room).toBe('Packaging');
  });

  it('totals count and quantity of all items, of those with lab data and of those without', async () => {
    const { t } = await setup();
    const { items } = await t.admin.ok('biotrack/inventory', {});
    const r = await t.admin.ok('biotrack/inventory-report', {});
    expect(r.totals).toEqual({
      all: total(items),
      withLab: total(items.filter((i) => i.labResult !== null)),
      withoutLab: total(items.filter((i) => i.labResult === null)),
    });
    expect(r.totals.withLab.items).toBeGreaterThan(0);
    expect(r.totals.withoutLab.items).toBeGreaterThan(0);
    expect(r.totals.withLab.items + r.totals.withoutLab.items).toBe(r.totals.all.items);
  });

  it('filters by room id, by product, strain or barcode text and by lab data, and pages', async () => {
    const { sim, t } = await setup();
    const vault = await t.admin.ok('biotrack/inventory-report', { room: '1', limit: 500 });
    expect(vault.rows.length).toBeGreaterThan(0);
    expect(vault.rows.every((i) => i.roomId === '1' && i.room === 'Vault')).toBe(true);
    expect(vault.matching.items).toBe(vault.rows.length);
    const diesel = await t.admin.ok('biotrack/inventory-report', { search: 'diesel', limit: 500 });
    expect(diesel.rows.every((i) => /diesel/i.test(`${i.product} ${i.strain}`))).toBe(true);
    expect((await t.admin.ok('biotrack/inventory-report', { search: sim.inventory[1].id })).rows.map((i) => i.barcode)).toEqual([
      sim.inventory[1].id,
    ]);
    const without = await t.admin.ok('biotrack/inventory-report', { lab: 'without', limit: 500 });
    expect(without.rows.every((i) => i.labResult === null)).toBe(true);
    expect(without.matching).toEqual(without.totals.withoutLab);
    const page2 = await t.admin.ok('biotrack/inventory-report', { offset: 10, limit: 10 });
    const all = await t.admin.ok('biotrack/inventory-report', { limit: 500 });
    expect(page2.rows).toEqual(all.rows.slice(10, 20));
  });

  it('a biller and a dispatcher see the report too', async () => {
    const { t } = await setup();
    for (const role of ['biller', 'dispatcher'] as const) {
      const w = await t.signedIn(role);
      expect((await w.ok('biotrack/inventory-report', {})).totals.all.items).toBeGreaterThan(0);
    }
  });
});

describe('lab lookup for one barcode', () => {
  it('shows the potency of the sample inventory_qa_check answers for the item', async () => {
    const { sim, t } = await setup();
    const r = await t.admin.ok('biotrack/lab-lookup', { barcode: sim.inventory[1].id });
    expect(r).toMatchObject({
      lab: { labResult: 'passed', sampleId: '2025700000000001', total: 15.5, thc: 15.125, thca: 0.2, cbda: 0, cbd: 0.02 },
      noDataReason: null,
      fromCache: false,
    });
    expect(sim.calls.slice(-2)).toEqual(['inventory_qa_check_all', 'inventory_qa_check']);
    expect(sim.bodies.at(-1)).toMatchObject({ action: 'inventory_qa_check', sample_id: '2025700000000001' });
  });

  it('an item qa_check_all answers `false` for has no lab data', async () => {
    const { sim, t } = await setup();
    const r = await t.admin.ok('biotrack/lab-lookup', { barcode: sim.inventory[3].id });
    expect(r).toMatchObject({ lab: null, noDataReason: 'BioTrack has no lab results for this item.', fromCache: false });
    expect(sim.calls.at(-1)).toBe('inventory_qa_check_all');
  });

  it('a result not filed yet (inventory_qa_check refuses with 602) is no lab data, in BioTrack’s words', async () => {
    const { sim, t } = await setup();
    const r = await t.admin.ok('biotrack/lab-lookup', { barcode: sim.inventory[0].id }); // result 0: pending
    expect(r).toMatchObject({ lab: null, noDataReason: 'Test results have not yet been filed.' });
  });

  it('refuses a barcode that is not 16 digits, in words', async () => {
    const { t } = await setup();
    expect(await t.admin.call('biotrack/lab-lookup', { barcode: '12345' })).toMatchObject({
      ok: false,
      error: { code: 'invalid', message: expect.stringContaining('16 digits') },
    });
  });
});

describe('when BioTrack is down', () => {
  it('the report and the lookup come from the cache with its age and the reason', async () => {
    const { sim, t } = await setup();
    const fresh = await t.admin.ok('biotrack/inventory-report', {});
    sim.faults.unavailable = 1000;
    t.clock.advance(30 * 60_000);
    const r = await t.admin.ok('biotrack/inventory-report', {});
    expect(r).toMatchObject({ fromCache: true, fetchedAt: fresh.fetchedAt, warning: 'BioTrack is unavailable (503)', totals: fresh.totals });
    expect(r.ageSeconds).toBeGreaterThanOrEqual(1800);
    const lookup = await t.admin.ok('biotrack/lab-lookup', { barcode: sim.inventory[1].id });
    expect(lookup).toMatchObject({ fromCache: true, fetchedAt: fresh.fetchedAt, lab: { thc: 15.125 }, warning: expect.stringContaining('BioTrack') });
    const none = await t.admin.ok('biotrack/lab-lookup', { barcode: sim.inventory[3].id });
    expect(none).toMatchObject({ fromCache: true, lab: null });
  });
});

describe('inventory files', () => {
  it('CSV: named inventory-YYYY-MM-DD-HHMM.csv; Item ID, Room ID and Barcode ID kept as text with their leading zeros', async () => {
    const { sim, t } = await setup();
    const dock = await t.signedIn('dispatcher');
    const file = await exportFile(dock, 'inventory', 'csv');
    expect(file.name).toBe(stamped(t.clock.now(), 'csv'));
    const cells = parse(file.bytes.toString('utf8').replace(/^\uFEFF/, '')) as string[][];
    expect(cells[0]).toEqual([
      'Item ID',
      'Product',
      'Strain',
      'Quantity',
      'Room ID',
      'Room',
      'Lab result',
      'Barcode ID',
      'Total %',
      'THCA %',
      'THC %',
      'CBDA %',
      'CBD %',
    ]);
    expect(cells).toHaveLength(liveHere(sim).length + 1);
    const zeroLed = cells.find((c) => c[0].endsWith('0000000090000033'))!;
    // The apostrophe tells a spreadsheet "text": no 9.00E+07, no lost zeros.
    // (Its lab entry is under the id it had before: no lab data.)
    expect(zeroLed).toEqual(["'0000000090000033", 'OG Kush cartridge', 'OG Kush', '24', "'3", 'Shipping dock', '', '', '', '', '', '', '']);
    const tested = cells.find((c) => c[0] === `'${sim.inventory[1].id}`)!;
    expect(tested.slice(3)).toEqual(['17', "'2", 'Packaging', 'passed', "'2025700000000001", '15.5', '0.2', '15.125', '0', '0.02']);
  });

  it('XLSX: the same columns, ids as text cells, quantities and percentages as numbers', async () => {
    const { sim, t } = await setup();
    const file = await exportFile(t.admin, 'inventory', 'xlsx');
    expect(file.name).toBe(stamped(t.clock.now(), 'xlsx'));
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(file.bytes as unknown as ArrayBuffer);
    const ws = wb.worksheets[0];
    const rows = ws.getRows(2, ws.rowCount - 1)!;
    const zeroLed = rows.find((r) => r.getCell(1).value === '0000000090000033')!;
    expect([zeroLed.getCell(1).type, zeroLed.getCell(5).type]).toEqual([ExcelJS.ValueType.String, ExcelJS.ValueType.String]);
    expect(zeroLed.getCell(5).value).toBe('3');
    expect(zeroLed.getCell(4).value).toBe(24);
    const tested = rows.find((r) => r.getCell(1).value === sim.inventory[1].id)!;
    expect(tested.getCell(8).type).toBe(ExcelJS.ValueType.String);
    expect(tested.getCell(8).value).toBe('2025700000000001');
    expect(tested.getCell(8).numFmt).toBe('@');
    expect(tested.getCell(11).value).toBe(15.125);
  });
});
