import { addPerson, callOverSocket, expect, passSecondFactor, screenshot, setUpFirstAdmin, signIn, signOut, test } from './fixtures';

test.describe('foundation', () => {
  test('first run: set up the admin, create a dispatcher, the dispatcher navigates and signs out', async ({ page, station }) => {
    await page.goto(station.url);

    // First-run setup
    await expect(page.getByRole('heading', { name: 'Set up this station' })).toBeVisible();
    await page.getByLabel('User name').fill('chief');
    await page.getByLabel('Full name').fill('Chief Admin');
    await page.getByLabel('Password', { exact: true }).fill('short');
    await page.getByLabel('Repeat password').fill('short');
    await page.getByRole('button', { name: 'Create admin and sign in' }).click();
    await expect(page.getByText('Password needs at least 8 characters')).toBeVisible();
    await page.getByLabel('Password', { exact: true }).fill('warehouse-admin-1');
    await page.getByLabel('Repeat password').fill('warehouse-admin-1');
    await page.getByRole('button', { name: 'Create admin and sign in' }).click();
    // The admin sets up their phone before reaching anything (the fixture does it as a person would).
    await expect(page.getByRole('heading', { name: 'Set up your phone' })).toBeVisible();
    await passSecondFactor(page, 'chief');

    // Admin home
    const nav = page.getByRole('navigation', { name: 'Screens' });
    await expect(nav.getByRole('button', { name: /Admin/ })).toBeVisible();
    await expect(page.getByText('Chief Admin')).toBeVisible();
    await screenshot(page, 'home-admin-1366x768');

    // Create a dispatcher with a PIN
    await nav.getByRole('button', { name: /Admin/ }).click();
    await page.getByRole('button', { name: 'Add person' }).click();
    const form = page.getByRole('form', { name: 'Add person' });
    await form.getByLabel('User name').fill('dock7');
    await form.getByLabel('Full name').fill('Dock Door 7');
    await form.getByLabel('Role').selectOption('dispatcher');
    await form.getByLabel('PIN').fill('12');
    await form.getByRole('button', { name: 'Create person' }).click();
    await expect(form.getByText('PIN is 4 to 8 digits')).toBeVisible();
    await form.getByLabel('PIN').fill('7788');
    await form.getByRole('button', { name: 'Create person' }).click();
    await expect(page.getByRole('status')).toHaveText('Added Dock Door 7 (Dispatcher)');
    await expect(page.locator('tr[data-username="dock7"]')).toContainText('Dispatcher');
    await screenshot(page, 'admin-people-1366x768');

    await signOut(page);
    await screenshot(page, 'login-1366x768');
    await page.setViewportSize({ width: 1920, height: 1080 });
    await screenshot(page, 'login-1920x1080');

    // Dispatcher signs in with the PIN and navigates
    await signIn(page, 'dock7', '0000');
    await expect(page.getByRole('alert')).toHaveText('User name or password/PIN is wrong');
    await signIn(page, 'dock7', '7788');
    await expect(page.getByText('Dock Door 7')).toBeVisible();
    await expect(nav.getByRole('button')).toHaveText([/Scan/, /Search/, /Trips/, /Verify/, /Reports/]);
    await expect(nav.getByRole('button', { name: /Admin/ })).toHaveCount(0);
    await screenshot(page, 'home-dispatcher-1920x1080');
    for (const name of ['Verify']) {
      await nav.getByRole('button', { name: new RegExp(name) }).click();
      await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
      await expect(page.getByRole('tab', { name: 'Count' })).toBeVisible();
    }
    await nav.getByRole('button', { name: /Reports/ }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Reports' })).toBeVisible();
    await expect(page.getByRole('tab', { name: 'Inventory' })).toBeVisible();
    // Function keys work without a mouse.
    await page.keyboard.press('F3');
    await expect(page.getByRole('heading', { level: 1, name: 'Search' })).toBeVisible();
    await page.keyboard.press('F1');
    await expect(page.getByRole('heading', { level: 1, name: 'Scan' })).toBeVisible();
    await page.setViewportSize({ width: 1366, height: 768 });
    await screenshot(page, 'home-dispatcher-1366x768');
    await signOut(page);
  });

  test('a dispatcher calling an admin-only channel over the transport is refused by main', async ({ page, station }) => {
    await page.goto(station.url);
    await setUpFirstAdmin(page);
    await addPerson(page, { username: 'dock1', displayName: 'Dock 1', pin: '6142' });
    await signOut(page);

    // The page's own WebSocket, used as a hostile renderer would: sign in as dispatcher, call admin channels.
    const [login, create, list] = await callOverSocket(page, [
      ['auth/login', { username: 'dock1', secret: '6142' }],
      ['users/create', { username: 'mallory', displayName: 'M', role: 'admin', password: 'password-123' }],
      ['users/list', {}],
    ]);
    expect(login).toMatchObject({ ok: true, value: { user: { role: 'dispatcher' } } });
    expect(create).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(list).toMatchObject({ ok: false, error: { code: 'forbidden' } });

    // And nothing was created.
    await signIn(page, 'chief', 'warehouse-admin-1');
    await page.getByRole('button', { name: /Admin/ }).click();
    await expect(page.locator('tr[data-username="dock1"]')).toBeVisible();
    await expect(page.locator('tr[data-username="mallory"]')).toHaveCount(0);
  });

  test('data written before the host is killed is there after it restarts', async ({ page, station }) => {
    await page.goto(station.url);
    await setUpFirstAdmin(page);
    await addPerson(page, { username: 'billing2', displayName: 'Billing Two', role: 'biller', password: 'billing-pass-2' });
    await page.getByRole('tab', { name: 'Station' }).click();
    await page.getByLabel('Station name').fill('Dock Door 3');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect(page.getByRole('status')).toHaveText('Station settings saved');

    await station.kill();
    await expect(page.getByText('Reconnecting to the station service…')).toBeVisible();
    await station.start(station.port);
    // The window reconnects on its own; the new process knows no session, so it asks to sign in.
    await expect(page.getByText('Reconnecting to the station service…')).toBeHidden({ timeout: 15_000 });
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
    await expect(page.getByText('Dock Door 3')).toBeVisible();
    await signIn(page, 'billing2', 'billing-pass-2');
    await expect(page.getByText('Billing Two')).toBeVisible();
    await expect(page.getByRole('navigation', { name: 'Screens' }).getByRole('button')).toHaveText([/Bills/, /Search/, /Trips/, /Reports/, /Import/]);
  });
});
