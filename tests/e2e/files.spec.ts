import type { Page } from '@playwright/test';
import { expect, expectReadable, screenshot, signIn, test, testControlPost, unreadableText, wedgeScan, type StationProcess } from './fixtures';

test.use({ stationArgs: ['--demo'] });

/**
 * Test host only: every `bags/scan` fails with SQLite's own SQLITE_FULL until space is "freed"
 * (the integration tests fill a real disk, or cap the database, to prove main's side of it).
 */
async function diskFull(station: StationProcess, full: boolean): Promise<void> {
  const body = full ? { channel: 'bags/scan', count: 100, as: 'disk_full' } : { channel: 'bags/scan', count: 0 };
  const res = await testControlPost(station, '/__test/fail', body);
  if (!res.ok) throw new Error(`fail control: ${res.status} ${await res.text()}`);
}

test('a scan while the disk is full is refused in words the dock can act on, and scanning resumes once space is freed', async ({ page, station }) => {
  await page.goto(station.url);
  await signIn(page, 'dock1', '3917');
  await expect(page.getByRole('heading', { level: 1, name: 'Scan' })).toBeVisible();
  const status = page.getByTestId('scan-status');
  await wedgeScan(page, 'SB10001');
  await expect(page.getByTestId('parent-code')).toHaveText('SB10001');

  await diskFull(station, true);
  await wedgeScan(page, 'KID-0001');
  await expect(status.locator('.scan-status-title')).toHaveText('Disk full: scan NOT saved');
  await expect(status.locator('.scan-status-detail')).toHaveText(
    "The station's disk is full: this scan was NOT saved. Tell IT; scanning resumes when space is freed.",
  );
  await expect(status).toHaveClass(/look-error/);
  await expectReadable(status.locator('.scan-status-detail'), { minFontPx: 28 });
  await expect(status).not.toContainText('Something went wrong');
  await screenshot(page, 'scan-disk-full');
  // Still full: the next scan is refused the same way, and nothing was counted.
  await wedgeScan(page, 'KID-0002');
  await expect(status.locator('.scan-status-detail')).toContainText('this scan was NOT saved');
  await expect(page.getByTestId('child-count')).toHaveText('0 / 30');

  await diskFull(station, false);
  await wedgeScan(page, 'KID-0001');
  await expect(status).toContainText('Linked KID-0001 → SB10001 (1)');
  await expect(page.getByTestId('child-count')).toHaveText('1 / 30');
});

async function openStationSettings(page: Page, station: StationProcess) {
  await page.goto(station.url);
  await signIn(page, 'admin', 'dockside-admin');
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: /Admin/ }).click();
  await page.getByRole('tab', { name: 'Station' }).click();
}

for (const size of [
  { width: 1366, height: 768 },
  { width: 1920, height: 1080 },
]) {
  const at = `${size.width}x${size.height}`;
  test.describe(at, () => {
    test.use({ viewport: size });

    test(`Admin → Station shows the data folder's sizes, the free space and the uploads switch, readable at ${at}`, async ({ page, station }) => {
      await openStationSettings(page, station);
      const folder = page.getByRole('region', { name: 'Data folder' });
      const size = /^\d+(\.\d)? (B|KB|MB|GB|TB)$/;
      for (const label of ['Database (with its write-ahead log)', 'Uploads waiting to be imported', 'Exports and rejected-row reports', 'Logs']) {
        const row = folder.getByRole('row').filter({ hasText: label });
        await expect(row).toHaveCount(1);
        await expect(row.locator('td.num').first()).toHaveText(size);
      }
      // The demo's database is real bytes, not a placeholder.
      await expect(folder.locator('tr[data-part="database"] td.num').first()).toHaveText(/ (KB|MB|GB)$/);
      await expect(folder.getByTestId('usage-free')).toHaveText(/^Free on this disk: \d+(\.\d)? (B|KB|MB|GB|TB) of \d+(\.\d)? (B|KB|MB|GB|TB)$/);

      const enforce = page.getByRole('switch', { name: 'Uploads must match the scan id patterns' });
      await expect(enforce).not.toBeChecked();
      await expect(page.getByText('Off: uploads accept any id format; scanning always checks the patterns.')).toBeVisible();
      await expect(page.getByLabel('Keep exports and reports (days)')).toHaveValue('7');

      await enforce.scrollIntoViewIfNeeded();
      await screenshot(page, `admin-station-files-${at}`);
      await folder.scrollIntoViewIfNeeded();
      await screenshot(page, `admin-station-data-folder-${at}`);
      expect(await unreadableText(page)).toEqual([]);

      await enforce.check();
      await page.getByRole('button', { name: 'Save settings' }).click();
      await expect(page.getByText('Station settings saved')).toBeVisible();
      // A new window (the session is per window), to see what was saved rather than what was typed.
      await openStationSettings(page, station);
      await expect(page.getByRole('switch', { name: 'Uploads must match the scan id patterns' })).toBeChecked();
    });
  });
}
