import { TestSmtpServer } from '../support/smtp';
import { expect, screenshot, setUpFirstAdmin, test, unreadableText } from './fixtures';

let server: TestSmtpServer;
test.beforeEach(async () => {
  server = new TestSmtpServer();
  await server.start();
});
test.afterEach(async () => {
  await server.stop();
});

test.use({ viewport: { width: 1366, height: 768 } });

test('an admin sets up mail on Admin → Station, sends a test mail and the mail server receives it', async ({ page, station }) => {
  await page.goto(station.url);
  await setUpFirstAdmin(page);
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: /Admin/ }).click();
  await page.getByRole('tab', { name: 'Station' }).click();

  const form = page.getByRole('form', { name: 'Mail settings' });
  await form.getByLabel('Mail server', { exact: true }).fill('127.0.0.1');
  await form.getByLabel('Port').fill(String(server.port));
  await form.getByLabel('Security').selectOption('none');
  await form.getByLabel('User name').fill(server.user);
  await form.getByLabel('Sender address').fill('dock@example.com');
  await form.getByLabel('Recipients').fill('dispatch@example.com, office example.com');
  await form.getByRole('button', { name: 'Save mail settings' }).click();
  await expect(form.getByText('Not an email address: office example.com')).toBeVisible();

  await form.getByLabel('Recipients').fill('dispatch@example.com, office@example.com');
  await form.getByRole('button', { name: 'Save mail settings' }).click();
  const outcome = page.getByTestId('mail-outcome');
  await expect(outcome).toHaveText('Mail settings saved');

  const passwordForm = page.getByRole('form', { name: 'Mail password' });
  await passwordForm.getByLabel('Mail server password').fill(server.password);
  await passwordForm.getByRole('button', { name: 'Save password' }).click();
  await expect(outcome).toHaveText('Mail password saved');
  await expect(page.getByTestId('mail-password-state')).toContainText('Password set');

  await page.getByRole('button', { name: 'Send test mail' }).click();
  await expect(outcome).toHaveText('Sent to dispatch@example.com, office@example.com');
  await server.waitFor(1);
  expect(server.received).toHaveLength(1);
  expect(server.received[0].user).toBe(server.user);
  expect(server.received[0].envelopeTo).toEqual(['dispatch@example.com', 'office@example.com']);
  expect(server.received[0].parsed.subject).toBe('Test mail from Dock station');
  expect(server.received[0].parsed.text).toContain('sent by chief');

  const status = page.getByTestId('mail-status');
  await expect(status).toContainText('Sent (last 24 hours)');
  await expect(status.locator('dd').nth(1)).toContainText(/^1, last at/);

  // The mail server goes away: the next test mail waits, in words.
  await server.stop();
  await page.getByRole('button', { name: 'Send test mail' }).click();
  await expect(outcome).toHaveText('Not sent yet: Mail server not reachable. The station tries again by itself.');
  await expect(status.locator('dd').nth(3)).toHaveText('Mail server not reachable');

  const card = page.getByRole('region', { name: 'Mail' });
  for (const size of [
    { width: 1366, height: 768 },
    { width: 1920, height: 1080 },
  ]) {
    await page.setViewportSize(size);
    await card.evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await screenshot(page, `admin-station-mail-${size.width}x${size.height}`);
    await card.evaluate((el) => el.scrollIntoView({ block: 'end' }));
    await screenshot(page, `admin-station-mail-${size.width}x${size.height}-status`);
    expect(await unreadableText(page)).toEqual([]);
  }
});
