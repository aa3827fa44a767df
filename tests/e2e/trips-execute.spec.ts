import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { startBioTrackSimulator, type BioTrackSimulator } from '../../src/simulators/biotrack';
import type { TripView } from '../../src/shared/contract/trips';
import { pdfText } from '../support/pdf';
import { TestSmtpServer } from '../support/smtp';
import { connectWs } from '../support/ws-client';
import { layoutProblems } from './layout-check';
import { expect, screenshot, signIn, signInOverTransport, StationProcess, test, wedgeScan } from './fixtures';

/**
 * Executing trips against a BioTrack simulator of the test's own (the demo's LeafTrade stays):
 * the test holds BioTrack's answers open to leave the screen mid-execution, or to kill the
 * station in the middle of a manifest call, and counts the manifests BioTrack made per stop.
 */

test.use({ viewport: { width: 1366, height: 768 } });

/** The BioTrack simulator's inventory id of item i (the same seed as the demo's). */
const item = (i: number) => `2026${String(100000000000 + i)}`;
/** Orders INV-26000..26002 (Green Leaf, Harbor Wellness, Summit) and the items that fill them. */
const ORDERS = [5000, 5001, 5002];
const FILL = [[6], [2, 1], [5, 3, 7]];

interface Setup {
  sim: BioTrackSimulator;
  smtp: TestSmtpServer;
  host: StationProcess;
  dataDir: string;
  /** Holds every manifest call after BioTrack created it, until `release`. */
  hold: () => void;
  release: () => void;
}

const open: Setup[] = [];
test.afterEach(async () => {
  for (const s of open.splice(0)) {
    s.release();
    await s.host.kill();
    await s.sim.close();
    await s.smtp.stop();
    fs.rmSync(s.dataDir, { recursive: true, force: true });
  }
});

type Invoke = (channel: string, payload: unknown) => Promise<{ ok: boolean; value?: unknown; error?: { message: string } }>;
async function ok<T>(invoke: Invoke, channel: string, payload: unknown): Promise<T> {
  const r = await invoke(channel, payload);
  if (!r.ok) throw new Error(`${channel}: ${r.error?.message}`);
  return r.value as T;
}

/** The demo station pointed at this test's BioTrack, with its credentials and a mail server set up by the admin. */
async function stationWithBioTrack(): Promise<Setup> {
  const sim = await startBioTrackSimulator();
  const smtp = new TestSmtpServer();
  await smtp.start();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dockside-trip-e2e-'));
  const host = new StationProcess(dataDir, ['--demo', '--biotrack-upstream', sim.url]);
  let release = () => {};
  const setup: Setup = {
    sim,
    smtp,
    host,
    dataDir,
    hold: () => {
      sim.faults.manifestGate = new Promise<void>((resolve) => (release = resolve));
    },
    release: () => {
      sim.faults.manifestGate = null;
      release();
    },
  };
  open.push(setup);
  await host.start();
  const ws = await connectWs(host.url);
  await signInOverTransport(ws.invoke, host.url, 'admin', 'dockside-admin');
  const invoke = ws.invoke as Invoke;
  await ok(invoke, 'settings/update', { biotrackLocation: sim.credentials.location });
  await ok(invoke, 'sync/set-credential', { name: 'biotrack.license', value: sim.credentials.license });
  await ok(invoke, 'sync/set-credential', { name: 'biotrack.username', value: sim.credentials.username });
  await ok(invoke, 'sync/set-credential', { name: 'biotrack.password', value: sim.credentials.password });
  await ok(invoke, 'mail/update-settings', {
    host: '127.0.0.1',
    port: smtp.port,
    security: 'none',
    user: smtp.user,
    from: 'dock@example.com',
    recipients: 'dispatch@example.com',
  });
  await ok(invoke, 'mail/set-password', { password: smtp.password });
  await ws.close();
  return setup;
}

/** A datetime-local value `days` days and `hours` hours from now, in this machine's time (the browser's). */
function local(days: number, hours: number): string {
  const d = new Date(Date.now() + days * 86_400_000);
  d.setHours(hours, 0, 0, 0);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

const manifestsPerStop = (sim: BioTrackSimulator) => FILL.map((ids) => sim.manifestsFor(ids.map(item)).length);
const manifestCalls = (sim: BioTrackSimulator) => sim.bodies.filter((b) => b.action === 'inventory_manifest').length;

async function toTrips(page: Page) {
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: /Trips/ }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Trips' })).toBeVisible();
}

/** Trip T-000001 of the three orders, packed, made over the station's socket; stop i leaves `days[i]` days from now. */
async function packedTripOverSocket(s: Setup, days: number[]): Promise<TripView> {
  const ws = await connectWs(s.host.url);
  await signInOverTransport(ws.invoke, s.host.url, 'dock1', '3917');
  const invoke = ws.invoke as Invoke;
  const trip = await ok<TripView>(invoke, 'trips/create', { orderIds: ORDERS, driverEmployeeId: '001', vehicleId: 'V7', driverName: 'Ana Ruiz' });
  await ok(invoke, 'trips/update', {
    tripId: trip.id,
    stops: trip.stops.map((st, i) => {
      const at = Date.now() + days[i] * 86_400_000 + i * 3_600_000;
      return { stopId: st.id, departureAt: at, arrivalAt: at + 1_800_000, route: 'I-5' };
    }),
  });
  for (const [n, ids] of FILL.entries())
    for (const i of ids) await ok(invoke, 'trips/pack', { tripId: trip.id, stopId: trip.stops[n].id, barcode: item(i) });
  await ws.close();
  return trip;
}

/** The dispatcher signs in and opens T-000001's execution view. */
async function openToExecute(page: Page, s: Setup): Promise<void> {
  await page.goto(s.host.url);
  await signIn(page, 'dock1', '3917');
  await toTrips(page);
  await page.locator('tr[data-trip="T-000001"]').getByRole('button', { name: 'Execute' }).click();
}

test('a dispatcher executes a packed 3-stop trip, leaves the screen while it runs, comes back to it complete, downloads its manifest PDF, and the mail arrives', async ({
  page,
}) => {
  test.setTimeout(180_000);
  const s = await stationWithBioTrack();
  await page.goto(s.host.url);
  await signIn(page, 'dock1', '3917');
  await toTrips(page);

  // Create: three approved orders, driver and vehicle, tomorrow's times and routes.
  await page.getByRole('button', { name: 'New trip' }).click();
  for (const invoice of ['INV-26000', 'INV-26001', 'INV-26002']) await page.getByLabel(`Pick order ${invoice}`).check();
  await page.getByRole('button', { name: 'Create trip with 3 stops' }).click();
  await expect(page.getByRole('heading', { name: 'Edit T-000001' })).toBeVisible();
  await page.getByLabel("Driver's BioTrack id").fill('001');
  await page.getByLabel("Driver's name").fill('Ana Ruiz');
  await page.getByLabel("Vehicle's BioTrack id").fill('V7');
  await page.getByLabel('Vehicle', { exact: true }).fill('Van 7');
  const stops = page.getByRole('list', { name: 'Stops' }).locator('li.stop-edit');
  for (let i = 0; i < 3; i++) {
    await stops
      .nth(i)
      .getByLabel('Departure')
      .fill(local(1, 9 + i));
    await stops
      .nth(i)
      .getByLabel('Arrival')
      .fill(local(1, 10 + i));
    await stops
      .nth(i)
      .getByLabel('Route')
      .fill(`Leg ${i + 1}: I-5 south`);
  }
  await page.getByRole('button', { name: 'Save trip' }).click();
  await expect(page.getByRole('status')).toHaveText('Saved T-000001');
  await page.getByRole('button', { name: 'Back to trips' }).click();

  // Pack: wedge scans, stop by stop.
  await page.locator('tr[data-trip="T-000001"]').getByRole('button', { name: 'Pack' }).click();
  for (const [n, ids] of FILL.entries()) {
    await page.getByRole('list', { name: 'Stops' }).getByRole('button').nth(n).click();
    for (const i of ids) await wedgeScan(page, item(i));
    await expect(page.getByTestId(`stop-state-${n + 1}`)).toHaveText('Complete');
  }

  // Execute, with BioTrack holding its first answer: the job is mid-call.
  s.hold();
  await page.getByRole('button', { name: 'Execute trip' }).click();
  const message = page.getByTestId('run-message');
  await expect(message).toHaveText('Creating the manifest for stop 1 of 3');
  await expect(page.getByRole('progressbar', { name: 'Manifests created' })).toHaveAttribute('aria-valuenow', '0');
  await screenshot(page, 'trips-executing-1366x768');
  expect(await layoutProblems(page)).toEqual([]);

  // Away on the Scan screen the rail still shows where it got.
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: /Scan/ }).click();
  await expect(page.getByTestId('trip-rail-note')).toHaveText('0 of 3');
  await screenshot(page, 'trips-rail-progress-1366x768');
  expect(await layoutProblems(page)).toEqual([]);
  s.release();
  await expect(page.getByTestId('trip-rail-note')).toHaveText('Done');

  // Back on Trips: the trip is done, every stop with its manifest id.
  await toTrips(page);
  const row = page.locator('tr[data-trip="T-000001"]');
  await expect(row.locator('.status-chip')).toHaveText('Done');
  await row.getByRole('button', { name: 'Open' }).click();
  await expect(message).toHaveText('All 3 manifests created');
  await expect(page.getByRole('progressbar', { name: 'Manifests created' })).toHaveAttribute('aria-valuenow', '3');
  for (let n = 1; n <= 3; n++) await expect(page.getByTestId(`manifest-${n}`)).toContainText(/Created\s*7288\d{12}/);
  expect(manifestsPerStop(s.sim)).toEqual([1, 1, 1]);
  await screenshot(page, 'trips-executed-1366x768');
  expect(await layoutProblems(page)).toEqual([]);
  await page.setViewportSize({ width: 1920, height: 1080 });
  await screenshot(page, 'trips-executed-1920x1080');
  expect(await layoutProblems(page)).toEqual([]);

  // The manifest PDF: stops in route order, driver, vehicle, every manifest id.
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Manifest PDF' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^trip-T-000001-manifest-\d{8}-\d{4}\.pdf$/);
  await expect(page.getByRole('status').filter({ hasText: `Saved ${file.suggestedFilename()}` })).toBeVisible();
  const pdf = await pdfText(new Uint8Array(fs.readFileSync(await file.path())));
  expect(pdf).toContain('T-000001');
  expect(pdf).toContain('Ana Ruiz');
  expect(pdf).toContain('Van 7');
  const at = ['Green Leaf Dispensary', 'Harbor Wellness', 'Summit Cannabis Co'].map((d) => pdf.indexOf(d));
  expect(at.every((i) => i >= 0) && at[0] < at[1] && at[1] < at[2]).toBe(true);
  for (const m of s.sim.manifests.keys()) expect(pdf).toContain(m);
  for (const ids of FILL) for (const i of ids) expect(pdf).toContain(item(i));
  // No print button in a browser: printing is the desktop app's.
  await expect(page.getByRole('button', { name: 'Print manifest' })).toHaveCount(0);

  // The mail, once.
  await s.smtp.waitFor(1);
  expect(s.smtp.received.map((m) => m.parsed.subject)).toEqual(['Trip T-000001 executed: 3 BioTrack manifests created']);
  expect(s.smtp.received[0].envelopeTo).toEqual(['dispatch@example.com']);
  const text = s.smtp.received[0].parsed.text ?? '';
  expect(text).toContain('Driver: Ana Ruiz (001) · Vehicle: Van 7 (V7)');
  for (const m of s.sim.manifests.keys()) expect(text).toContain(`manifest ${m}`);
});

test('the station killed in the middle of a manifest call resumes the trip by itself after a restart, with one manifest per stop', async ({
  page,
}) => {
  test.setTimeout(180_000);
  const s = await stationWithBioTrack();
  // The trip is made and packed over the station's socket: this test is about the execution.
  await packedTripOverSocket(s, [1, 1, 1]);
  await openToExecute(page, s);
  // BioTrack holds stop 1's answer, lets it go, then holds stop 2's after creating its manifest.
  s.hold();
  await page.getByRole('button', { name: 'Execute trip' }).click();
  await expect.poll(() => manifestCalls(s.sim)).toBe(1);
  s.release();
  s.hold();
  await expect.poll(() => manifestCalls(s.sim)).toBe(2);
  await s.host.kill();
  // The answer to stop 2 is lost with the station; BioTrack has its manifest.
  s.release();
  expect(s.sim.manifests.size).toBe(2);

  await s.host.start(s.host.port);
  await page.reload();
  await signIn(page, 'dock1', '3917');
  await toTrips(page);
  const row = page.locator('tr[data-trip="T-000001"]');
  await expect(row.locator('.status-chip')).toHaveText('Done');
  await row.getByRole('button', { name: 'Open' }).click();
  await expect(page.getByTestId('run-message')).toHaveText('All 3 manifests created');
  expect(manifestsPerStop(s.sim)).toEqual([1, 1, 1]);
  // Stop 2's manifest was found at BioTrack (sync_manifest), not made again.
  expect(s.sim.bodies.some((b) => b.action === 'sync_manifest')).toBe(true);
  expect(manifestCalls(s.sim)).toBe(3);
});

test('a stop BioTrack refuses stops the trip with its words; the dispatcher fixes that stop and Retry completes it; an admin voids a manifest', async ({
  page,
}) => {
  test.setTimeout(180_000);
  const s = await stationWithBioTrack();
  // BioTrack here wants departures two days ahead: stop 2 leaves tomorrow.
  s.sim.faults.minLeadHours = 48;
  await packedTripOverSocket(s, [3, 1, 3]);
  await openToExecute(page, s);
  await page.getByRole('button', { name: 'Execute trip' }).click();
  const error = page.getByTestId('run-error');
  await expect(error).toContainText('Stopped at stop 2');
  await expect(error).toContainText(
    'The departure time for stop number 2 is less than 48 hours from the current time and will need to be corrected.',
  );
  await expect(page.getByTestId('manifest-1')).toContainText(/Created\s*7288/);
  await expect(page.getByTestId('manifest-2')).toContainText('Refused');
  await expect(page.getByTestId('manifest-3')).toContainText('Not created yet');
  await screenshot(page, 'trips-failed-1366x768');
  expect(await layoutProblems(page)).toEqual([]);

  // Fix: stop 1 has its manifest and stays; stop 2 leaves in three days.
  await page.getByRole('button', { name: 'Fix times and route' }).click();
  await expect(page.getByRole('heading', { name: 'Fix T-000001' })).toBeVisible();
  const stops = page.getByRole('list', { name: 'Stops' }).locator('li.stop-edit');
  await expect(stops.nth(0).getByLabel('Departure')).toBeDisabled();
  await expect(stops.nth(0)).toContainText('Has its manifest');
  await expect(page.getByRole('button', { name: /Move .* up/ })).toHaveCount(0);
  await expect(page.getByRole('table', { name: 'Approved orders' })).toHaveCount(0);
  await stops.nth(1).getByLabel('Departure').fill(local(3, 14));
  await stops.nth(1).getByLabel('Arrival').fill(local(3, 15));
  await page.getByRole('button', { name: 'Save trip' }).click();
  await expect(page.getByRole('status')).toHaveText('Saved T-000001');
  await screenshot(page, 'trips-fix-1366x768');
  expect(await layoutProblems(page)).toEqual([]);
  await page.getByRole('button', { name: 'Back to the execution' }).click();
  await page.getByRole('button', { name: 'Retry' }).click();
  await expect(page.getByTestId('run-message')).toHaveText('All 3 manifests created');
  expect(manifestsPerStop(s.sim)).toEqual([1, 1, 1]);
  // Dispatchers do not void.
  await expect(page.getByRole('button', { name: 'Void' })).toHaveCount(0);

  // Mails: the stop, then the end.
  await s.smtp.waitFor(2);
  expect(s.smtp.received.map((m) => m.parsed.subject)).toEqual([
    'Trip T-000001 stopped at stop 2: it needs a fix and Retry',
    'Trip T-000001 executed: 3 BioTrack manifests created',
  ]);

  // An admin voids stop 3's manifest at BioTrack, then Retry gives it a new one.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, 'admin', 'dockside-admin');
  await toTrips(page);
  await page.locator('tr[data-trip="T-000001"]').getByRole('button', { name: 'Open' }).click();
  const third = page.locator('tr[data-stop="3"]');
  const voidedId = (await page.getByTestId('manifest-3').locator('.manifest-id').textContent())!.trim();
  await third.getByRole('button', { name: 'Void' }).click();
  await third.getByRole('button', { name: 'Void at BioTrack' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'The manifest of stop 3 is void at BioTrack' })).toBeVisible();
  await expect(page.getByTestId('manifest-3')).toContainText('Voided');
  expect(s.sim.manifests.get(voidedId)?.deleted).toBe(1);
  await page.getByRole('button', { name: 'Retry' }).click();
  await expect(page.getByTestId('run-message')).toHaveText('All 3 manifests created');
  await expect(page.getByTestId('manifest-3')).toContainText('Created');
  await expect(page.getByTestId('manifest-3')).not.toContainText(voidedId);
  expect(manifestsPerStop(s.sim)).toEqual([1, 1, 2]);
});
