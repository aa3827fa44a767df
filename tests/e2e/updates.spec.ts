import fs from 'node:fs';
import { atBothSizes, expect, signIn, test } from './fixtures';

test.use({ stationArgs: ['--demo'] });

const VERSION = (JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string }).version;

test('Admin → Station → Updates says the browser host does not update itself, with its version, channel and install window', async ({
  page,
  station,
}) => {
  await page.goto(station.url);
  await signIn(page, 'admin', 'dockside-admin');
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: /Admin/ }).click();
  await page.getByRole('tab', { name: 'Station' }).click();

  const card = page.getByRole('region', { name: 'Updates' });
  await expect(card.getByTestId('updates-unsupported')).toHaveText(
    'Updates are installed by the desktop app; this browser host does not update itself.',
  );
  await expect(card.getByTestId('updates-version')).toHaveText(VERSION);
  const facts = card.getByTestId('updates-status');
  await expect(facts).toContainText('Stable');
  await expect(facts).toContainText('None set (the provisioning file sets it)');
  // The default quiet hours, 02:00–04:00 station time.
  await expect(card.getByTestId('updates-window')).toHaveText(/^Quiet hours 02:00–04:00: (open now|next on .+), if no work runs$/);
  await expect(facts).toContainText(/This station is at \d+%: a staged release reaches it once its stagingPercentage is above that/);
  // Nothing here can check or install: no button pretends to.
  await expect(card.getByRole('button', { name: 'Check now' })).toHaveCount(0);

  await atBothSizes(page, 'admin-station-updates', { show: card, readable: true });
});
