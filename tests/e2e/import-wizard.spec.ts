import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import type { Page } from '@playwright/test';
import { expect, screenshot, signIn, test } from './fixtures';

test.use({ stationArgs: ['--demo'] });

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'dockside-wizard-'));

async function openImport(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await signIn(page, 'billing', 'dockside-billing');
  await page
    .getByRole('navigation', { name: 'Screens' })
    .getByRole('button', { name: /Import/ })
    .click();
}

async function importAndExpect(page: Page, links: number): Promise<void> {
  await page.getByRole('button', { name: `Import ${links} links` }).click();
  await expect(page.getByTestId('import-result')).toContainText(`Imported ${links} links`);
}

test('a European CSV (semicolons, BOM, CRLF, title rows above the header) is read as detected', async ({ page, station }) => {
  const file = path.join(tmp(), 'manifest-eu.csv');
  const lines = ['Versandliste Tor 4;;', ';;', 'Sack;Bag;Notiz', ...Array.from({ length: 8 }, (_, i) => `SB51001;EU-${i + 1};ok`)];
  fs.writeFileSync(file, `\uFEFF${lines.join('\r\n')}\r\n`);
  await openImport(page, station.url);
  await page.getByLabel('Choose a spreadsheet…').setInputFiles(file);

  await expect(page.getByLabel('Separator')).toHaveValue(';');
  await expect(page.getByLabel('Separator').locator('option:checked')).toHaveText('Semicolon ( ; ) — detected');
  await expect(page.getByLabel('Header row')).toHaveValue('3');
  await expect(page.getByLabel('Parent bag column').locator('option:checked')).toHaveText('Sack (e.g. SB51001)');
  await expect(page.getByLabel('Child bag column').locator('option:checked')).toHaveText('Bag (e.g. EU-1)');
  await expect(page.getByTestId('total-link')).toHaveText('8');
  await screenshot(page, 'import-wizard-eu-csv-1366x768');

  // Read with commas instead, as a person trying it out would: one column, so it asks; back to ;.
  await page.getByLabel('Separator').selectOption(',');
  await expect(page.getByTestId('import-needs')).toBeVisible();
  await expect(page.getByRole('button', { name: /^Import \d* ?links$/ })).toBeDisabled();
  await page.getByLabel('Separator').selectOption(';');
  await expect(page.getByTestId('total-link')).toHaveText('8');
  await importAndExpect(page, 8);
});

test('a workbook whose bags are on the second sheet below a title row: that sheet is picked, the others listed with row counts', async ({
  page,
  station,
}) => {
  const wb = new ExcelJS.Workbook();
  const readMe = wb.addWorksheet('Read me');
  readMe.addRow(['How to fill in this workbook']);
  readMe.addRow(['One bag per row on the Bags sheet']);
  const bags = wb.addWorksheet('Bags');
  bags.addRow(['Truck 12 — 26 November']);
  bags.addRow(['Parent Bag', 'Child Bag']);
  for (let i = 1; i <= 6; i++) bags.addRow(['SB52001', `TR12-${i}`]);
  const file = path.join(tmp(), 'truck-12.xlsx');
  await wb.xlsx.writeFile(file);

  await openImport(page, station.url);
  await page.getByLabel('Choose a spreadsheet…').setInputFiles(file);
  const sheet = page.getByLabel('Sheet');
  await expect(sheet.locator('option:checked')).toHaveText('Bags — 8 rows');
  await expect(sheet.locator('option')).toHaveText(['Read me — 2 rows', 'Bags — 8 rows']);
  await expect(page.getByLabel('Header row')).toHaveValue('2');
  await expect(page.getByTestId('total-link')).toHaveText('6');
  await screenshot(page, 'import-wizard-second-sheet-1366x768');

  await sheet.selectOption({ label: 'Read me — 2 rows' });
  await expect(page.getByTestId('import-needs')).toBeVisible();
  await sheet.selectOption({ label: 'Bags — 8 rows' });
  await expect(page.getByTestId('total-link')).toHaveText('6');
  await importAndExpect(page, 6);
});

test('a file without a header row: the person picks the parent and child columns from their samples', async ({ page, station }) => {
  const file = path.join(tmp(), 'scanner-dump.csv');
  fs.writeFileSync(file, Array.from({ length: 5 }, (_, i) => `SB53001,00${i + 7}4411`).join('\n'));
  await openImport(page, station.url);
  await page.getByLabel('Choose a spreadsheet…').setInputFiles(file);
  await expect(page.getByLabel('Header row')).toHaveValue('0');
  await expect(page.getByTestId('import-needs')).toHaveText('Choose which column holds the parent bag and which the child bag.');
  await expect(page.getByRole('table', { name: 'Columns' })).toContainText('0074411');
  await screenshot(page, 'import-wizard-no-header-1366x768');

  await page.getByLabel('Parent bag column').selectOption({ label: 'Column A (e.g. SB53001)' });
  await page.getByLabel('Child bag column').selectOption({ label: 'Column B (e.g. 0074411)' });
  await expect(page.getByTestId('total-link')).toHaveText('5');
  await expect(page.getByRole('table', { name: 'First rows' })).toContainText('0074411'); // leading zeros kept: CSV is text
  await importAndExpect(page, 5);
});
