import { startBagsSimulator, type BagsSimulator } from '../../src/simulators/bags-upstream';
import { expect, screenshot, signIn, test, wedgeScan } from './fixtures';

let sim: BagsSimulator;
test.beforeAll(async () => {
  sim = await startBagsSimulator();
});
test.afterAll(async () => {
  await sim.close();
});
test.use({ stationArgs: ['--demo'] });

test('sync status: online, then offline with changes waiting when the upstream is down, then sent on request', async ({ page, station }) => {
  // The demo station, pointed at this test's simulator instead of its own.
  await station.kill();
  const args = ['--bags-upstream', sim.url, '--sync-interval-ms', '500'];
  station.extraArgs.push(...args);
  await station.start(station.port);

  await page.goto(station.url);
  await signIn(page, 'admin', 'dockside-admin');
  const chip = page.getByTestId('sync-chip');
  // "Online" shows before the first drain too, so wait for what matters: the demo's bags arriving.
  await expect.poll(() => sim.stats().applied, { timeout: 30_000 }).toBeGreaterThan(50);
  await expect(chip).toHaveText('Sync: online');

  sim.faults.unavailable = 1000;
  sim.faults.retryAfterS = 600;
  // Admins land on Reports → Today: scanning happens on Scan.
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: /Scan/ }).click();
  await wedgeScan(page, 'SB50001');
  await wedgeScan(page, 'SYNC-1');
  await expect(chip).toContainText('Sync: offline (Site hub)', { timeout: 15_000 });
  await expect(chip).toContainText('3 waiting');
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: /Admin/ }).click();
  await page.getByRole('tab', { name: 'Sync' }).click();
  const row = page.locator('tr[data-upstream="bags"]');
  await expect(row).toContainText('Offline until');
  await expect(row).toContainText('Site hub is unavailable (503)');
  await screenshot(page, 'sync-offline');

  sim.faults.unavailable = 0;
  await page.getByRole('button', { name: 'Send now' }).click();
  await expect(page.getByRole('status')).toHaveText('Sent what was waiting');
  await expect(row).toContainText('Online');
  await expect(chip).toHaveText('Sync: online');

  // ERP: the demo's OData simulator, credentials already set; cache both instances now.
  const creds = page.getByRole('table', { name: 'Credentials' });
  await expect(creds).toContainText('ERP DD — password');
  await expect(creds.locator('tr', { hasText: 'ERP CBR — user name' })).toContainText('Set');
  await page.getByRole('button', { name: 'Fetch and cache upstream data now' }).click();
  await expect(page.getByRole('status')).toHaveText(
    'ERP DD: 112 rows cached · ERP CBR: 112 rows cached · LeafTrade: 90 rows cached · BioTrack: 51 rows cached',
  );

  // BioTrack shows one facility's stock: the location entered here decides which.
  const location = page.getByLabel('BioTrack location (6-digit licence)');
  await expect(location).toHaveValue('990010');
  await location.fill('99001');
  await page.getByRole('button', { name: 'Save location' }).click();
  await expect(page.getByText('The BioTrack location is the facility licence: 6 digits')).toBeVisible();
  await location.fill('990020');
  await page.getByRole('button', { name: 'Save location' }).click();
  await expect(page.getByRole('status')).toHaveText('BioTrack location set to 990020');
  await page.getByRole('button', { name: 'Fetch and cache upstream data now' }).click();
  await expect(page.getByRole('status')).toHaveText(
    'ERP DD: 112 rows cached · ERP CBR: 112 rows cached · LeafTrade: 90 rows cached · BioTrack: 6 rows cached',
  );
  await screenshot(page, 'sync-biotrack-location');

  await page.getByLabel('New value for ERP DD — password').fill('wrong-password');
  await page.locator('tr[data-credential="erp.DD.password"]').getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status')).toHaveText('Saved ERP DD — password');
  await page.getByRole('button', { name: 'Fetch and cache upstream data now' }).click();
  // Refused upstream: the cached copy stands in, and says why.
  await expect(page.getByRole('alert')).toContainText('ERP DD refused the credentials (401)');
  await expect(page.locator('tr[data-upstream="erp-DD"]')).toContainText('refused the credentials', { timeout: 10_000 });
  await expect(page.locator('tr[data-upstream="erp-CBR"]')).toContainText('Online');
  await screenshot(page, 'sync-online');
});
