import type { Page } from '@playwright/test';
import {
  addPerson,
  expect,
  expectReadable,
  passSecondFactor,
  phoneCode,
  screenshot,
  setUpFirstAdmin,
  setUpPhone,
  signIn,
  signOut,
  test,
  unreadableText,
} from './fixtures';
import { layoutProblems } from './layout-check';

const SIZES = [
  { width: 1366, height: 768 },
  { width: 1920, height: 1080 },
];

/** The screen at both station sizes: a screenshot of each, whole above the fold, readable from a metre. */
async function checkAtBothSizes(page: Page, name: string): Promise<void> {
  for (const size of SIZES) {
    await page.setViewportSize(size);
    await page.evaluate(() => document.fonts.ready);
    await screenshot(page, `security-totp-${name}-${size.width}x${size.height}`);
    const problems = [...(await layoutProblems(page, { mustFit: true })), ...(await unreadableText(page))];
    expect.soft(problems, `${name} at ${size.width}x${size.height}`).toEqual([]);
  }
  await page.setViewportSize(SIZES[0]);
}

test.describe('admin second factor', () => {
  test('a person sets up their phone from the QR screen, signs out, signs in with a computed code, and with a recovery code sets up a new phone', async ({
    page,
    station,
  }) => {
    await page.goto(station.url);
    await page.getByLabel('User name').fill('chief');
    await page.getByLabel('Full name').fill('Chief');
    await page.getByLabel('Password', { exact: true }).fill('warehouse-admin-1');
    await page.getByLabel('Repeat password').fill('warehouse-admin-1');
    await page.getByRole('button', { name: 'Create admin and sign in' }).click();

    // Setting up the phone: a QR code large enough for a phone, and the key to type in groups of four.
    await expect(page.getByRole('heading', { name: 'Set up your phone' })).toBeVisible();
    const qr = page.getByRole('img', { name: 'QR code for the authenticator app' });
    await expect(qr).toBeVisible();
    const key = page.getByTestId('totp-secret');
    await expect(key).toHaveText(/^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
    await checkAtBothSizes(page, 'set-up-phone');
    expect((await qr.boundingBox())!.width).toBeGreaterThanOrEqual(280);
    await expectReadable(page.getByLabel('6-digit code'), { minFontPx: 36 });
    setUpPhone(station.url, 'chief', (await key.textContent())!);

    await page.getByLabel('6-digit code').fill('000000');
    await page.getByRole('button', { name: 'Confirm and sign in' }).click();
    await expect(page.getByRole('alert')).toContainText('That code does not match');
    await page.getByLabel('6-digit code').fill(await phoneCode(station.url, 'chief'));
    await page.getByRole('button', { name: 'Confirm and sign in' }).click();

    // The recovery codes, shown this once.
    await expect(page.getByRole('heading', { name: 'Save your recovery codes' })).toBeVisible();
    const codes = await page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').allTextContents();
    expect(codes).toHaveLength(10);
    for (const c of codes) expect(c).toMatch(/^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
    await checkAtBothSizes(page, 'recovery-codes');
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await expect(page.getByRole('navigation', { name: 'Screens' })).toBeVisible();
    await signOut(page);

    // Later: the password, then the code the phone shows.
    await page.getByLabel('User name').fill('chief');
    await page.getByLabel('Password or PIN').fill('warehouse-admin-1');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('heading', { name: 'Enter your code' })).toBeVisible();
    await expect(page.getByLabel('6-digit code')).toHaveAttribute('inputmode', 'numeric');
    await checkAtBothSizes(page, 'enter-code');
    await page.getByLabel('6-digit code').fill('000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert')).toHaveText('That code is wrong. Type the newest code your phone shows.');
    await page.getByLabel('6-digit code').fill(await phoneCode(station.url, 'chief'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('navigation', { name: 'Screens' })).toBeVisible();
    await signOut(page);

    // The phone is lost: a recovery code, then a new phone.
    await page.getByLabel('User name').fill('chief');
    await page.getByLabel('Password or PIN').fill('warehouse-admin-1');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Lost your phone? Use a recovery code' }).click();
    await expect(page.getByRole('heading', { name: 'Use a recovery code' })).toBeVisible();
    await checkAtBothSizes(page, 'use-recovery-code');
    await page.getByLabel('Recovery code', { exact: true }).fill(codes[0]);
    await page.getByRole('button', { name: 'Use recovery code' }).click();
    await expect(page.getByRole('heading', { name: 'Set up your new phone' })).toBeVisible();
    expect(await passSecondFactor(page, 'chief')).toHaveLength(10);
    await signOut(page);

    // The new phone's code signs in; the used recovery code does not work again.
    await page.getByLabel('User name').fill('chief');
    await page.getByLabel('Password or PIN').fill('warehouse-admin-1');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Lost your phone? Use a recovery code' }).click();
    await page.getByLabel('Recovery code', { exact: true }).fill(codes[0]);
    await page.getByRole('button', { name: 'Use recovery code' }).click();
    await expect(page.getByRole('alert')).toHaveText('That recovery code is wrong, or it was used before.');
    await page.getByRole('button', { name: 'Use the code from my phone' }).click();
    await page.getByLabel('6-digit code').fill(await phoneCode(station.url, 'chief'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('navigation', { name: 'Screens' })).toBeVisible();
  });

  test('an admin resets another admin’s second factor from People: that admin’s window is signed out and they set up a phone at the next sign-in', async ({
    page,
    station,
    browser,
  }) => {
    await page.goto(station.url);
    await setUpFirstAdmin(page);
    await addPerson(page, { username: 'deputy', displayName: 'Deputy Chief', role: 'admin', password: 'deputy-pass-1' });
    await expect(page.locator('tr[data-username="deputy"]')).toContainText('No phone yet');

    const other = await browser.newPage({ viewport: SIZES[0] });
    await other.goto(station.url);
    await signIn(other, 'deputy', 'deputy-pass-1');
    await expect(other.getByRole('navigation', { name: 'Screens' })).toBeVisible();

    // People again (the list loads when the screen opens).
    const screens = page.getByRole('navigation', { name: 'Screens' });
    await screens.getByRole('button', { name: /Scan/ }).click();
    await screens.getByRole('button', { name: /Admin/ }).click();
    const row = page.locator('tr[data-username="deputy"]');
    await expect(row).toContainText('Phone set up');
    await row.getByRole('button', { name: 'Edit' }).click();
    await page.getByRole('button', { name: 'Reset second factor' }).click();
    await expect(page.getByText('Reset it? Deputy Chief is signed out now')).toBeVisible();
    for (const size of SIZES) {
      await page.setViewportSize(size);
      await page.getByRole('form', { name: 'Edit deputy' }).scrollIntoViewIfNeeded();
      await screenshot(page, `security-totp-reset-${size.width}x${size.height}`);
      expect.soft(await unreadableText(page), `reset at ${size.width}x${size.height}`).toEqual([]);
    }
    await page.getByRole('button', { name: 'Yes, reset second factor' }).click();
    await expect(page.getByRole('status')).toHaveText('Deputy Chief’s second factor is reset: they set up their phone at their next sign-in');
    await expect(row).toContainText('No phone yet');

    // Their open window is signed out at once, and the next sign-in sets up a phone.
    await expect(other.getByRole('heading', { name: 'Sign in' })).toBeVisible();
    await other.getByLabel('User name').fill('deputy');
    await other.getByLabel('Password or PIN').fill('deputy-pass-1');
    await other.getByRole('button', { name: 'Sign in' }).click();
    await expect(other.getByRole('heading', { name: 'Set up your phone' })).toBeVisible();
    await other.close();
  });
});
