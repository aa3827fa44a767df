import type { Page } from '@playwright/test';
import { expect, hid, pairSimulatedScanner, screenshot, signIn, SIM_SCANNER, test, wedgeScan } from './fixtures';

// The demo starts the LeafTrade and BioTrack simulators with their credentials and location filled in.
test.use({ stationArgs: ['--demo'] });

/** The demo BioTrack simulator's inventory id of item i (see src/simulators/biotrack.ts). */
const item = (i: number) => `2026${String(100000000000 + i)}`;

async function toTrips(page: Page) {
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: /Trips/ }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Trips' })).toBeVisible();
}

/** The dispatcher signs in and makes draft T-000001 of order INV-26000; its editor is open. */
async function oneStopDraft(page: Page, url: string) {
  await page.goto(url);
  await signIn(page, 'dock1', '3917');
  await toTrips(page);
  await page.getByRole('button', { name: 'New trip' }).click();
  await page.getByLabel('Pick order INV-26000').check();
  await page.getByRole('button', { name: 'Create trip with 1 stop' }).click();
}

test('a dispatcher creates a 3-stop trip, reorders it with the keyboard, sets times and packs it by wedge scans', async ({ page, station }) => {
  await page.goto(station.url);
  await signIn(page, 'dock1', '3917');
  await toTrips(page);
  await page.getByRole('button', { name: 'New trip' }).click();

  // The dispensary filter narrows the approved orders; then all of them again.
  const orders = page.getByRole('table', { name: 'Approved orders' });
  await expect(orders.locator('tbody tr')).toHaveCount(90);
  await page.getByLabel('Dispensary').selectOption('Harbor Wellness');
  await page.getByRole('button', { name: 'Show orders' }).click();
  await expect(orders.locator('tbody tr')).toHaveCount(30);
  await page.getByLabel('Dispensary').selectOption('');
  await page.getByRole('button', { name: 'Show orders' }).click();
  for (const invoice of ['INV-26000', 'INV-26001', 'INV-26002']) await page.getByLabel(`Pick order ${invoice}`).check();
  await page.getByRole('button', { name: 'Create trip with 3 stops' }).click();
  await expect(page.getByRole('heading', { name: 'Edit T-000001' })).toBeVisible();

  // Alt+↓ on the first stop moves it down, keeping focus on it.
  const stops = page.getByRole('list', { name: 'Stops' }).locator('li.stop-edit');
  await expect(stops.locator('strong')).toHaveText(['Green Leaf Dispensary', 'Harbor Wellness', 'Summit Cannabis Co']);
  await stops.first().focus();
  await page.keyboard.press('Alt+ArrowDown');
  await expect(stops.locator('strong')).toHaveText(['Harbor Wellness', 'Green Leaf Dispensary', 'Summit Cannabis Co']);
  await expect(page.getByRole('listitem', { name: 'Stop 2: Green Leaf Dispensary' })).toBeFocused();

  await page.getByLabel("Driver's BioTrack id").fill('001');
  await page.getByLabel("Driver's name").fill('Ana Ruiz');
  await page.getByLabel("Vehicle's BioTrack id").fill('V7');
  await page.getByLabel('Vehicle', { exact: true }).fill('Van 7');
  for (let i = 0; i < 3; i++) {
    const stop = stops.nth(i);
    await stop.getByLabel('Departure').fill(`2026-12-01T${String(9 + i).padStart(2, '0')}:00`);
    await stop.getByLabel('Arrival').fill(`2026-12-01T${String(9 + i).padStart(2, '0')}:45`);
    await stop.getByLabel('Route').fill(`Leg ${i + 1}: I-5 south`);
  }
  // Leaving with changes not saved asks first.
  await page.getByRole('button', { name: 'Back to trips' }).click();
  await expect(page.getByRole('alert')).toHaveText('This trip has changes that are not saved. Save trip, or press Back to trips again to drop them.');
  await page.getByRole('button', { name: 'Save trip' }).click();
  await expect(page.getByRole('status')).toHaveText('Saved T-000001');
  await screenshot(page, 'trips-edit-1366x768');

  await page.getByRole('button', { name: 'Back to trips' }).click();
  const row = page.locator('tr[data-trip="T-000001"]');
  await expect(row).toContainText('0 of 3');
  await expect(row).toContainText('Ana Ruiz · Van 7');
  await row.getByRole('button', { name: 'Pack' }).click();

  const status = page.getByTestId('pack-status');
  const stopButton = (n: number) =>
    page
      .getByRole('list', { name: 'Stops' })
      .getByRole('button')
      .nth(n - 1);
  // Stop 1 (Harbor Wellness): Sour Diesel ×3 and OG Kush ×6. An OG Kush item fills its own line.
  await expect(page.getByRole('heading', { name: 'Stop 1: Harbor Wellness' })).toBeVisible();
  await wedgeScan(page, item(2));
  await expect(status).toContainText(`Packed 6 of ${item(2)} (OG Kush cartridge) for OG Kush cartridge, stop 1`);
  await expect(page.getByRole('table', { name: 'Lines of stop 1' }).getByTestId('missing')).toHaveText(['3 each', 'None']);
  await wedgeScan(page, item(1));
  await expect(status).toContainText('Stop 1 complete');
  await expect(page.getByTestId('stop-state-1')).toHaveText('Complete');

  // Stop 2 (Green Leaf): an unknown id and an id already on stop 1 are refused, big, with the reason.
  await stopButton(2).click();
  await wedgeScan(page, '2026999999999999');
  await expect(status).toHaveClass(/look-error/);
  await expect(status).toContainText("2026999999999999 is not in this location's BioTrack inventory");
  await screenshot(page, 'trips-pack-refused-1366x768');
  await wedgeScan(page, item(2));
  await expect(status).toContainText(`${item(2)} is already packed on stop 1 (Harbor Wellness): one id goes to one stop`);
  await expect(page.getByTestId('stop-state-2')).toHaveText('Missing items');
  await wedgeScan(page, item(6));
  await expect(status).toContainText('Stop 2 complete');

  // Stop 3 (Summit): OG Kush ×4, Blue Dream ×2, Sour Diesel ×5, one scan each.
  await stopButton(3).click();
  for (const i of [5, 3, 7]) await wedgeScan(page, item(i));
  await expect(status).toContainText('Stop 3 complete');
  await expect(page.getByTestId('stop-state-3')).toHaveText('Complete');
  await expect(page.getByText('3 of 3 stops packed')).toBeVisible();
  await screenshot(page, 'trips-pack-1366x768');

  await page.getByRole('button', { name: 'Back to trips' }).click();
  await expect(row).toContainText('3 of 3');
});

test('a dispatcher deletes a draft from its editor after confirming, and its order can be picked again', async ({ page, station }) => {
  await oneStopDraft(page, station.url);
  await page.getByRole('button', { name: 'Delete trip' }).click();
  await page.getByRole('button', { name: 'Keep' }).click();
  await expect(page.getByRole('heading', { name: 'Edit T-000001' })).toBeVisible();
  await page.getByRole('button', { name: 'Delete trip' }).click();
  await page.getByRole('button', { name: 'Delete T-000001' }).click();
  await expect(page.getByRole('status')).toHaveText('Trip T-000001 deleted');
  await expect(page.locator('tr[data-trip="T-000001"]')).toHaveCount(0);
  await page.getByRole('button', { name: 'New trip' }).click();
  await expect(page.getByLabel('Pick order INV-26000')).toBeVisible();
});

test('a biller opens a trip read only: no new trip, no packing', async ({ page, station }) => {
  await oneStopDraft(page, station.url);
  await expect(page.getByRole('heading', { name: 'Edit T-000001' })).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).click();

  await signIn(page, 'billing', 'dockside-billing');
  await toTrips(page);
  await expect(page.getByRole('button', { name: 'New trip' })).toHaveCount(0);
  await page.locator('tr[data-trip="T-000001"]').getByRole('button', { name: 'Open' }).click();
  await expect(page.getByRole('heading', { name: 'Stop 1: Green Leaf Dispensary' })).toBeVisible();
  await expect(page.getByLabel('Inventory id')).toHaveCount(0);
  await expect(page.getByTestId('pack-status')).toHaveCount(0);
});

test.describe('with a USB scanner', () => {
  test.use({ stationArgs: ['--demo', '--hid-sim'] });

  test('a USB scanner sent to Trips packs on the packing screen', async ({ page, station }) => {
    await page.goto(station.url);
    await signIn(page, 'admin', 'dockside-admin');
    await pairSimulatedScanner(page, station);
    const row = page.locator('tr[data-scanner="Voyager 1250g 1"]');
    await row.getByLabel('Screen for Voyager 1250g 1').selectOption('trips');
    await row.getByRole('button', { name: 'Save' }).click();
    await expect(row.getByLabel('Screen for Voyager 1250g 1')).toHaveValue('trips');

    await toTrips(page);
    await page.getByRole('button', { name: 'New trip' }).click();
    await page.getByLabel('Pick order INV-26000').check();
    await page.getByRole('button', { name: 'Create trip with 1 stop' }).click();
    await page.getByRole('button', { name: 'Back to trips' }).click();
    await page.locator('tr[data-trip="T-000001"]').getByRole('button', { name: 'Pack' }).click();
    expect((await hid(station, { action: 'type', path: SIM_SCANNER.path, text: item(6) })).delivered).toBe(1);
    await expect(page.getByTestId('pack-status')).toContainText('Stop 1 complete');
  });
});
