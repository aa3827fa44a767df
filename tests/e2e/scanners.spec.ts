import { spawnSync } from 'node:child_process';
import { expect, hid, screenshot, signIn, test, testControlPost } from './fixtures';

test.use({ stationArgs: ['--demo', '--hid-sim'] });

const VOYAGER = { path: '/sim/hidraw0', vendorId: 0x0c2e, productId: 0x0b87, product: 'Voyager 1250g', usagePage: 1, usage: 6, serialNumber: 'V1' };

test('a USB scanner is paired from Admin, its reads link bags on the Scan screen, and an unplug is shouted', async ({ page, station }) => {
  await hid(station, { action: 'plug', device: VOYAGER });
  await page.goto(station.url);
  await signIn(page, 'admin', 'dockside-admin');
  const nav = page.getByRole('navigation', { name: 'Screens' });
  await nav.getByRole('button', { name: /Admin/ }).click();
  await page.getByRole('tab', { name: 'Scanners' }).click();
  await expect(page.getByRole('table', { name: 'HID devices' })).toContainText('Voyager 1250g');

  // Pair: the scanner reads the code shown on screen (fed in as its USB reports).
  await page.getByRole('button', { name: 'Pair a scanner' }).click();
  const code = (await page.getByTestId('pairing-code').textContent())!.trim();
  expect(code).toMatch(/^PAIR-[A-Z2-9]{6}$/);
  await expect(page.getByRole('img', { name: `Pairing barcode ${code}` })).toBeVisible();
  await screenshot(page, 'scanners-pairing');
  await hid(station, { action: 'type', path: VOYAGER.path, text: code });
  await expect(page.getByRole('status')).toHaveText('Paired Voyager 1250g 1');
  await expect(page.locator('tr[data-scanner="Voyager 1250g 1"]')).toContainText('Connected');
  await expect(page.locator('.scanner-chip.state-connected').first()).toContainText('ready');
  await screenshot(page, 'scanners-paired');

  // Scans from the device reach the Scan screen through main's event and bags/scan.
  await nav.getByRole('button', { name: /Scan/ }).click();
  const status = page.getByTestId('scan-status');
  expect((await hid(station, { action: 'type', path: VOYAGER.path, text: 'SB30001' })).delivered).toBe(1);
  await expect(status).toContainText('New parent SB30001');
  await hid(station, { action: 'type', path: VOYAGER.path, text: 'HIDKID-1' });
  await expect(status).toContainText('Linked HIDKID-1 → SB30001 (1)');
  await expect(page.getByTestId('child-count')).toHaveText('1 / 30');

  // Unplugged mid-shift: a banner that cannot be missed, until it is back.
  await hid(station, { action: 'unplug', path: VOYAGER.path });
  const banner = page.getByRole('alert').filter({ hasText: 'Scanner unplugged' });
  await expect(banner).toContainText('Voyager 1250g 1 — plug it back in');
  await screenshot(page, 'scanner-unplugged');
  await hid(station, { action: 'plug', device: VOYAGER });
  await expect(banner).toBeHidden({ timeout: 5000 });
  await hid(station, { action: 'type', path: VOYAGER.path, text: 'HIDKID-2' });
  await expect(status).toContainText('Linked HIDKID-2 → SB30001 (2)');
});

test.describe('the simulated bus is for tests only', () => {
  test.use({ stationArgs: ['--demo'] });

  test('a host without --hid-sim has no control endpoint, and --hid-sim without DOCKSIDE_TEST is refused', async ({ station }) => {
    const res = await testControlPost(station, '/__test/hid', { action: 'unplug', path: 'x' });
    expect(res.status).toBe(405);

    const env = { ...process.env };
    delete env.DOCKSIDE_TEST;
    const run = spawnSync(process.execPath, ['out/main/host.js', '--hid-sim', '--data-dir', station.dataDir, '--port', '0'], {
      env,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--hid-sim replaces USB scanners with a simulated bus: it is for tests only');
  });
});
