import { expect, screenshot, signIn, test, unreadableText } from './fixtures';

// The app on a desktop without a keyring: safeStorage would only have its fixed key (basic_text).
test.use({ stationArgs: ['--demo', '--refuse-secrets'] });

test('without a keyring, Admin → Sync says credentials cannot be saved and why, and saving one is refused', async ({ page, station }) => {
  await page.goto(station.url);
  await signIn(page, 'admin', 'dockside-admin');
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: /Admin/ }).click();
  await page.getByRole('tab', { name: 'Sync' }).click();

  const problem = page.getByTestId('credential-store-problem');
  await expect(problem).toHaveText(/^Credentials cannot be saved on this station: it has no keyring \(GNOME Keyring or KWallet\)/);
  await expect(problem).toHaveAttribute('role', 'alert');

  const row = page.locator('tr[data-credential="leaftrade.token"]');
  await expect(row).toContainText('Not set');
  await row.getByLabel('New value for LeafTrade — token').fill('a-token');
  await row.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Not saved: this station has no keyring to lock credentials away.' })).toBeVisible();
  await expect(row).toContainText('Not set');

  for (const [w, h] of [
    [1366, 768],
    [1920, 1080],
  ]) {
    await page.setViewportSize({ width: w, height: h });
    await problem.scrollIntoViewIfNeeded();
    expect(await unreadableText(page)).toEqual([]);
    await screenshot(page, `security-no-keyring-${w}x${h}`);
  }
});
