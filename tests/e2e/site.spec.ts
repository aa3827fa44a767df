import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { hubCli, startHubProcess } from '../support/hub';
import { addPerson, expect, setUpFirstAdmin, signIn, signOut, StationProcess, test, wedgeScan } from './fixtures';
import { shootBoth, STATION_VIEWPORTS } from './layout-check';
import { siteSuite } from './site-suite';

/**
 * Issue 15 by hand, as people do it: a real PostgreSQL, a hub process (`npm run hub`), and two
 * station hosts in two browser windows. Admins join each station from Admin → Station; a link at
 * door 1 is refused at door 2 once door 2's replica has the feed; links made while the hub is down
 * come back as a conflict on the Scan screen, which the dispatcher resolves.
 */

const VIEWPORTS = STATION_VIEWPORTS;

const suite = siteSuite();

async function startStation(): Promise<StationProcess> {
  const station = new StationProcess(fs.mkdtempSync(path.join(os.tmpdir(), 'dockside-e2e-site-')), ['--sync-interval-ms', '500']);
  suite.stations.push(station);
  await station.start();
  return station;
}

/** A one-time code from the hub's admin command, as a site's admin makes one. */
async function enrolmentCode(): Promise<string> {
  const r = await hubCli(['enrolment-code', '--hours', '1'], { DATABASE_URL: suite.postgres.url });
  expect(r.code, r.stderr).toBe(0);
  const m = /Enrolment code: (\S+)/.exec(r.stdout);
  if (!m) throw new Error(`no code in: ${r.stdout}`);
  return m[1];
}

/** Where the site put a child: the hub's own table, the site-wide truth. */
async function siteParentOf(child: string): Promise<string | null> {
  const r = await suite.db.query<{ parent_code: string }>('select parent_code from bag_links where child_code = $1', [child]);
  return r.rows[0]?.parent_code ?? null;
}

const nav = (page: Page, name: RegExp) => page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name }).click();

async function openSiteSection(page: Page) {
  await nav(page, /Admin/);
  await page.getByRole('tab', { name: 'Station' }).click();
  const site = page.getByRole('region', { name: 'Site' });
  await site.scrollIntoViewIfNeeded();
  return site;
}

/** The child's parent as Search on this station shows it, asked again until it says `parent`. */
async function expectParentInSearch(page: Page, child: string, parent: string) {
  await nav(page, /Search/);
  await page.getByLabel('Id starts with').fill(child);
  await expect
    .poll(
      async () => {
        await page.getByRole('button', { name: 'Search', exact: true }).click();
        const row = page.locator('table.data-table tbody tr', { has: page.getByRole('button', { name: child, exact: true }) });
        return (await row.count()) ? ((await row.locator('td').nth(2).textContent()) ?? '').trim() : null;
      },
      { timeout: 30_000, intervals: [250, 500, 1000] },
    )
    .toBe(parent);
}

/** Admin → Station → Site → Join a site, as the station's admin does it. */
async function joinSite(page: Page, code: string, name: string) {
  const site = await openSiteSection(page);
  const form = site.getByRole('form', { name: 'Join a site' });
  await form.getByLabel('Hub address').fill(suite.hub.url);
  await form.getByLabel('Enrolment code').fill(code);
  await form.getByLabel("This station's name").fill(name);
  await form.getByRole('button', { name: 'Join', exact: true }).click();
  await expect(site.getByTestId('site-status')).toContainText(name);
  await expect(site.getByTestId('site-feed')).toHaveText('Connected', { timeout: 30_000 });
}

test('two stations join a site from Admin → Station, share a link through the hub, resolve offline conflicts on the Scan screen, and one leaves', async ({
  page,
  browser,
}) => {
  test.setTimeout(300_000);
  const [one, two] = [await startStation(), await startStation()];
  const page2 = await (await browser.newContext({ viewport: VIEWPORTS[0] })).newPage();
  const page2Errors: string[] = [];
  page2.on('pageerror', (e) => page2Errors.push(e.message));

  // (a) Each station's first admin, a dispatcher, and the join; a wrong code first, refused in words.
  await page.goto(one.url);
  await setUpFirstAdmin(page, 'chief1');
  await addPerson(page, { username: 'dock1', displayName: 'Dock One', role: 'dispatcher', password: 'dock-one-pass-1', pin: '3917' });
  await page2.goto(two.url);
  await setUpFirstAdmin(page2, 'chief2');
  await addPerson(page2, { username: 'dock2', displayName: 'Dock Two', role: 'dispatcher', password: 'dock-two-pass-2', pin: '4826' });
  await addPerson(page2, { username: 'bill2', displayName: 'Bill Two', role: 'biller', password: 'bill-two-pass-2' });

  const site = await openSiteSection(page);
  const form = site.getByRole('form', { name: 'Join a site' });
  await expect(form.getByLabel("This station's name")).toHaveValue('Dock station');
  await form.getByLabel('Hub address').fill('hub.example');
  await form.getByRole('button', { name: 'Join', exact: true }).click();
  await expect(form.getByText('The hub address must look like https://hub.example:5790')).toBeVisible();
  await expect(form.getByText('The enrolment code is required')).toBeVisible();
  // Nothing listens on port 9 here: the hub cannot be reached, and the notice says so.
  await form.getByLabel('Hub address').fill('http://127.0.0.1:9');
  await form.getByLabel('Enrolment code').fill('NOT-A-REAL-CODE');
  await form.getByRole('button', { name: 'Join', exact: true }).click();
  await expect(site.getByTestId('site-join-error')).toContainText('check the address and that the hub runs');
  await form.getByLabel('Hub address').fill(suite.hub.url);
  await form.getByRole('button', { name: 'Join', exact: true }).click();
  await expect(form.getByText('This enrolment code is not known to the hub')).toBeVisible();
  await expect(site.getByTestId('site-status')).toHaveCount(0);
  await shootBoth(page, 'site-standalone', () => site.scrollIntoViewIfNeeded());

  await joinSite(page, await enrolmentCode(), 'Dock 1');
  await expect(page.getByTestId('sync-chip')).toHaveText('Sync: online');
  await shootBoth(page, 'site-member', () => site.scrollIntoViewIfNeeded());
  await joinSite(page2, await enrolmentCode(), 'Dock 2');

  // (b) A link at door 1 reaches door 2's replica through the feed; door 2 then refuses it, naming door 1's parent.
  await signOut(page);
  await signIn(page, 'dock1', '3917');
  await wedgeScan(page, 'SB00001');
  await expect(page.getByTestId('parent-code')).toHaveText('SB00001');
  await wedgeScan(page, 'SHARED-1');
  await expect(page.getByTestId('scan-status')).toContainText('Linked');
  await expect.poll(() => siteParentOf('SHARED-1'), { timeout: 30_000 }).toBe('SB00001');

  await signOut(page2);
  await signIn(page2, 'dock2', '4826');
  await expectParentInSearch(page2, 'SHARED-1', 'SB00001');
  await nav(page2, /Scan/);
  await wedgeScan(page2, 'SB00002');
  await expect(page2.getByTestId('parent-code')).toHaveText('SB00002');
  await wedgeScan(page2, 'SHARED-1');
  await expect(page2.getByTestId('scan-status')).toContainText('On another parent');
  await expect(page2.getByTestId('scan-status')).toContainText('SB00001');

  // (c) The hub goes down. Door 2 links two new children and then goes dark too; door 1 links the
  // same children to its parent, so when the hub is back door 1's links reach it first.
  // Door 1's admin watches Admin → Station → Site in a window of its own: it follows without a reload.
  const admin1 = await page.context().newPage();
  await admin1.goto(one.url);
  await signIn(admin1, 'chief1', 'warehouse-admin-1');
  const watched = await openSiteSection(admin1);
  await expect(watched.getByTestId('site-feed')).toHaveText('Connected');
  const hubPort = Number(new URL(suite.hub.url).port);
  suite.hub.kill('SIGTERM');
  await suite.hub.closed;
  await expect(page.getByTestId('sync-chip')).toContainText('Sync: offline (Site hub)', { timeout: 30_000 });
  await expect(watched.getByTestId('site-feed')).toContainText('Not connected: ');
  for (const child of ['SPLIT-2', 'SPLIT-3']) {
    await wedgeScan(page2, child);
    await expect(page2.getByTestId('scan-status')).toContainText(`Linked ${child}`);
  }
  await two.kill();
  await nav(page, /Scan/);
  for (const child of ['SPLIT-2', 'SPLIT-3']) {
    await wedgeScan(page, child);
    await expect(page.getByTestId('scan-status')).toContainText(`Linked ${child}`);
  }
  await expect(watched.getByTestId('site-waiting')).not.toHaveText('0');
  suite.hub = await startHubProcess(suite.postgres.url, ['--port', String(hubPort)]);
  await expect.poll(() => siteParentOf('SPLIT-2'), { timeout: 60_000 }).toBe('SB00001');
  await expect.poll(() => siteParentOf('SPLIT-3'), { timeout: 60_000 }).toBe('SB00001');
  await expect(watched.getByTestId('site-feed')).toHaveText('Connected', { timeout: 30_000 });
  await expect(watched.getByTestId('site-waiting')).toHaveText('0', { timeout: 30_000 });
  await admin1.close();

  // Door 2 back: its two links are refused by the site and shown as conflicts on its Scan screen.
  await two.start(two.port);
  await expect(page2.getByRole('heading', { name: 'Sign in' })).toBeVisible({ timeout: 30_000 });
  await signIn(page2, 'dock2', '4826');
  const conflicts = page2.getByRole('region', { name: 'Conflicts with the site' });
  await expect(conflicts.locator('[data-conflict]')).toHaveCount(2, { timeout: 60_000 });
  await expect(page2.getByTestId('sync-chip')).toContainText('2 conflicts');
  const split2 = conflicts.locator('[data-conflict]', { hasText: 'SPLIT-2' });
  await expect(split2).toContainText('SB00002');
  await expect(split2).toContainText('SB00001');
  await expect(split2).toContainText('Dock 1');
  await expect(split2).toContainText('dock1');
  await shootBoth(page2, 'scan-site-conflicts');

  // A biller at door 2 (no Scan screen) sees the same list on Bills, without the buttons.
  const billing = await page2.context().newPage();
  await billing.goto(two.url);
  await signIn(billing, 'bill2', 'bill-two-pass-2');
  const billerList = billing.getByRole('region', { name: 'Conflicts with the site' });
  await expect(billerList.locator('[data-conflict]')).toHaveCount(2);
  await expect(billerList).toContainText('a dispatcher resolves them');
  await expect(billerList.getByRole('button')).toHaveCount(0);
  await shootBoth(billing, 'bills-site-conflicts');
  await billing.close();

  // Scans keep working while the panel shows.
  await wedgeScan(page2, 'SB00003');
  await expect(page2.getByTestId('parent-code')).toHaveText('SB00003');

  // Move one bag here, keep the site's link for the other; the panel empties and door 1 follows.
  await split2.getByRole('button', { name: 'Move bag here' }).click();
  await expect(page2.getByTestId('scan-status')).toContainText('Moved SPLIT-2 to SB00002');
  await expect(page2.getByLabel('Type an id and press Enter')).toBeFocused();
  await expect(conflicts.locator('[data-conflict]')).toHaveCount(1);
  await conflicts.locator('[data-conflict]', { hasText: 'SPLIT-3' }).getByRole('button', { name: "Keep site's link" }).click();
  await expect(page2.getByTestId('scan-status')).toContainText("Kept the site's link for SPLIT-3");
  await expect(conflicts).toHaveCount(0);
  await expect(page2.getByTestId('sync-chip')).toHaveText('Sync: online', { timeout: 60_000 });

  await expect.poll(() => siteParentOf('SPLIT-2'), { timeout: 30_000 }).toBe('SB00002');
  expect(await siteParentOf('SPLIT-3')).toBe('SB00001');
  await expectParentInSearch(page, 'SPLIT-2', 'SB00002');
  await expectParentInSearch(page, 'SPLIT-3', 'SB00001');
  await expectParentInSearch(page2, 'SPLIT-3', 'SB00001');

  // Door 1's admin leaves the site: asked first, then the station stands alone with the join form back.
  await signOut(page);
  await signIn(page, 'chief1', 'warehouse-admin-1');
  const site1 = await openSiteSection(page);
  await site1.getByRole('button', { name: 'Leave site' }).click();
  await expect(site1.getByText('Leave the site?')).toBeVisible();
  await site1.getByRole('button', { name: 'Yes, leave the site' }).click();
  await expect(site1.getByTestId('site-outcome')).toContainText('Left the site');
  await expect(site1.getByRole('form', { name: 'Join a site' })).toBeVisible();

  expect(page2Errors, 'page errors in the second window').toEqual([]);
  await page2.context().close();
});
