import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from '@playwright/test';
import ExcelJS from 'exceljs';
import { createEnrolmentCode } from '../../src/hub/enrolment';
import { addPerson, expect, setUpFirstAdmin, signIn, signOut, StationProcess, test } from './fixtures';
import { shootBoth, STATION_VIEWPORTS } from './layout-check';
import { siteSuite } from './site-suite';

/**
 * Issue 16's racks admin and notices by hand: Verify → Racks on a station of its own (add, edit,
 * import a rack file, a bad file refused naming its line), then two stations on one hub: a notice
 * posted at Dock 1 shows in Dock 2's banner, and Dock 1's admin breaks a claim made at Dock 2,
 * whose person is told.
 */

const VIEWPORTS = STATION_VIEWPORTS;

const nav = (page: Page, name: RegExp) => page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name }).click();

async function openRacks(page: Page) {
  await nav(page, /Verify/);
  await page.getByRole('tab', { name: 'Racks' }).click();
  return page.getByRole('region', { name: 'Racks' });
}

const rackRow = (page: Page, floor: string, rackId: string) => page.locator(`tr[data-rack="${floor}/${rackId}"]`);

/** Chooses a file in the racks tab's hidden file input, as the Import racks… button's dialog does. */
async function importRacks(page: Page, name: string, content: string | Buffer) {
  const mimeType = name.endsWith('.xlsx') ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' : 'text/csv';
  await page.getByLabel('Rack file').setInputFiles({ name, mimeType, buffer: Buffer.from(content) });
}

/** An XLSX rack file as a spreadsheet program writes it: a header row, then one rack a row. */
async function rackWorkbook(rows: string[][]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Racks');
  for (const row of rows) ws.addRow(row);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

test.describe('racks on a station of its own', () => {
  test.use({ viewport: VIEWPORTS[0] });

  test('an admin adds, edits and imports racks; a file with a bad row is refused naming its line and changes nothing', async ({ page, station }) => {
    await page.goto(station.url);
    await setUpFirstAdmin(page);
    const racks = await openRacks(page);
    await expect(racks.getByText('No racks yet')).toBeVisible();

    // Add: empty fields are refused in words, field by field; then R1 is added.
    await racks.getByRole('button', { name: 'Add rack' }).click();
    const add = racks.getByRole('form', { name: 'Add rack' });
    await add.getByRole('button', { name: 'Add rack' }).click();
    await expect(add.getByText('rackId is required (e.g. "R1")')).toBeVisible();
    await expect(add.getByText('floor is required (e.g. "Ground")')).toBeVisible();
    await add.getByLabel('Rack id').fill('R1/2');
    await add.getByLabel('Floor').fill('Ground');
    await add.getByRole('button', { name: 'Add rack' }).click();
    await expect(add.getByText('rackId cannot contain "/"')).toBeVisible();
    await add.getByLabel('Rack id').fill('R1');
    await add.getByLabel('Name').fill('Front');
    await add.getByRole('button', { name: 'Add rack' }).click();
    await expect(racks.getByTestId('racks-outcome')).toHaveText('Added rack R1 on Ground');
    await expect(rackRow(page, 'Ground', 'R1')).toContainText('Front');
    await expect(rackRow(page, 'Ground', 'R1').getByTestId('rack-holder')).toHaveText('Free');

    // Edit: a new name, and out of use.
    await rackRow(page, 'Ground', 'R1').getByRole('button', { name: 'Edit' }).click();
    const edit = racks.getByRole('form', { name: 'Edit rack R1' });
    await edit.getByLabel('Name').fill('Front left');
    await edit.getByLabel('In use').uncheck();
    await edit.getByRole('button', { name: 'Save rack' }).click();
    await expect(racks.getByTestId('racks-outcome')).toHaveText('Saved rack R1 on Ground (not in use)');
    await expect(rackRow(page, 'Ground', 'R1').locator('td').nth(2)).toHaveText('Front left');
    await expect(rackRow(page, 'Ground', 'R1').locator('td').nth(3)).toHaveText('No');

    // A file whose third line has no floor: refused naming the line; nothing of it is saved.
    await importRacks(page, 'bad-racks.csv', 'Rack,Floor,Name\nR2,Ground,Back\nR3,,Side\n');
    await expect(racks.getByTestId('racks-outcome')).toContainText('bad-racks.csv, line 3: the floor is empty; nothing was imported');
    await expect(rackRow(page, 'Ground', 'R2')).toHaveCount(0);
    await expect(racks.locator('tbody tr')).toHaveCount(1);

    // A good file: two new racks, and R1 back in use under its name.
    await importRacks(page, 'racks.csv', 'Rack,Floor,Name\nR1,Ground,Front left\nR2,Ground,Back\nM1,Mezzanine,Returns\n');
    await expect(racks.getByTestId('racks-outcome')).toHaveText('Imported racks.csv: 2 created, 1 updated, 0 unchanged');
    await expect(rackRow(page, 'Mezzanine', 'M1')).toContainText('Returns');
    await expect(rackRow(page, 'Ground', 'R1').locator('td').nth(3)).toHaveText('Yes');
    await expect(racks.locator('tbody tr')).toHaveCount(3);

    // Adding a rack that exists is refused at its field: editing it is the way.
    await racks.getByRole('button', { name: 'Add rack' }).click();
    await add.getByLabel('Rack id').fill('M1');
    await add.getByLabel('Floor').fill('Mezzanine');
    await add.getByRole('button', { name: 'Add rack' }).click();
    await expect(add.getByText('M1 on Mezzanine exists already: edit it in the list')).toBeVisible();
    await add.getByRole('button', { name: 'Cancel' }).click();

    // Many racks from a spreadsheet: the filter box finds them by rack or floor.
    const many = await rackWorkbook([['Rack', 'Floor'], ...Array.from({ length: 12 }, (_, i) => [`B${i + 1}`, 'Basement'])]);
    await importRacks(page, 'basement.xlsx', many);
    await expect(racks.getByTestId('racks-outcome')).toHaveText('Imported basement.xlsx: 12 created, 0 updated, 0 unchanged');
    await racks.getByLabel('Find rack or floor').fill('mezz');
    await expect(racks.locator('tbody tr')).toHaveCount(1);
    await expect(rackRow(page, 'Mezzanine', 'M1')).toBeVisible();
    await racks.getByLabel('Find rack or floor').fill('');
    await expect(racks.locator('tbody tr')).toHaveCount(15);
    // In the order people count them: B2 before B10.
    await expect(racks.locator('tbody tr td.rack-id').nth(1)).toHaveText('B2');
    await shootBoth(page, 'verify-racks');

    // A station of its own has no site to tell: posting a notice says so.
    await nav(page, /Admin/);
    await page.getByRole('tab', { name: 'Station' }).click();
    const notices = page.getByRole('region', { name: 'Notices' });
    await notices.scrollIntoViewIfNeeded();
    await notices.getByRole('button', { name: 'Post notice' }).click();
    await expect(notices.getByText('The notice text is required')).toBeVisible();
    await notices.getByLabel('Notice text').fill('System maintenance at 14:00');
    await notices.getByRole('button', { name: 'Post notice' }).click();
    await expect(notices.getByTestId('notice-error')).toContainText('This station is not a member of a site');
    await expect(page.getByTestId('notice-banner')).toHaveCount(0);
  });
});

test.describe('racks and notices across a site', () => {
  const site = siteSuite();

  /** A station with its first admin set up on its own, then restarted joined to the hub (--hub-url), as demo:site starts them. */
  async function stationInSite(page: Page, admin: string, name: string, people: () => Promise<void>): Promise<StationProcess> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dockside-e2e-vracks-'));
    const alone = new StationProcess(dataDir, ['--sync-interval-ms', '500']);
    site.stations.push(alone);
    await alone.start();
    await page.goto(alone.url);
    await setUpFirstAdmin(page, admin);
    await people();
    await alone.kill();
    const { code } = await createEnrolmentCode(site.db, 1);
    const joined = new StationProcess(dataDir, ['--sync-interval-ms', '500', '--hub-url', site.hub.url, '--hub-code', code, '--station-name', name]);
    site.stations.push(joined);
    await joined.start(alone.port);
    await page.goto(joined.url);
    return joined;
  }

  test("a notice posted at one station shows in the other's banner, and an admin breaks a claim made at the other station, whose person is told", async ({
    page,
    browser,
  }) => {
    test.setTimeout(300_000);
    await page.setViewportSize(VIEWPORTS[0]);
    const page2 = await (await browser.newContext({ viewport: VIEWPORTS[0] })).newPage();
    const page2Errors: string[] = [];
    page2.on('pageerror', (e) => page2Errors.push(e.message));

    await stationInSite(page, 'chief1', 'Dock 1', async () => {});
    await stationInSite(page2, 'chief2', 'Dock 2', () =>
      addPerson(page2, { username: 'dana2', displayName: 'Dana Two', role: 'dispatcher', pin: '4826' }),
    );
    await signIn(page, 'chief1', 'warehouse-admin-1');
    await signIn(page2, 'dana2', '4826');
    await expect(page2.getByRole('navigation', { name: 'Screens' })).toBeVisible();

    // Dock 1's admin adds R1; the site carries it to Dock 2.
    const racks = await openRacks(page);
    await racks.getByRole('button', { name: 'Add rack' }).click();
    const add = racks.getByRole('form', { name: 'Add rack' });
    await add.getByLabel('Rack id').fill('R1');
    await add.getByLabel('Floor').fill('Ground');
    await add.getByRole('button', { name: 'Add rack' }).click();
    await expect(rackRow(page, 'Ground', 'R1').getByTestId('rack-holder')).toHaveText('Free');

    // Dana claims R1 at Dock 2 on Verify → Count, once the site has carried the rack there;
    // the claim reaches Dock 1's racks tab live through the site's feed.
    await page2.keyboard.press('F5');
    const r1 = page2.locator('[data-rack="Ground/R1"]');
    await r1.getByRole('button', { name: 'Claim R1' }).click({ timeout: 60_000 });
    await expect(page2.getByTestId('verify-hud')).toContainText('R1');
    await page2.keyboard.press('F1');
    await expect(rackRow(page, 'Ground', 'R1').getByTestId('rack-holder')).toContainText('dana2 at Dock 2', { timeout: 30_000 });

    // Dock 2's screen has its scan field in focus; what the banner shows does not take it.
    await page2.locator('#manual-code').focus();

    // Dock 1's admin breaks the claim: a reason is required, then Dana is told at Dock 2.
    await shootBoth(page, 'verify-racks-held');
    await rackRow(page, 'Ground', 'R1').getByRole('button', { name: 'Break claim' }).click();
    const breakForm = racks.getByRole('form', { name: 'Break claim' });
    await expect(breakForm).toContainText('dana2 at Dock 2 has held it since');
    await breakForm.getByRole('button', { name: 'Break claim' }).click();
    await expect(breakForm.getByText('A reason is required: the holder is told why')).toBeVisible();
    await breakForm.getByLabel('Reason').fill('The office recounts this rack');
    await breakForm.getByRole('button', { name: 'Break claim' }).click();
    await expect(racks.getByTestId('racks-outcome')).toHaveText('Broke dana2’s claim on R1 (Ground); they are told why');
    await expect(rackRow(page, 'Ground', 'R1').getByTestId('rack-holder')).toHaveText('Free');

    const told = page2.getByTestId('personal-message');
    await expect(told).toContainText('chief1 at Dock 1 broke your claim on R1 on Ground: The office recounts this rack', { timeout: 30_000 });
    await expect(page2.locator('#manual-code')).toBeFocused();

    // A notice posted at Dock 1 shows in Dock 2's banner without a reload.
    await nav(page, /Admin/);
    await page.getByRole('tab', { name: 'Station' }).click();
    const notices = page.getByRole('region', { name: 'Notices' });
    await notices.scrollIntoViewIfNeeded();
    await notices.getByLabel('Notice text').fill('System maintenance at 14:00');
    await notices.getByRole('button', { name: 'Post notice' }).click();
    await expect(notices.getByTestId('notice-outcome')).toHaveText('Posted: every station of the site shows it');
    await expect(page.getByTestId('site-notice')).toContainText('System maintenance at 14:00');
    await expect(notices.getByRole('listitem')).toContainText(['System maintenance at 14:00']);
    await shootBoth(page, 'verify-notice-post', () => notices.scrollIntoViewIfNeeded());

    const shown = page2.getByTestId('site-notice');
    await expect(shown).toContainText('System maintenance at 14:00', { timeout: 30_000 });
    await expect(shown).toContainText('chief1 at Dock 1');
    await expect(page2.locator('#manual-code')).toBeFocused();
    await shootBoth(page2, 'verify-notice-banner');

    // Dismissed on Dock 2 with a press that leaves the scan field in focus; it stays dismissed after a reload.
    await shown.getByRole('button', { name: 'Dismiss' }).click();
    await expect(page2.getByTestId('site-notice')).toHaveCount(0);
    await expect(page2.locator('#manual-code')).toBeFocused();
    await page2.reload();
    await expect(page2.getByRole('navigation', { name: 'Screens' }).or(page2.getByRole('heading', { name: 'Sign in' }))).toBeVisible();
    if (await page2.getByRole('heading', { name: 'Sign in' }).isVisible()) await signIn(page2, 'dana2', '4826');
    await expect(page2.getByRole('navigation', { name: 'Screens' })).toBeVisible();
    await expect(page2.getByTestId('site-notice')).toHaveCount(0);
    // Still shown at Dock 1, where nobody dismissed it.
    await expect(page.getByTestId('site-notice')).toContainText('System maintenance at 14:00');
    await signOut(page2);
    expect(page2Errors).toEqual([]);
  });
});
