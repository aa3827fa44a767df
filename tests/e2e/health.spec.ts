import fs from 'node:fs';
import yauzl from 'yauzl';
import { atBothSizes, expect, screenshot, signIn, test, wedgeScan } from './fixtures';

test.use({ stationArgs: ['--demo'] });

/** The names of a zip's entries, and whether each could be read to its end. */
async function zipEntryNames(file: string): Promise<string[]> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(fs.readFileSync(file), { lazyEntries: true }, (e, z) => (e ? reject(e) : resolve(z))),
  );
  const names: string[] = [];
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) =>
      zip.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        stream.on('data', () => undefined);
        stream.on('end', () => {
          names.push(entry.fileName);
          zip.readEntry();
        });
      }),
    );
    zip.on('end', () => resolve());
    zip.on('error', reject);
    zip.readEntry();
  });
  return names;
}

test('an admin sees the station’s health, backs up now, and exports diagnostics as a zip', async ({ page, station }) => {
  await page.goto(station.url);
  await signIn(page, 'admin', 'dockside-admin');
  // A scan at the door first: the latency figure has something to show.
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: /Scan/ }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Scan' })).toBeVisible();
  await wedgeScan(page, 'SB10001');
  await expect(page.getByTestId('parent-code')).toHaveText('SB10001');
  await wedgeScan(page, 'KID-0001');
  await expect(page.getByTestId('scan-status')).toContainText('Linked KID-0001 → SB10001');
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: /Admin/ }).click();
  await page.getByRole('tab', { name: 'Health' }).click();
  const health = page.getByRole('region', { name: 'Health' });

  await expect(page.getByTestId('health-version')).toHaveText(/^\d+\.\d+\.\d+/);
  const size = /\d+(\.\d)? (B|KB|MB|GB|TB)/;
  await expect(page.getByTestId('health-memory').locator('.figure')).toHaveText(size);
  await expect(page.getByTestId('health-database').locator('.figure')).toHaveText(/ (KB|MB|GB)$/);
  await expect(page.getByTestId('health-disk').locator('.figure')).toHaveText(size);
  await expect(page.getByTestId('health-errors').locator('.figure')).toHaveText(/^\d+$/);
  await expect(page.getByTestId('health-latency').locator('.figure')).toHaveText(/^\d+(\.\d)? ms$/);
  await expect(page.getByTestId('health-latency').locator('.detail')).toHaveText(/^[1-9]\d* scans?$/);
  await expect(page.getByTestId('health-sync').locator('.figure')).toHaveText(/^\d+$/);
  const backupsTable = page.getByRole('table', { name: 'Backup files' });

  // A fresh station has never been backed up: said in red until Back up now.
  const lastBackup = page.getByTestId('health-backup');
  await expect(lastBackup.locator('.figure')).toHaveText('never');
  await expect(lastBackup).toHaveClass(/bad/);
  await expect(health.getByRole('alert').filter({ hasText: 'No backup yet' })).toBeVisible();
  await screenshot(page, 'admin-health-never-backed-up-1366x768');
  await page.getByRole('button', { name: 'Back up now' }).click();
  await expect(page.getByRole('status').filter({ hasText: /^Backed up: dockside-\d{8}-\d{6}\.db/ })).toBeVisible();
  const fileName = /dockside-\d{8}-\d{6}\.db/.exec((await page.getByRole('status').filter({ hasText: 'Backed up' }).textContent()) ?? '')![0];
  await expect(backupsTable.getByRole('row').filter({ hasText: fileName })).toHaveCount(1);
  await expect(lastBackup.locator('.figure')).toHaveText('just now');
  await expect(lastBackup).not.toHaveClass(/bad/);

  await atBothSizes(page, 'admin-health', { show: health.locator('.tiles'), readable: true });

  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export diagnostics' }).click();
  const zip = await download;
  expect(zip.suggestedFilename()).toMatch(/^dockside-diagnostics-\d{8}-\d{6}\.zip$/);
  await expect(page.getByRole('status').filter({ hasText: /^Saved dockside-diagnostics-.*secrets are redacted$/ })).toBeVisible();
  const names = await zipEntryNames((await zip.path())!);
  expect(names).toEqual(expect.arrayContaining(['README.txt', 'health.json', 'settings.json', 'audit-last-day.jsonl']));
  expect(names.some((n) => /^logs\/dockside\.\d+\.log$/.test(n))).toBe(true);
});
