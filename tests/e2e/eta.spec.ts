import fs from 'node:fs';
import ExcelJS from 'exceljs';
import type { Page } from '@playwright/test';
import { advanceClock, atBothSizes, expect, signIn, test, testControlPost } from './fixtures';

test.use({ stationArgs: ['--demo'] });

const nav = (page: Page, screen: RegExp) => page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: screen }).click();
const orderRows = (page: Page) => page.getByRole('table', { name: 'Open orders' }).locator('tbody tr');
const HEADERS = ['Order number', 'Revision', 'Customer', 'Customer group', 'Supplier', 'Scheduled', 'ETA', 'Production status', 'Quantity', 'ERP'];

test.describe('Reports → ETA', () => {
  test('an admin sets up a customer and a status, runs the report, filters, exports XLSX; with the ERP down it comes from the cache', async ({
    page,
    station,
  }) => {
    test.setTimeout(180_000);
    await page.setViewportSize({ width: 1366, height: 768 });
    await page.goto(station.url);
    await signIn(page, 'admin', 'dockside-admin');
    await nav(page, /Reports/);

    // Setup: a customer known by name in DD and by group in CBR.
    await page.getByRole('tab', { name: 'ETA setup' }).click();
    await page.getByLabel('Name in reports').fill('Coastal');
    await page.getByLabel('Name in DD').fill("O'Brien's Wellness");
    await page.getByLabel('DD name is a').selectOption({ label: 'Customer Name' });
    await page.getByLabel('Name in CBR').fill('Coastal Retail Group');
    await page.getByLabel('CBR name is a').selectOption({ label: 'Customer Group' });
    await page.getByRole('button', { name: 'Add customer' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Saved Coastal' })).toBeVisible();
    const customerRow = page.getByRole('table', { name: 'ETA customers' }).getByRole('row', { name: /Coastal/ });
    await expect(customerRow).toContainText("O'Brien's Wellness (Customer Name)");
    await expect(customerRow).toContainText('Coastal Retail Group (Customer Group)');
    const reportId = (await customerRow.locator('td.mono').textContent())!.trim();
    expect(reportId).toMatch(/^eta_/);

    // Bad input: refused in words, nothing added.
    await page.getByLabel('Name in reports').fill('Nowhere');
    await page.getByRole('button', { name: 'Add customer' }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'Enter a DD name or a CBR name' })).toBeVisible();
    await expect(page.getByRole('table', { name: 'ETA customers' }).locator('tbody tr')).toHaveCount(1);
    await page.getByLabel('Name in reports').fill('');

    // The status mapping: statuses in use now, one given a display name.
    await page.getByRole('button', { name: 'Refresh from live data' }).click();
    await expect(page.getByRole('status').filter({ hasText: /Added .*Cutting/ })).toBeVisible();
    const cutting = page.getByLabel('Display name for Cutting');
    await cutting.fill('In cutting');
    await page
      .getByRole('table', { name: 'Status mapping' })
      .getByRole('row', { name: /Cutting/ })
      .getByRole('button', { name: 'Save' })
      .click();
    await expect(page.getByRole('status').filter({ hasText: 'Saved “Cutting” as “In cutting”' })).toBeVisible();
    await atBothSizes(page, 'eta-setup', { show: page.getByRole('table', { name: 'Status mapping' }) });

    // The report: progress with log lines, then the rows.
    await page.getByRole('tab', { name: 'ETA', exact: true }).click();
    await page.getByLabel('Customer').selectOption({ label: 'Coastal' });
    // A slow ERP (1.5 s an answer), so the run can be watched: the bar under way and its log lines.
    expect((await testControlPost(station, '/__test/erp', { latencyMs: 1500 })).status).toBe(200);
    await page.getByRole('button', { name: 'Run report' }).click();
    await expect(page.getByRole('progressbar', { name: 'Report progress' })).toBeVisible();
    await expect(page.getByTestId('eta-log')).toContainText(/(DD|CBR): \d+ rows read/);
    const under = Number(await page.getByRole('progressbar', { name: 'Report progress' }).getAttribute('aria-valuenow'));
    expect(under).toBeLessThan(100);
    await testControlPost(station, '/__test/erp', { latencyMs: 0 });
    await expect(page.getByRole('progressbar', { name: 'Report progress' })).toHaveAttribute('aria-valuenow', '100');
    await page.getByRole('button', { name: /Show the log/ }).click();
    await expect(page.getByTestId('eta-log')).toContainText(/Done: \d+ open orders/);
    await expect(page.getByTestId('eta-log')).toContainText(/DD: \d+ open orders read from the ERP/);
    await page.getByRole('button', { name: 'Hide the log' }).click();
    await expect(page.getByTestId('eta-count')).toContainText(/Orders 1–/);
    await expect(page.getByTestId('eta-sources')).toContainText("DD customer “O'Brien's Wellness”");
    await expect(page.getByTestId('eta-sources')).toContainText('CBR group “Coastal Retail Group”');
    await expect(page.getByTestId('eta-cache-banner')).toHaveCount(0);
    await atBothSizes(page, 'eta-report', { show: page.getByTestId('eta-count') });

    // Sort by quantity, largest first.
    await page.getByRole('button', { name: /^Quantity/ }).click();
    await page.getByRole('button', { name: /^Quantity/ }).click();
    await expect(page.getByRole('button', { name: 'Quantity ▼' })).toBeVisible();
    const qty = async () =>
      (await orderRows(page).locator('td:nth-child(8)').allTextContents()).map((t) => Number(t.replace(/,/g, ''))).filter((n) => !Number.isNaN(n));
    const shown = await qty();
    expect(shown).toEqual([...shown].sort((a, b) => b - a));

    // Filter by the mapped status: every row says it, by its display name.
    await page.getByLabel('Production status').selectOption({ label: 'In cutting' });
    await expect(orderRows(page).first().locator('td').nth(6)).toHaveText('In cutting');
    for (const text of await orderRows(page).locator('td:nth-child(7)').allTextContents()) expect(text).toBe('In cutting');
    const count = Number(/of ([\d,]+)/.exec((await page.getByTestId('eta-count').textContent())!)![1].replace(/,/g, ''));
    expect(count).toBeGreaterThan(0);

    // Export XLSX of the filtered report: no sensitive column, the headers in order, order numbers as text.
    const downloaded = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export XLSX' }).click();
    const download = await downloaded;
    expect(download.suggestedFilename()).toMatch(new RegExp(`^${reportId}-\\d{4}-\\d{2}-\\d{2}-\\d{4}\\.xlsx$`));
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(fs.readFileSync((await download.path())!) as unknown as ArrayBuffer);
    const ws = wb.worksheets[0];
    const headers = (ws.getRow(1).values as unknown[]).slice(1);
    expect(headers).toEqual(HEADERS);
    for (const sensitive of ['Descn', 'Notes', 'BarcodeNo']) expect(headers).not.toContain(sensitive);
    expect(ws.rowCount - 1).toBe(count);
    for (let r = 2; r <= ws.rowCount; r++) {
      expect(ws.getRow(r).getCell(8).value).toBe('In cutting');
      expect(typeof ws.getRow(r).getCell(1).value).toBe('string');
    }

    // The ERP goes down (503 to every call); six minutes on, Force refresh shows the saved copy with its age and the reason.
    const down = await testControlPost(station, '/__test/erp', { down: true });
    expect(down.status).toBe(200);
    await advanceClock(station, 6 * 60_000);
    await page.getByRole('button', { name: 'Force refresh' }).click();
    await expect(page.getByRole('list', { name: 'Report warnings' })).toContainText(
      'DD: ERP DD is unavailable (503); showing the copy from 6 min ago',
    );
    const banners = page.getByTestId('eta-cache-banner');
    await expect(banners).toHaveCount(2);
    await expect(banners.first()).toContainText('ERP DD could not be read — showing its copy from');
    await expect(banners.first()).toContainText('(6 min ago). ERP DD is unavailable (503).');
    await expect(page.getByTestId('eta-count')).toContainText(/Orders 1–/);
    await atBothSizes(page, 'eta-report-cached', { show: page.getByTestId('eta-cache-banner').first() });
    await testControlPost(station, '/__test/erp', { down: false });
  });

  test('a dispatcher sees a silent report as stalled and retries it', async ({ page, station }) => {
    test.setTimeout(120_000);
    await page.setViewportSize({ width: 1366, height: 768 });
    await page.goto(station.url);
    await signIn(page, 'admin', 'dockside-admin');
    await nav(page, /Reports/);
    await page.getByRole('tab', { name: 'ETA setup' }).click();
    await page.getByLabel('Name in reports').fill('Harbor');
    await page.getByLabel('Name in DD').fill('Harbor Wellness');
    await page.getByRole('button', { name: 'Add customer' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Saved Harbor' })).toBeVisible();
    await page.getByRole('button', { name: 'Sign out' }).click();

    await signIn(page, 'dock1', '3917');
    await nav(page, /Reports/);
    await expect(page.getByRole('tab', { name: 'ETA setup' })).toHaveCount(0);
    await page.getByRole('tab', { name: 'ETA', exact: true }).click();
    // The ERP answers after 15 s; the station's clock moves 31 s on meanwhile: no word for over 30 s.
    await testControlPost(station, '/__test/erp', { latencyMs: 15_000 });
    await page.getByRole('button', { name: 'Run report' }).click();
    await expect(page.getByRole('progressbar', { name: 'Report progress' })).toBeVisible();
    await advanceClock(station, 31_000);
    const stalled = page.getByTestId('eta-stalled');
    await expect(stalled).toContainText('it has stalled', { timeout: 15_000 });
    await testControlPost(station, '/__test/erp', { latencyMs: 0 });
    await stalled.getByRole('button', { name: 'Retry' }).click();
    await expect(stalled).toHaveCount(0);
    await expect(page.getByTestId('eta-count')).toContainText(/Orders 1–/, { timeout: 30_000 });
    await expect(page.getByTestId('eta-sources')).toContainText('DD customer “Harbor Wellness”');
  });
});
