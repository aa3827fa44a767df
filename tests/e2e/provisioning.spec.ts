import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { atBothSizes, expect, setUpFirstAdmin, signIn, StationProcess, test } from './fixtures';

/** IT's provisioning file (issue 17) through the browser host's --provision, as Admin → Station shows it. */
const stations: StationProcess[] = [];
test.afterEach(async () => {
  for (const s of stations.splice(0)) {
    await s.kill();
    fs.rmSync(s.dataDir, { recursive: true, force: true });
  }
});

function provisioned(content: object): { file: string; station: StationProcess } {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dockside-e2e-prov-'));
  const file = path.join(dataDir, 'door4.provision.json');
  fs.writeFileSync(file, JSON.stringify(content, null, 2));
  const station = new StationProcess(dataDir, ['--provision', file]);
  stations.push(station);
  return { file, station };
}

const FILE = {
  version: '2026.11-1',
  stationName: 'Door 4 north',
  dockDoor: 'Door 4',
  idleLockMinutes: 15,
  updates: { feedUrl: 'https://updates.example.com/dockside', channel: 'beta' },
  scanners: { defaultTarget: 'scan' },
};

async function openStationTab(page: Page) {
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: /Admin/ }).click();
  await page.getByRole('tab', { name: 'Station' }).click();
}

test('a station started with --provision shows the applied version on Admin → Station', async ({ page }) => {
  const { file, station } = provisioned(FILE);
  await station.start();
  await page.goto(station.url);
  await setUpFirstAdmin(page);
  await openStationTab(page);
  const card = page.getByRole('region', { name: 'Provisioning' });
  await expect(card.getByTestId('provisioning-version')).toHaveText('2026.11-1');
  await expect(card).toContainText('Door 4 north at Door 4');
  await expect(card).toContainText(file);
  await expect(card).toContainText('stationName, dockDoor, updates, idleLockMinutes, scanners');
  await expect(page.getByLabel('Station name')).toHaveValue('Door 4 north');
  await expect(page.getByLabel('Lock after idle (minutes)')).toHaveValue('15');
  await atBothSizes(page, 'admin-station-provisioning', { show: card, readable: true });
});

test('a bad provisioning file: the station keeps what it had and Admin → Station names the field', async ({ page }) => {
  const { file, station } = provisioned(FILE);
  await station.start();
  fs.writeFileSync(file, JSON.stringify({ ...FILE, version: '2026.11-2', stationName: 'Door 4 renamed', updates: { channel: 'nightly' } }));
  await station.restart();
  await page.goto(station.url);
  await setUpFirstAdmin(page);
  await openStationTab(page);
  const card = page.getByRole('region', { name: 'Provisioning' });
  const problem = card.getByTestId('provisioning-problem');
  await expect(problem).toContainText('The provisioning file was not applied');
  await expect(problem.getByRole('listitem')).toHaveText(['updates.channel: The channel is stable or beta']);
  await expect(card.getByTestId('provisioning-version')).toHaveText('2026.11-1');
  await expect(page.getByLabel('Station name')).toHaveValue('Door 4 north');
  await atBothSizes(page, 'admin-station-provisioning-problem', { show: card, readable: true });
});

test('the same provisioning file at the next start changes nothing an admin set since', async ({ page }) => {
  const { station } = provisioned(FILE);
  await station.start();
  await page.goto(station.url);
  await setUpFirstAdmin(page);
  await openStationTab(page);
  await page.getByLabel('Lock after idle (minutes)').fill('20');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByText('Station settings saved')).toBeVisible();
  await station.restart();
  await page.goto(station.url);
  await signIn(page, 'chief', 'warehouse-admin-1');
  await openStationTab(page);
  await expect(page.getByLabel('Lock after idle (minutes)')).toHaveValue('20');
  await expect(page.getByRole('region', { name: 'Provisioning' }).getByTestId('provisioning-version')).toHaveText('2026.11-1');
});
