import { execFileSync } from 'node:child_process';
import { expect, HOST_ENTRY, setUpFirstAdmin, test } from './fixtures';

test('the station PC’s console resets the last admin’s second factor: they sign in with the password and set up a new phone', async ({
  page,
  station,
}) => {
  await page.goto(station.url);
  await setUpFirstAdmin(page);
  await station.kill();

  const out = execFileSync(process.execPath, [HOST_ENTRY, '--data-dir', station.dataDir, '--reset-second-factor', 'chief'], { encoding: 'utf8' });
  expect(out).toContain('second factor reset');

  await station.start(station.port);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible({ timeout: 15_000 });
  await page.getByLabel('User name').fill('chief');
  await page.getByLabel('Password or PIN').fill('warehouse-admin-1');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Set up your phone' })).toBeVisible();
});

test('the console reset refuses an unknown user name in words, exiting 1', async ({ station }) => {
  await station.kill();
  let failure: { status: number; stderr: string } | null = null;
  try {
    execFileSync(process.execPath, [HOST_ENTRY, '--data-dir', station.dataDir, '--reset-second-factor', 'nobody'], {
      encoding: 'utf8',
      stdio: 'pipe',
    });
  } catch (err) {
    failure = err as { status: number; stderr: string };
  }
  expect(failure?.status).toBe(1);
  expect(failure?.stderr).toContain('No user named “nobody” on this station');
});
