import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pdfText as pdfTextOf } from '../support/pdf';
import type { ExportedFile } from '../../src/shared/contract/bills';
import { chromiumPdf } from '../../src/main/trips/chromium-pdf';
import { manifestTime } from '../../src/main/trips/manifest-page';
import { startBioTrackSimulator } from '../../src/simulators/biotrack';
import { startLeafTradeSimulator } from '../../src/simulators/leaftrade';
import { onRelease, releaseAll } from '../support/cleanup';
import { ManualClock, tempDir, withAdmin } from '../support/station';
import { connectBioTrack } from '../support/trip-execution';

afterEach(releaseAll);

const HOUR = 3_600_000;
/** Chromium renders a manifest in a second or two; the limit only stops a hung test, it measures nothing. */
const GENEROUS = 180_000;

async function setup() {
  const [leaftrade, biotrack] = await Promise.all([startLeafTradeSimulator(), startBioTrackSimulator()]);
  onRelease(() => Promise.all([leaftrade.close(), biotrack.close()]));
  // BioTrack's simulator checks departures against the real clock, so the station starts at the real time.
  const upstreams = { leaftrade: { url: leaftrade.url, readTimeoutMs: 1000 }, biotrack: { url: biotrack.url, readTimeoutMs: 1000 } };
  const t = await withAdmin({ upstreams, syncIntervalMs: 0, clock: new ManualClock(Date.now()) });
  await connectBioTrack(t.admin, biotrack.credentials);
  await t.admin.ok('settings/update', { stationName: 'Dock <1>' });
  await t.admin.ok('sync/set-credential', { name: 'leaftrade.token', value: leaftrade.token });
  const dispatcher = await t.signedIn('dispatcher');
  const biller = await t.signedIn('biller');
  return { t, dispatcher, biller, item: (i: number) => biotrack.inventory[i].id };
}

/** The file's PDF text. */
const pdfText = (file: ExportedFile) => pdfTextOf(new Uint8Array(Buffer.from(file.base64, 'base64')));

describe('the trip manifest PDF', () => {
  it(
    'an executed trip’s PDF, for a dispatcher and a biller, carries the trip, driver, vehicle, stops in route order, times, items and manifest ids',
    async () => {
      const { t, dispatcher, biller, item } = await setup();
      // Orders 5000 Green Leaf (Blue Dream ×2), 5001 Harbor Wellness (OG Kush ×6 …), 5002 Summit Cannabis Co.
      const trip = await dispatcher.ok('trips/create', {
        orderIds: [5000, 5001, 5002],
        name: 'Thursday <south>',
        driverEmployeeId: '001',
        driverName: 'Dana Driver',
        vehicleId: 'V7',
        vehicleName: 'Sprinter 2',
      });
      const [green, harbor, summit] = trip.stops.map((s) => s.id);
      const dep = t.clock.now() + 2 * HOUR;
      // Route order differs from the order picked: Summit, Green Leaf, Harbor.
      await dispatcher.ok('trips/update', {
        tripId: trip.id,
        stopOrder: [summit, green, harbor],
        stops: [
          { stopId: summit, departureAt: dep, arrivalAt: dep + HOUR / 2, route: 'I-5 south' },
          { stopId: green, departureAt: dep + HOUR, arrivalAt: dep + 2 * HOUR, route: 'US-97 north' },
          { stopId: harbor, departureAt: dep + 3 * HOUR, arrivalAt: dep + 4 * HOUR, route: 'Local roads' },
        ],
      });
      await dispatcher.ok('trips/pack', { tripId: trip.id, stopId: green, barcode: item(6) });
      await dispatcher.ok('trips/pack', { tripId: trip.id, stopId: harbor, barcode: item(2) });
      await dispatcher.ok('trips/pack', { tripId: trip.id, stopId: summit, barcode: item(5) });
      await dispatcher.ok('trips/execute', { tripId: trip.id });
      await t.station.tripExecutor.settled(trip.id);
      const execution = await dispatcher.ok('trips/execution', { tripId: trip.id });
      expect(execution).toMatchObject({ status: 'completed' });
      const manifestIds = execution!.stops.map((s) => s.manifestId!);
      for (const id of manifestIds) expect(id).toMatch(/^\d{16}$/);

      for (const w of [dispatcher, biller]) {
        const file = await w.ok('trips/manifest-pdf', { tripId: trip.id });
        expect(file.mimeType).toBe('application/pdf');
        expect(file.fileName).toMatch(/^trip-T-000001-manifest-\d{8}-\d{4}\.pdf$/);
        const text = await pdfText(file);
        expect(text).toContain('Trip T-000001');
        expect(text).toContain('Thursday <south>');
        expect(text).toContain('Dana Driver (BioTrack employee 001)');
        expect(text).toContain('Sprinter 2 (id V7)');
        expect(text).toContain(t.station.settings.get().biotrackLocation);
        expect(text).toContain('Printed ');
        expect(text).toContain('at Dock <1>');
        // Stops in route order, each with its manifest id after its name and before the next stop.
        const order = ['Stop 1 Summit Cannabis Co', 'Stop 2 Green Leaf Dispensary', 'Stop 3 Harbor Wellness'].map((s) => text.indexOf(s));
        expect(order.every((i) => i >= 0)).toBe(true);
        expect([...order].sort((a, b) => a - b)).toEqual(order);
        manifestIds.forEach((id, i) => {
          const at = text.indexOf(id);
          expect(at).toBeGreaterThan(order[i]);
          if (i + 1 < order.length) expect(at).toBeLessThan(order[i + 1]);
        });
        for (const id of [item(5), item(6), item(2)]) expect(text).toContain(id);
        expect(text.indexOf(item(5))).toBeLessThan(text.indexOf(item(6)));
        expect(text.indexOf(item(6))).toBeLessThan(text.indexOf(item(2)));
        for (const at of [dep, dep + HOUR / 2, dep + HOUR, dep + 4 * HOUR]) expect(text).toContain(manifestTime(at));
        for (const route of ['I-5 south', 'US-97 north', 'Local roads']) expect(text).toContain(route);
      }
      // The page, the PDF and Chromium's profile went with each render; the folder stays the station's own.
      const tmp = path.join(t.dataDir, 'tmp');
      expect(fs.readdirSync(tmp)).toEqual([]);
      expect(fs.statSync(tmp).mode & 0o777).toBe(0o700);
    },
    GENEROUS,
  );

  it('refuses a trip never executed, in words, and printing in the browser host', async () => {
    const { t, dispatcher, biller } = await setup();
    const trip = await dispatcher.ok('trips/create', { orderIds: [5000] });
    expect(await dispatcher.call('trips/manifest-pdf', { tripId: trip.id })).toMatchObject({
      ok: false,
      error: { code: 'conflict', message: expect.stringContaining("Execute the trip first: the manifest carries BioTrack's manifest ids") },
    });
    expect(await dispatcher.call('trips/print-manifest', { tripId: trip.id })).toMatchObject({
      ok: false,
      error: { code: 'unavailable', message: 'Printing needs the desktop app; download the PDF here and print it' },
    });
    expect(await biller.call('trips/print-manifest', { tripId: trip.id })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await biller.call('trips/manifest-pdf', { tripId: 999 })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(t.station.settings.get().printer).toBe('');
  });

  it('prints on the station’s chosen printer where the shell gives a printer, and audits it', async () => {
    const printed: { html: string; printer: string }[] = [];
    const leaftrade = await startLeafTradeSimulator();
    onRelease(() => leaftrade.close());
    const t = await withAdmin({
      upstreams: { leaftrade: { url: leaftrade.url, readTimeoutMs: 1000 } },
      syncIntervalMs: 0,
      print: async (html, printer) => void printed.push({ html, printer }),
    });
    await t.admin.ok('sync/set-credential', { name: 'leaftrade.token', value: leaftrade.token });
    const dispatcher = await t.signedIn('dispatcher');
    const trip = await dispatcher.ok('trips/create', { orderIds: [5000], driverName: 'Dana Driver' });
    // An execution row with a refused stop, written as the executor would have, without BioTrack.
    t.station.database.sqlite
      .prepare(
        `INSERT INTO trip_executions (trip_id, status, step, stops_total, stops_done, attempts, created_at, updated_at) VALUES (?, 'failed', 2, 1, 0, 1, 0, 0)`,
      )
      .run(trip.id);
    expect(await t.admin.call('settings/update', { printer: 'Dock\nprinter' })).toMatchObject({ ok: false, error: { code: 'invalid' } });
    await t.admin.ok('settings/update', { printer: 'Dock Laser 4' });
    expect(await dispatcher.ok('trips/print-manifest', { tripId: trip.id })).toEqual({ printed: true });
    expect(printed).toHaveLength(1);
    expect(printed[0].printer).toBe('Dock Laser 4');
    expect(printed[0].html).toContain('Dana Driver');
    expect(printed[0].html).toContain('No manifest yet');
    const audit = t.station.database.sqlite.prepare(`SELECT username, detail FROM audit_log WHERE action = 'trips.manifest_printed'`).all();
    expect(audit).toEqual([{ username: 'dispatcher1', detail: 'Dock Laser 4' }]);
  });

  it('says in words when there is no Chromium, or it fails, writes no PDF, or hangs; the temp folder is always removed', async () => {
    const dir = tempDir();
    const tmpDir = path.join(dir, 'tmp');
    const missing = chromiumPdf({ tmpDir, executable: path.join(dir, 'no-chromium') });
    await expect(missing('<p>x</p>')).rejects.toMatchObject({
      code: 'unavailable',
      message: expect.stringContaining('No Chromium to make the PDF with'),
    });

    /** A stand-in for Chromium: a shell script, run with the same arguments. */
    const fake = (name: string, body: string, timeoutMs = 60_000) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o700 });
      return chromiumPdf({ tmpDir, executable: file, timeoutMs });
    };
    await expect(
      fake('crash', 'echo "[1:1:ERROR:dbus/bus.cc] noise" >&2; echo "Missing X server or display" >&2; exit 1')('<p>x</p>'),
    ).rejects.toMatchObject({
      code: 'unavailable',
      message: 'Chromium could not make the PDF: Missing X server or display',
    });
    await expect(fake('silent', 'exit 0')('<p>x</p>')).rejects.toMatchObject({
      code: 'unavailable',
      message: 'Chromium ended without writing the PDF',
    });
    const notPdf = fake('not-pdf', 'for a in "$@"; do case "$a" in --print-to-pdf=*) echo "<html>" > "${a#--print-to-pdf=}";; esac; done');
    await expect(notPdf('<p>x</p>')).rejects.toMatchObject({ message: 'Chromium wrote something that is not a PDF' });
    // A hang: the script and its child are killed together (own process group), not left behind.
    const pidFile = path.join(dir, 'child.pid');
    const hang = fake('hang', `sleep 600 & echo $! > '${pidFile}'; wait`, 3_000);
    await expect(hang('<p>x</p>')).rejects.toMatchObject({ code: 'unavailable', message: expect.stringContaining('did not finish the PDF') });
    // On a machine too loaded to start the script within the 3 s, there is no child to look for.
    const child = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8')) : null;
    if (child) await expect.poll(() => alive(child), { timeout: 30_000 }).toBe(false);
    expect(fs.readdirSync(tmpDir)).toEqual([]);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
