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
  ws.addRow(['SB40001', 12345, 'a number: read as the id 12345']);
  ws.addRow(['SB40001', new Date(Date.UTC(2026, 10, 2)), 'a date, not an id']);
  ws.addRow(['', 'T9-099', 'no parent']);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dockside-xlsx-')), 'truck-9.xlsx');
  await wb.xlsx.writeFile(file);
  return file;
}

test('a biller imports a small XLSX: preview with a number note and two bad rows, progress, result, rejected-rows report', async ({
  page,
  station,
}) => {
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

  await page.getByText('Choose a spreadsheet…').click({ trial: true }); // a big visible button
  await page.getByLabel('Choose a spreadsheet…').setInputFiles(file);
  const preview = page.getByLabel('Preview');
  await expect(preview.getByRole('heading', { name: 'truck-9.xlsx' })).toBeVisible();
  await expect(page.getByTestId('total-rows')).toHaveText('13');
  await expect(page.getByTestId('total-link')).toHaveText('11');
  await expect(page.getByTestId('total-rejected')).toHaveText('2');
  await expect(page.getByTestId('import-note')).toContainText('1 Child Bag cells are numbers in the spreadsheet: they are read as whole-number ids.');
  const rejected = page.getByRole('table', { name: 'Rejected rows' });
  await expect(rejected).toContainText('Row 13');
  await expect(rejected).toContainText('Child column holds a date (2026-11-02), not an id');
  await expect(rejected).toContainText('Parent is empty');
  const reasons = page.getByRole('table', { name: 'Reasons' });
  await expect(reasons.getByRole('row', { name: /Parent is empty/ })).toContainText('14');
  await expect(page.getByLabel('Parent bag column')).toHaveValue('0');
  await expect(page.getByLabel('Header row')).toHaveValue('1');
  await screenshot(page, 'import-preview');

  await page.getByRole('button', { name: 'Import 11 links' }).click();
  await expect(page.getByRole('progressbar', { name: 'Import progress' })).toHaveAttribute('aria-valuenow', '100');
  await expect(page.getByTestId('import-result')).toContainText(
    'Imported 11 links from truck-9.xlsx: 1 new parent, 11 new children; 0 already there, 0 duplicates, 2 rejected.',
  );
  await screenshot(page, 'import-done');

  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download rejected rows (CSV)' }).click();
  const report = await download;
  expect(report.suggestedFilename()).toBe('truck-9-rejected.csv');
  const text = Buffer.concat(await (await report.createReadStream()).toArray()).toString('utf8');
  expect(text).toContain('13,SB40001,,"Child column holds a date (2026-11-02), not an id"');
  expect(text).toContain('14,,T9-099,Parent is empty');

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
