import { expect, screenshot, signIn, signOut, test, wedgeScan } from './fixtures';

test.use({ stationArgs: ['--demo'] });

test.describe('bag tracking', () => {
  test('a dispatcher scans a parent and 30 children, undoes one, meets a conflict and a malformed id', async ({ page, station }) => {
    await page.goto(station.url);
    await signIn(page, 'dock1', '3917');
    const status = page.getByTestId('scan-status');
    const count = page.getByTestId('child-count');
    await expect(page.getByRole('heading', { level: 1, name: 'Scan' })).toBeVisible();
    await screenshot(page, 'scan-idle');

    // Scans arrive as bursts wherever focus is: first with focus on the page body.
    await page.locator('body').click({ position: { x: 5, y: 760 } });
    await wedgeScan(page, 'sb10001');
    await expect(status).toContainText('New parent SB10001');
    await expect(page.getByTestId('parent-code')).toHaveText('SB10001');
    await expect(count).toHaveText('0 / 30');
    await screenshot(page, 'scan-parent');

    for (let i = 1; i <= 30; i++) {
      await wedgeScan(page, `KID-${String(i).padStart(4, '0')}`);
      await expect(count).toHaveText(`${i} / 30`);
    }
    await expect(status).toContainText('Linked KID-0030 → SB10001 (30)');
    await expect(page.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '30');
    await screenshot(page, 'scan-linked-30');

    // The manual field did not keep the scanned characters.
    await expect(page.getByLabel('Type an id and press Enter')).toHaveValue('');

    await page.keyboard.press('F9');
    await expect(status).toContainText('Undone: KID-0030 is off SB10001 (29 left)');
    await expect(count).toHaveText('29 / 30');
    await screenshot(page, 'scan-undone');

    // The same child again: calm, nothing changes.
    await wedgeScan(page, 'KID-0005');
    await expect(status).toContainText('KID-0005 is already on this parent');
    await expect(count).toHaveText('29 / 30');
    await screenshot(page, 'scan-already-linked');

    // A child already on another parent: refused, naming that parent.
    await wedgeScan(page, 'SB10002');
    await expect(status).toContainText('New parent SB10002');
    await wedgeScan(page, 'KID-0005');
    await expect(status).toContainText('On another parent');
    await expect(status).toContainText('KID-0005 is already on parent SB10001');
    await expect(count).toHaveText('0 / 30');
    await screenshot(page, 'scan-conflict');

    // A malformed id: refused with the reason.
    await wedgeScan(page, 'SB1234');
    await expect(status).toContainText('Not accepted');
    await expect(status).toContainText('SB1234 is not a valid parent id: expected SB + 5 digits');
    await screenshot(page, 'scan-invalid');

    // A person typing by hand into the field still works.
    const field = page.getByLabel('Type an id and press Enter');
    await field.pressSequentially('kid-0099', { delay: 120 });
    await field.press('Enter');
    await expect(status).toContainText('Linked KID-0099 → SB10002 (1)');
    await expect(page.locator('.recent tr').first()).toContainText('KID-0099');
  });

  test('a biller builds a bill of two parents by scanning and sees the right weight, then exports it', async ({ page, station }) => {
    await page.goto(station.url);
    await signIn(page, 'billing', 'dockside-billing');
    await expect(page.getByRole('heading', { level: 1, name: 'Bills' })).toBeVisible();
    await page.getByLabel('Note for a new bill').fill('Truck 12');
    await page.getByRole('button', { name: 'New bill' }).click();
    await expect(page.getByRole('status')).toContainText('Started bill B-000002');

    // Demo data: SB00002 has 12 children, M444-00001 has 5; 1 kg each.
    await wedgeScan(page, 'SB00002');
    await expect(page.getByTestId('bill-children')).toHaveText('12');
    await page.getByLabel('Parent bag id').fill('m444-00001');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect(page.getByTestId('bill-parents')).toHaveText('2');
    await expect(page.getByTestId('bill-children')).toHaveText('17');
    await expect(page.getByTestId('bill-weight')).toHaveText('17 kg');

    // SB00001 is on the demo's other bill.
    await wedgeScan(page, 'SB00001');
    await expect(page.getByRole('alert')).toHaveText('SB00001 is already on bill B-000001');
    await screenshot(page, 'bill-draft');

    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export XLSX' }).click();
    expect((await download).suggestedFilename()).toBe('bill-B-000002.xlsx');

    await page.getByRole('button', { name: 'Finalize bill' }).click();
    await page.getByRole('button', { name: 'Yes, finalize' }).click();
    await expect(page.getByRole('status')).toContainText('Bill B-000002 is finalized');
    await expect(page.getByLabel('Parent bag id')).toHaveCount(0);
    await screenshot(page, 'bill-finalized');

    const csv = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export CSV' }).click();
    const file = await csv;
    const text = await (await file.createReadStream()).toArray();
    expect(Buffer.concat(text).toString('utf8')).toContain('B-000002,finalized,SB00002,12,12,');
  });

  test('search finds bags by prefix and shows a bag’s parent, bill and history; admins see the audit trail', async ({ page, station }) => {
    await page.goto(station.url);
    await signIn(page, 'admin', 'dockside-admin');
    await page
      .getByRole('navigation', { name: 'Screens' })
      .getByRole('button', { name: /Search/ })
      .click();
    await page.getByLabel('Id starts with').fill('c-0000');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect(page.locator('table.data-table tbody tr')).toHaveCount(25);
    await page.getByRole('button', { name: 'Next page' }).click();
    await expect(page.getByText('Page 2')).toBeVisible();
    await page.getByRole('button', { name: 'C-000031' }).click();
    const detail = page.getByRole('region', { name: 'Bag C-000031' });
    await expect(detail).toContainText('SB00002');
    await expect(detail).toContainText('Linked C-000031 → SB00002 (1)');
    await screenshot(page, 'search-detail');

    await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: /Admin/ }).click();
    await page.getByRole('tab', { name: 'Audit' }).click();
    await page.getByLabel('Bag / bill / user id').fill('C-000031');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect(page.locator('.audit-row')).toHaveCount(2);
    await expect(page.locator('.audit-row').first()).toContainText('bags.linked');
    await page.locator('.audit-row').first().click();
    await expect(page.locator('.before-after')).toContainText('SB00002');
    await screenshot(page, 'admin-audit');
    await signOut(page);
  });
});
