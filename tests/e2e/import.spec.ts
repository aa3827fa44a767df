import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { expect, screenshot, signIn, test } from './fixtures';

test.use({ stationArgs: ['--demo'] });

async function smallWorkbook(): Promise<string> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Truck 9');
  ws.addRow(['Parent Bag', 'Child Bag', 'Notes']);
  for (let i = 1; i <= 10; i++) ws.addRow(['SB40001', `T9-${String(i).padStart(3, '0')}`, '']);
  ws.addRow(['SB4000', 'T9-011', 'typo in parent']);
  ws.addRow(['SB40001', 12345, 'number, not text']);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dockside-xlsx-')), 'truck-9.xlsx');
  await wb.xlsx.writeFile(file);
  return file;
}

test('a biller imports a small XLSX: preview with two bad rows, progress, result, rejected-rows report', async ({ page, station }) => {
  const file = await smallWorkbook();
  // Progress comes as job/progress events: the screen asks for a job's state once, never in a loop.
  const jobReads: string[] = [];
  page.on('websocket', (ws) =>
    ws.on('framesent', (f) => typeof f.payload === 'string' && f.payload.includes('"channel":"jobs/get"') && jobReads.push(f.payload)),
  );
  await page.goto(station.url);
  await signIn(page, 'billing', 'dockside-billing');
  await page
    .getByRole('navigation', { name: 'Screens' })
    .getByRole('button', { name: /Import/ })
    .click();

  await page.getByLabel('Choose a spreadsheet (.xlsx or .csv) with a parent and a child column').setInputFiles(file);
  const preview = page.getByLabel('Preview');
  await expect(preview).toContainText('truck-9.xlsx — nothing is written until you import');
  await expect(page.getByTestId('total-rows')).toHaveText('12');
  await expect(page.getByTestId('total-link')).toHaveText('10');
  await expect(page.getByTestId('total-rejected')).toHaveText('2');
  const rejected = page.getByRole('table', { name: 'Rejected rows' });
  await expect(rejected).toContainText('Row 12');
  await expect(rejected).toContainText('SB4000 is not a valid parent id: expected SB + 5 digits');
  await expect(rejected).toContainText('Child column holds a number (12345), not text');
  await expect(page.getByLabel('Parent column')).toHaveValue('0');
  await screenshot(page, 'import-preview');

  await page.getByRole('button', { name: 'Import 10 links' }).click();
  await expect(page.getByRole('progressbar', { name: 'Import progress' })).toHaveAttribute('aria-valuenow', '100');
  await expect(page.getByTestId('import-result')).toContainText(
    'Imported 10 links from truck-9.xlsx: 1 new parent, 10 new children; 0 already there, 0 duplicates, 2 rejected.',
  );
  await screenshot(page, 'import-done');

  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download rejected rows (CSV)' }).click();
  const report = await download;
  expect(report.suggestedFilename()).toBe('truck-9-rejected.csv');
  const text = Buffer.concat(await (await report.createReadStream()).toArray()).toString('utf8');
  expect(text).toContain('12,SB4000,T9-011,Parent: SB4000 is not a valid parent id: expected SB + 5 digits');
  expect(text).toContain('13,SB40001,,"Child column holds a number (12345), not text');

  // The bags are there: search finds them.
  await page
    .getByRole('navigation', { name: 'Screens' })
    .getByRole('button', { name: /Search/ })
    .click();
  await page.getByLabel('Id starts with').fill('T9-');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(page.locator('table.data-table tbody tr')).toHaveCount(10);

  // Exports: the bags table as CSV.
  await page
    .getByRole('navigation', { name: 'Screens' })
    .getByRole('button', { name: /Import/ })
    .click();
  const csv = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Bags as CSV' }).click();
  const exported = await csv;
  expect(exported.suggestedFilename()).toMatch(/^dockside-bags-.*\.csv$/);
  expect(Buffer.concat(await (await exported.createReadStream()).toArray()).toString('utf8')).toContain('T9-010,child,SB40001');
  await expect(page.getByRole('status').filter({ hasText: 'Saved dockside-bags' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Bags as CSV' })).toBeEnabled();
  expect(jobReads.length, 'jobs/get calls for two jobs').toBeLessThanOrEqual(2);
});
