import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from '@playwright/test';
import { hubCli } from '../support/hub';
import { connectWs } from '../support/ws-client';
import { expect, signIn, signInOverTransport, StationProcess, test, wedgeScan } from './fixtures';
import { shootBoth, STATION_VIEWPORTS } from './layout-check';
import { siteSuite } from './site-suite';

/**
 * Issue 16 as people do it: a real PostgreSQL and hub, two demo stations joined to it (their ERP
 * simulator serves the item catalogue), a dispatcher at each door on Verify (F5). Door 1 claims R1;
 * door 2 is refused naming door 1; door 1 counts three items with serials (a duplicate serial and
 * damage above verified refused with reasons) and finalizes; door 2 sees R1 freed live and claims
 * it. A serial both doors counted before either synced comes back to door 2 as a conflict, which
 * its person resolves; with the hub stopped, a claim is refused with the offline message.
 */

// The demo ERP's first items (src/simulators/odata-erp.ts erpItems): code, barcode.
const ITEM = [
  { code: 'DD-ITEM-0001', barcode: '4000001000000' },
  { code: 'DD-ITEM-0002', barcode: '4000001000001' },
  { code: 'DD-ITEM-0003', barcode: '4000001000002' },
];

const site = siteSuite();

async function enrolmentCode(): Promise<string> {
  const r = await hubCli(['enrolment-code', '--hours', '1'], { DATABASE_URL: site.postgres.url });
  expect(r.code, r.stderr).toBe(0);
  return /Enrolment code: (\S+)/.exec(r.stdout)![1];
}

/** A demo station (demo people, bags and ERP simulator) that joins the hub at start, as IT starts one. */
async function startDoor(name: string): Promise<StationProcess> {
  const station = new StationProcess(fs.mkdtempSync(path.join(os.tmpdir(), 'dockside-e2e-verify-')), [
    '--demo',
    '--sync-interval-ms',
    '500',
    '--hub-url',
    site.hub.url,
    '--hub-code',
    await enrolmentCode(),
    '--station-name',
    name,
  ]);
  site.stations.push(station);
  await station.start();
  return station;
}

/** One admin call over a fresh transport connection (a session the site's people sync may end is not kept). */
async function asAdmin<T>(station: StationProcess, channel: string, payload: unknown): Promise<T> {
  const ws = await connectWs(station.url);
  try {
    await signInOverTransport(ws.invoke, station.url, 'admin', 'dockside-admin');
    const r = await ws.invoke(channel, payload);
    if (!r.ok) throw new Error(`${channel}: ${r.error.message}`);
    return r.value as T;
  } finally {
    void ws.close();
  }
}

/**
 * Both demo stations seeded the same demo people; the site keeps the newest version, and a person
 * whose PIN hash changed is signed out. So the set-up waits for that to settle before anyone signs
 * in: both seeds on the hub, then door 2's admin adds the racks, then dock2, and door 1 has applied
 * the feed up to dock2 (it applies in order, so the seeds before them too).
 */
async function setUpSite(door1: StationProcess, door2: StationProcess) {
  await expect
    .poll(
      async () =>
        (await site.db.query("select count(distinct station_id)::int as n from feed where op = 'user_saved@1' and payload::text like '%\"dock1\"%'"))
          .rows[0].n,
      { timeout: 60_000 },
    )
    .toBe(2);
  for (const rackId of ['R1', 'R2']) await asAdmin(door2, 'verify/rack-save', { rackId, floor: 'Ground', name: `Aisle ${rackId.slice(1)}` });
  await asAdmin(door2, 'users/create', {
    username: 'dock2',
    displayName: 'Dock Door 2',
    role: 'dispatcher',
    password: 'dockside-dock2',
    pin: '4826',
  });
  // dock2 signs in at door 1 once door 1 has applied the feed up to them.
  await expect
    .poll(
      async () => {
        const ws = await connectWs(door1.url);
        try {
          return (await ws.invoke('auth/login', { username: 'dock2', secret: '4826' })).ok;
        } finally {
          void ws.close();
        }
      },
      { timeout: 60_000 },
    )
    .toBe(true);
}

async function openVerify(browser: Browser, station: StationProcess, user: string, pin: string): Promise<Page> {
  const page = await browser.newPage({ viewport: STATION_VIEWPORTS[0] });
  await page.goto(station.url);
  await signIn(page, user, pin);
  await page.keyboard.press('F5');
  await expect(page.getByRole('heading', { level: 1, name: 'Verify' })).toBeVisible();
  return page;
}

const rackCard = (page: Page, rack: string) => page.locator(`[data-rack="Ground/${rack}"]`);

async function saveLine(page: Page) {
  await page.getByRole('button', { name: /^Save (line|changes)$/ }).click();
}

test('two doors on one hub: a claim refused naming its holder, counting with refusals, finalize, the rack freed live, a serial conflict resolved, and the offline refusal', async ({
  browser,
}) => {
  test.setTimeout(300_000);
  const door1 = await startDoor('Dock door 1');
  const door2 = await startDoor('Dock door 2');
  await setUpSite(door1, door2);

  const a = await openVerify(browser, door1, 'dock1', '3917');
  const b = await openVerify(browser, door2, 'dock2', '4826');
  await shootBoth(a, 'verify-racks');

  // Door 1 claims R1 by scanning its label (floor/rack); the HUD shows the rack and the claim's countdown.
  await wedgeScan(a, 'Ground/R1');
  const hud = a.getByTestId('verify-hud');
  await expect(hud).toContainText('R1');
  await expect(a.getByTestId('lease-countdown')).toHaveText(/^\d+:\d\d left$/);
  await expect(rackCard(b, 'R1')).toContainText('dock1 at Dock door 1', { timeout: 30_000 });

  // Door 2 is refused, naming who counts it and since when.
  await rackCard(b, 'R1').getByRole('button', { name: 'Claim R1' }).click();
  await expect(b.getByTestId('verify-status')).toContainText(/R1 on Ground is being counted by dock1 at Dock door 1 since \d\d:\d\d/);
  await shootBoth(b, 'verify-claim-refused');

  // The catalogue from the ERP, then three items: scanned, with serials scanned after each.
  await a.getByRole('button', { name: 'Refresh items' }).click();
  await expect(a.getByTestId('verify-status')).toContainText(/\d+ items/);
  const status = a.getByTestId('verify-status');
  await wedgeScan(a, ITEM[0].barcode);
  await expect(status).toContainText(ITEM[0].code);
  await wedgeScan(a, 'SN-1001');
  await wedgeScan(a, 'SN-1002');
  await expect(a.getByLabel('Verified')).toHaveValue('2');
  // The next item's scan saves the line on view.
  await wedgeScan(a, ITEM[1].barcode);
  await expect(a.getByRole('table', { name: 'Lines counted' }).locator(`[data-line="${ITEM[0].code}"]`)).toContainText('SN-1001, SN-1002');

  // A serial already counted on this rack is refused, naming where.
  await wedgeScan(a, 'SN-1001');
  await saveLine(a);
  await expect(status).toContainText(`Serial SN-1001 is already counted on R1 on Ground (item ${ITEM[0].code}) by dock1`);
  await a.getByRole('button', { name: 'Remove SN-1001' }).click();
  await a.getByLabel('Serial number', { exact: true }).fill('SN-1003');
  await a.getByRole('button', { name: 'Add serial' }).click();
  await saveLine(a);
  await expect(status).toContainText(`Saved ${ITEM[1].code}: 1 verified, 0 damaged`);

  // The third by search; damage above verified is refused at the field.
  await a.getByLabel('Item code, name or description').fill(ITEM[2].code);
  await a.getByRole('button', { name: 'Search', exact: true }).click();
  await a
    .getByRole('list', { name: 'Items found' })
    .getByRole('button', { name: new RegExp(ITEM[2].code) })
    .click();
  await a.getByLabel('Verified').fill('5');
  await a.getByLabel('Damaged').fill('7');
  await saveLine(a);
  await expect(status).toContainText('Damaged cannot be more than verified (5)');
  await expect(a.locator('.field.has-error')).toContainText('Damaged cannot be more than verified (5)');
  await shootBoth(a, 'verify-count-refused');
  await a.getByLabel('Damaged').fill('1');
  await saveLine(a);
  await expect(hud.getByTestId('hud-lines')).toHaveText('3');
  await shootBoth(a, 'verify-count');

  // A line edited before finalizing.
  await a
    .locator(`[data-line="${ITEM[2].code}"]`)
    .getByRole('button', { name: `Edit ${ITEM[2].code}` })
    .click();
  await a.getByLabel('Verified').fill('6');
  await saveLine(a);
  await expect(a.locator(`[data-line="${ITEM[2].code}"]`)).toContainText('6');
  // A line counted by mistake is deleted before finalizing.
  await a.getByLabel('Item code, name or description').fill('DD-ITEM-0004');
  await a.getByRole('button', { name: 'Search', exact: true }).click();
  await a
    .getByRole('list', { name: 'Items found' })
    .getByRole('button', { name: /DD-ITEM-0004/ })
    .click();
  await a.getByLabel('Verified').fill('1');
  await saveLine(a);
  await expect(hud.getByTestId('hud-lines')).toHaveText('4');
  await a.getByRole('button', { name: 'Edit DD-ITEM-0004' }).click();
  await a.getByRole('button', { name: 'Delete line' }).click();
  await expect(hud.getByTestId('hud-lines')).toHaveText('3');
  await expect(a.locator('[data-line="DD-ITEM-0004"]')).toHaveCount(0);

  await a.getByRole('button', { name: 'Finalize rack' }).click();
  await a.getByRole('button', { name: 'Yes, finalize' }).click();
  await expect(status).toContainText('R1 finalized');

  // The hub has the three records, and door 2 sees R1 free without reloading, then claims it.
  await expect
    .poll(async () => (await site.db.query("select count(*)::int as n from verify_records where answer->>'status' = 'ok'")).rows[0].n, {
      timeout: 30_000,
    })
    .toBe(3);
  await expect(rackCard(b, 'R1')).toContainText('Free', { timeout: 30_000 });
  await rackCard(b, 'R1').getByRole('button', { name: 'Claim R1' }).click();
  await expect(b.getByTestId('verify-hud')).toContainText('R1');

  // Both doors count serial SN-2001 before either has synced: door 1 (on R2) finalizes first.
  await rackCard(a, 'R2').getByRole('button', { name: 'Claim R2' }).click();
  await expect(hud).toContainText('R2');
  for (const p of [a, b]) {
    await wedgeScan(p, ITEM[0].barcode);
    await expect(p.getByTestId('verify-status')).toContainText(ITEM[0].code);
    await wedgeScan(p, 'SN-2001');
    await saveLine(p);
    await expect(p.getByTestId('hud-lines')).toHaveText('1');
  }
  await a.getByRole('button', { name: 'Finalize rack' }).click();
  await a.getByRole('button', { name: 'Yes, finalize' }).click();
  await expect(status).toContainText('R2 finalized');
  await expect
    .poll(async () => (await site.db.query("select count(*)::int as n from verify_records where answer->>'status' = 'ok'")).rows[0].n, {
      timeout: 30_000,
    })
    .toBe(4);
  await b.getByRole('button', { name: 'Finalize rack' }).click();
  await b.getByRole('button', { name: 'Yes, finalize' }).click();
  await expect(b.getByTestId('verify-conflict-count')).toHaveText('1', { timeout: 30_000 });
  await b.getByRole('tab', { name: /Conflicts/ }).click();
  const refused = b.getByRole('list', { name: 'Refused records' });
  await expect(refused).toContainText('Serial already recorded');
  await expect(refused).toContainText(/SN-2001.*R2.*Dock door 1/);
  await shootBoth(b, 'verify-conflicts');
  await refused.getByRole('button', { name: 'Discard' }).click();
  await expect(b.getByText(`Discarded ${ITEM[0].code} on R1`)).toBeVisible();
  await expect(b.getByText('No refused records.')).toBeVisible();

  // With the hub stopped, a new claim is refused with the offline message.
  site.hub.kill('SIGTERM');
  await site.hub.closed;
  await b.getByRole('tab', { name: 'Count' }).click();
  await rackCard(b, 'R2').getByRole('button', { name: 'Claim R2' }).click();
  await expect(b.getByTestId('verify-status')).toContainText('The site hub cannot be reached: R2 on Ground cannot be claimed offline');
});
