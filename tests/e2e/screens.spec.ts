import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, failNext, screenshot, signIn, test, unreadableText, wedgeScan } from './fixtures';

test.use({ stationArgs: ['--demo'] });

/**
 * The screens a warehouse reads from a metre away, at the two station screen sizes: each is
 * screenshotted (screenshots/, for a person to look at) and checked for text too small, too faint
 * or wrapped into a column of letters.
 */
const SIZES = [
  { width: 1366, height: 768 },
  { width: 1920, height: 1080 },
];

function csvOfTenLinks(): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dockside-csv-')), 'truck-4.csv');
  const rows = Array.from({ length: 10 }, (_, i) => `SB40004,T4-${String(i + 1).padStart(3, '0')}`);
  fs.writeFileSync(file, ['Parent Bag,Child Bag', ...rows, 'SB40004,'].join('\n'));
  return file;
}

for (const size of SIZES) {
  const at = `${size.width}x${size.height}`;

  test.describe(at, () => {
    test.use({ viewport: size });

    test(`scan, bills, import and export, Admin → Sync and Audit, and search are readable at ${at}`, async ({ page, station }) => {
      const problems: string[] = [];
      const look = async (name: string) => {
        await screenshot(page, `${name}-${at}`);
        // The screen scrolls inside its content area: the rest of it, as a person scrolling sees it.
        const content = page.locator('main.content');
        if (await content.evaluate((el) => el.scrollHeight > el.clientHeight)) {
          await content.evaluate((el) => el.scrollTo(0, el.scrollHeight));
          await screenshot(page, `${name}-${at}-scrolled`);
          await content.evaluate((el) => el.scrollTo(0, 0));
        }
        problems.push(...(await unreadableText(page)).map((p) => `${name}: ${p}`));
      };
      const open = (screen: RegExp) => page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: screen }).click();
      await page.goto(station.url);
      await signIn(page, 'admin', 'dockside-admin');

      await open(/Scan/);
      const status = page.getByTestId('scan-status');
      await wedgeScan(page, 'SB10001');
      await wedgeScan(page, 'KID-0001');
      await expect(status).toContainText('Linked KID-0001 → SB10001 (1)');
      await look('screen-scan');
      await failNext(station, 'bags/scan');
      await wedgeScan(page, 'KID-0002');
      await expect(status).toContainText('Scan not saved');
      await look('screen-scan-error');
      await failNext(station, 'bags/current');
      await wedgeScan(page, 'KID-0002');
      await expect(page.getByRole('alert').filter({ hasText: 'could not be reloaded' })).toBeVisible();
      await look('screen-scan-reload-failed');

      await open(/Bills/);
      await page.getByRole('button', { name: /B-000001/ }).click();
      await expect(page.getByTestId('bill-parents')).toBeVisible();
      await look('screen-bill');

      await open(/Import/);
      await page.getByLabel('Choose a spreadsheet…').setInputFiles(csvOfTenLinks());
      await expect(page.getByTestId('total-link')).toHaveText('10');
      await look('screen-import-preview');
      await page.getByRole('button', { name: 'Import 10 links' }).click();
      await expect(page.getByTestId('import-result')).toContainText('Imported 10 links');
      const download = page.waitForEvent('download');
      await page.getByRole('button', { name: 'Bills as CSV' }).click();
      await download;
      await expect(page.getByRole('status').filter({ hasText: 'Saved dockside-bills' })).toBeVisible();
      await look('screen-import-export-done');

      await open(/Admin/);
      await page.getByRole('tab', { name: 'Sync' }).click();
      await expect(page.locator('tr[data-upstream="bags"]')).toBeVisible();
      await look('screen-admin-sync');
      await page.getByRole('tab', { name: 'Audit' }).click();
      await expect(page.locator('.audit-row').first()).toBeVisible();
      await look('screen-admin-audit');

      await open(/Search/);
      await page.getByLabel('Id starts with').fill('c-0000');
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await page.getByRole('button', { name: 'C-000001' }).click();
      await expect(page.getByRole('region', { name: 'Bag C-000001' })).toBeVisible();
      await look('screen-search');

      expect(problems).toEqual([]);
    });
  });
}
