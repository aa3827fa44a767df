import fs from 'node:fs';
import { parse } from 'csv-parse/sync';
import type { Page } from '@playwright/test';
import { expect, screenshot, signIn, StationProcess, test } from './fixtures';

/** The demo's BioTrack simulator: 60 items; this facility's ids are 2026100000000000 + i. */
const TESTED = '2026100000000001'; // Sour Diesel 3.5g, Packaging (room 2), passed, THC 15.125 %
const UNTESTED = '2026100000000003'; // no lab results: qa_check_all answers `false`

test.use({ stationArgs: ['--demo'] });

const nav = (page: Page, screen: RegExp) => page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: screen }).click();
const itemRows = (page: Page) => page.getByRole('table', { name: 'Inventory items' }).locator('tbody tr');

async function openInventory(page: Page, url: string) {
  await page.goto(url);
  await signIn(page, 'dock1', '3917');
  await nav(page, /Reports/);
  // Today (the operations dashboard) is the first tab; the inventory is the next.
  await page.getByRole('tab', { name: 'Inventory' }).click();
  await expect(page.getByRole('tab', { name: 'Inventory' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('total-all')).not.toHaveText('');
}

test.describe('Reports → Inventory', () => {
  test('a dispatcher filters the inventory, looks barcodes up and downloads the CSV with ids as text', async ({ page, station }) => {
    await page.setViewportSize({ width: 1366, height: 768 });
    await openInventory(page, station.url);
    const all = Number((await page.getByTestId('total-all').textContent())!.replace(/,/g, ''));
    const withLab = Number((await page.getByTestId('total-with-lab').textContent())!.replace(/,/g, ''));
    const withoutLab = Number((await page.getByTestId('total-without-lab').textContent())!.replace(/,/g, ''));
    expect(withLab + withoutLab).toBe(all);
    expect(withoutLab).toBeGreaterThan(0);
    await expect(page.getByTestId('inventory-age')).toContainText('BioTrack inventory of facility 990010');

    // Room: only the Vault's items, with room name and id.
    await page.getByLabel('Room', { exact: true }).selectOption({ label: 'Vault (room 1)' });
    await expect(itemRows(page).first()).toContainText('Vault');
    for (const row of await itemRows(page).all()) await expect(row.locator('td').nth(2)).toHaveText('Vault (1)');
    await page.getByLabel('Room', { exact: true }).selectOption({ label: 'All rooms' });

    // Without lab data: the count is the total without, every row says so.
    await page.getByLabel('Lab data').selectOption({ label: 'Without lab data' });
    await expect(page.getByTestId('inventory-count')).toContainText(`of ${withoutLab}`);
    for (const row of await itemRows(page).all()) await expect(row.locator('td').nth(3)).toHaveText('no lab data');
    await page.getByLabel('Lab data').selectOption({ label: 'All items' });

    // Product search.
    await page.getByLabel('Product or barcode').fill('cartridge');
    await page.getByRole('button', { name: 'Show' }).click();
    await expect(itemRows(page).first()).toContainText('OG Kush cartridge');
    for (const row of await itemRows(page).all()) await expect(row.locator('td').nth(0)).toContainText('OG Kush cartridge');

    // One barcode's lab result, then one without.
    const barcode = page.getByLabel('Lab result of one barcode (scan or type)');
    await barcode.fill(TESTED);
    await page.getByRole('button', { name: 'Look up' }).click();
    await expect(page.getByTestId('lab-lookup-result')).toContainText('Sour Diesel 3.5g, Packaging');
    await expect(page.getByTestId('lab-lookup-result')).toContainText('THC 15.125 %');
    await barcode.fill(UNTESTED);
    await page.getByRole('button', { name: 'Look up' }).click();
    await expect(page.getByTestId('lab-lookup-result')).toContainText('No lab data for this item.');
    await screenshot(page, 'inventory-1366x768');
    await page.setViewportSize({ width: 1920, height: 1080 });
    await screenshot(page, 'inventory-1920x1080');

    // The CSV: a timestamped name, every item, ids as text.
    const downloaded = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download CSV' }).click();
    const download = await downloaded;
    expect(download.suggestedFilename()).toMatch(/^inventory-\d{4}-\d{2}-\d{2}-\d{4}\.csv$/);
    await expect(page.getByRole('status').filter({ hasText: 'Saved inventory-' })).toContainText(`(${all} rows)`);
    const cells = parse(fs.readFileSync((await download.path())!, 'utf8').replace(/^\uFEFF/, '')) as string[][];
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
    expect(cells).toHaveLength(all + 1);
    expect(cells.find((c) => c[0] === `'${TESTED}`)).toEqual([
      `'${TESTED}`,
      'Sour Diesel 3.5g',
      'Sour Diesel',
      '17',
      "'2",
      'Packaging',
      'passed',
      "'2025700000000001",
      '15.5',
      '0.2',
      '15.125',
      '0',
      '0.02',
    ]);
    expect(cells.find((c) => c[0] === `'${UNTESTED}`)!.slice(6)).toEqual(['', '', '', '', '', '', '']);
  });

  test('with BioTrack unreachable, the report comes from the station’s copy and says from when', async ({ page, station }) => {
    await openInventory(page, station.url);
    const all = await page.getByTestId('total-all').textContent();
    // The same station, its BioTrack now at an address where nothing answers.
    await station.kill();
    const offline = new StationProcess(station.dataDir, ['--demo', '--biotrack-upstream', 'http://127.0.0.1:9']);
    try {
      await offline.start();
      await openInventory(page, offline.url);
      await page.getByRole('button', { name: 'Refresh from BioTrack' }).click();
      await expect(page.getByTestId('inventory-offline')).toContainText(/BioTrack is offline — showing data from \d\d:\d\d/);
      await expect(page.getByTestId('total-all')).toHaveText(all!);
      await page.getByLabel('Lab result of one barcode (scan or type)').fill(TESTED);
      await page.getByRole('button', { name: 'Look up' }).click();
      await expect(page.getByTestId('lab-lookup-result')).toContainText("BioTrack is offline: this is the station's copy from");
      await expect(page.getByTestId('lab-lookup-result')).toContainText('THC 15.125 %');
      await page.setViewportSize({ width: 1366, height: 768 });
      await screenshot(page, 'inventory-offline-1366x768');
    } finally {
      await offline.kill();
    }
  });
});
