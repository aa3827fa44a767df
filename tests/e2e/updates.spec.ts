import fs from 'node:fs';
import type { Page } from '@playwright/test';
import { release, startFeedServer } from '../support/update-feed';
import { advanceClock, atBothSizes, expect, signIn, test } from './fixtures';

const VERSION = (JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string }).version;
// electron-updater's Linux channel file on this machine.
const CHANNEL_FILE = `latest${process.arch === 'x64' ? '-linux' : `-linux-${process.arch}`}.yml`;

async function openUpdates(page: Page, url: string) {
  await page.goto(url);
  await signIn(page, 'admin', 'dockside-admin');
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: /Admin/ }).click();
  await page.getByRole('tab', { name: 'Station' }).click();
  return page.getByRole('region', { name: 'Updates' });
}

test.describe('the browser host', () => {
  test.use({ stationArgs: ['--demo'] });

  test('Admin → Station → Updates says the browser host does not update itself, with its version, channel and install window', async ({
    page,
    station,
  }) => {
    const card = await openUpdates(page, station.url);
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

    await atBothSizes(page, 'admin-station-updates-browser-host', { show: card, readable: true });
  });
});

// The test host runs electron-updater's own DebUpdater under Node against a real feed; it never installs.
const withFeed = test.extend<{ feed: Awaited<ReturnType<typeof startFeedServer>> }>({
  // eslint-disable-next-line no-empty-pattern -- Playwright reads the fixtures a fixture needs from this pattern; this one needs none
  feed: async ({}, use) => {
    const feed = await startFeedServer();
    await use(feed);
    await feed.close();
  },
  stationArgs: async ({ feed }, use) => use(['--demo', '--test-update-feed', feed.url, '--test-app-version', '1.0.0']),
});

withFeed(
  'Check now: a staged release not yet for this station, then the same release to all, downloaded, waiting for the scans to stop and then for nobody signed in',
  async ({ page, station, feed }) => {
    const r = release('1.1.0', { stagingPercentage: 0 });
    feed.files.set(CHANNEL_FILE, r.yml);
    feed.files.set(r.file, r.bytes);

    const card = await openUpdates(page, station.url);
    await expect(card.getByTestId('updates-version')).toHaveText('1.0.0');
    await expect(card.getByTestId('updates-status')).toContainText(feed.url);
    await expect(card.getByTestId('updates-state')).toHaveText('Not checked yet');

    await card.getByRole('button', { name: 'Check now' }).click();
    await expect(card.getByTestId('updates-state')).toHaveText(
      "Up to date: the feed's 1.1.0 is not for this station (older, or not yet in its part of a staged rollout)",
    );

    feed.files.set(CHANNEL_FILE, r.yml.replace('stagingPercentage: 0', 'stagingPercentage: 100'));
    await card.getByRole('button', { name: 'Check now' }).click();
    // The demo has just stored its scans: someone is scanning, as far as the policy can tell.
    await expect(card.getByTestId('updates-state')).toHaveText(/^Ready: 1\.1\.0\. Waits: work is running \(a scan \d+ s ago\)$/);
    await atBothSizes(page, 'admin-station-updates-ready-work', { show: card, readable: true });

    // Six minutes without a scan: only the admin's own sign-in holds it now.
    await advanceClock(station, 6 * 60_000);
    await card.getByRole('button', { name: 'Check now' }).click();
    await expect(card.getByTestId('updates-state')).toHaveText(
      'Ready: 1.1.0. Waits: 1 person signed in; installs when nobody is signed in or in the quiet hours (02:00–04:00)',
    );
    await atBothSizes(page, 'admin-station-updates-ready', { show: card, readable: true });
  },
);
