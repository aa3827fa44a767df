import type { Page } from '@playwright/test';
import { addPerson, advanceClock, expect, stopClock, screenshot, setUpFirstAdmin, signIn, signOut, test, unreadableText } from './fixtures';
import { layoutProblems } from './layout-check';

const SIZES = [
  { width: 1366, height: 768 },
  { width: 1920, height: 1080 },
];

/** At both station screen sizes: a screenshot to look at, nothing clipped, nothing unreadable from a metre. */
async function lookAt(page: Page, name: string): Promise<void> {
  for (const size of SIZES) {
    await page.setViewportSize(size);
    await screenshot(page, `${name}-${size.width}x${size.height}`);
    expect(await layoutProblems(page), `layout at ${size.width}×${size.height}`).toEqual([]);
    expect(await unreadableText(page), `readable at ${size.width}×${size.height}`).toEqual([]);
  }
  await page.setViewportSize(SIZES[0]);
}

/**
 * Wrong PINs for names nobody has, over the page's own WebSocket as a guesser would send them,
 * until the station answers that PIN sign-in is paused. Returns how many were answered "wrong".
 */
async function spendStationPinBudget(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const ws = new WebSocket(`ws://${location.host}/ipc`);
    await new Promise((r) => (ws.onopen = r));
    let id = 0;
    const login = (username: string) =>
      new Promise<{ ok: boolean; error?: { code: string; message: string } }>((resolve) => {
        const myId = ++id;
        const onMessage = (m: MessageEvent) => {
          const f = JSON.parse(String(m.data));
          if (f.id !== myId) return;
          ws.removeEventListener('message', onMessage);
          resolve(f.envelope);
        };
        ws.addEventListener('message', onMessage);
        ws.send(JSON.stringify({ t: 'invoke', id: myId, channel: 'auth/login', payload: { username, secret: '3141' } }));
      });
    let wrong = 0;
    for (let i = 0; i < 40; i++) {
      const r = await login(`guess${i}`);
      if (r.error?.code === 'rate_limited' && r.error.message.startsWith('PIN sign-in is paused')) break;
      wrong++;
    }
    ws.close();
    return wrong;
  });
}

test.describe('sign-in security', () => {
  test('the people screen refuses an easy PIN on its field and offers a PIN only for dispatchers', async ({ page, station }) => {
    await page.goto(station.url);
    await setUpFirstAdmin(page);
    await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: /Admin/ }).click();
    await page.getByRole('button', { name: 'Add person' }).click();
    const form = page.getByRole('form', { name: 'Add person' });
    await form.getByLabel('User name').fill('dock1');
    await form.getByLabel('Full name').fill('Dock One');
    await form.getByLabel('PIN').fill('1234');
    await form.getByRole('button', { name: 'Create person' }).click();

    await expect(form.getByText('Too easy to guess (one digit repeated, a run like 1234, or a year): choose another PIN')).toBeVisible();
    await expect(form.getByRole('alert')).toHaveText('Check the field marked in red.');
    await lookAt(page, 'signin-easy-pin-refused');

    await form.getByLabel('Role').selectOption('biller');
    await expect(form.getByLabel('PIN')).toHaveCount(0);
    await form.getByLabel('Role').selectOption('dispatcher');
    await form.getByLabel('PIN').fill('3917');
    await form.getByRole('button', { name: 'Create person' }).click();
    await expect(page.locator('tr[data-username="dock1"]')).toBeVisible();
  });

  test('a dispatcher made a biller can no longer sign in with their PIN, only their password', async ({ page, station }) => {
    await page.goto(station.url);
    await setUpFirstAdmin(page);
    await addPerson(page, { username: 'dock7', displayName: 'Dock Seven', password: 'dock7-password', pin: '6142' });
    await page.locator('tr[data-username="dock7"]').getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('form', { name: 'Edit dock7' });
    await edit.getByLabel('Role').selectOption('biller');
    await expect(edit.getByLabel('New PIN')).toHaveCount(0);
    await edit.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByRole('status')).toHaveText('Saved Dock Seven');
    await signOut(page);

    await signIn(page, 'dock7', '6142');
    await expect(page.getByRole('alert')).toHaveText('User name or password/PIN is wrong');
    await signIn(page, 'dock7', 'dock7-password');
    await expect(page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: /Bills/ })).toBeVisible();
  });

  test('once the station’s wrong-PIN budget is spent, PIN sign-in says it is paused and a password still signs in', async ({ page, station }) => {
    await page.goto(station.url);
    await setUpFirstAdmin(page);
    await addPerson(page, { username: 'dock1', displayName: 'Dock One', password: 'dock1-password', pin: '6142' });
    await signOut(page);

    // The budget drains with time: stopped, however slowly the guesses run, none drains before the checks below.
    await stopClock(station);
    expect(await spendStationPinBudget(page)).toBe(20);
    await signIn(page, 'dock1', '6142');
    const alert = page.getByRole('alert');
    await expect(alert).toContainText('PIN sign-in is paused for this station after too many wrong PINs. Use your password, or try the PIN again in');
    await lookAt(page, 'signin-pin-paused');

    await signIn(page, 'dock1', 'dock1-password');
    await expect(page.getByRole('navigation', { name: 'Screens' })).toBeVisible();
  });

  test('the station screen sets the shift length, and a window signed in longer is signed out with the reason', async ({ page, station }) => {
    await page.goto(station.url);
    await setUpFirstAdmin(page);
    await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: /Admin/ }).click();
    await page.getByRole('tab', { name: 'Station' }).click();
    await expect(page.getByLabel('Sign out after (hours)')).toHaveValue('12');
    await page.getByLabel('Sign out after (hours)').fill('25');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect(page.getByText('At most 24 hours')).toBeVisible();
    await page.getByRole('heading', { name: 'Station' }).scrollIntoViewIfNeeded();
    await lookAt(page, 'signin-shift-setting');
    await page.getByLabel('Sign out after (hours)').fill('1');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect(page.getByRole('status')).toHaveText('Station settings saved');

    await advanceClock(station, 61 * 60_000);
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible({ timeout: 20_000 });
    await expect(page.getByRole('status')).toHaveText("Signed out after 1 hour (the station's shift length): sign in again.");
    await lookAt(page, 'signin-shift-over');
  });
});
