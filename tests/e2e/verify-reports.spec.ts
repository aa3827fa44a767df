import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Page } from '@playwright/test';
import { releaseAll } from '../support/cleanup';
import { VERIFY_COMPARE_HEADER } from '../support/verify-reports';
import { hubCli, startHubProcess, type HubProcess } from '../support/hub';
import { startPostgres, type TestPostgres } from '../support/postgres';
import { atBothSizes, callOverSocket, expect, signIn, StationProcess, test } from './fixtures';

/**
 * Reports → Verification as a dispatcher uses it: a demo station joined to a hub (a real
 * PostgreSQL) whose records come from real counting (claim, lines, finalize over the station's
 * socket, sent to the hub by the outbox); snapshot 1, more counting, snapshot 2, compare with its
 * progress bar, the differences on screen and in the downloaded CSV.
 */

let postgres: TestPostgres;
let hub: HubProcess;
let station: StationProcess;

test.beforeAll(async () => {
  postgres = await startPostgres();
  hub = await startHubProcess(postgres.url);
  const r = await hubCli(['enrolment-code', '--hours', '1'], { DATABASE_URL: postgres.url });
  const code = /Enrolment code: (\S+)/.exec(r.stdout)?.[1];
  if (!code) throw new Error(`no enrolment code: ${r.stdout}${r.stderr}`);
  station = new StationProcess(fs.mkdtempSync(path.join(os.tmpdir(), 'dockside-e2e-vreports-')), [
    '--demo',
    '--hub-url',
    hub.url,
    '--hub-code',
    code,
    '--station-name',
    'Dock 1',
    '--sync-interval-ms',
    '500',
  ]);
  await station.start();
});

test.afterAll(async () => {
  await station?.kill();
  await releaseAll();
  if (station) fs.rmSync(station.dataDir, { recursive: true, force: true });
});

const item = (n: number) => `DD-ITEM-${String(n).padStart(4, '0')}`;
type Envelope = { ok: boolean; value?: unknown; error?: { message: string } };

/** A dispatcher counts a rack through the station's own channels (claim, lines, finalize), signed in on a socket of their own. */
async function count(page: Page, rackId: string, lines: { item: number; verified: number; damaged?: number; serials?: string[] }[]) {
  const [login, , claim] = (await callOverSocket(page, [
    ['auth/login', { username: 'dock1', secret: 'dockside-dock1' }],
    ['verify/items-refresh', {}],
    ['verify/claim', { rackId, floor: 'Ground' }],
  ])) as Envelope[];
  expect(login.ok, login.error?.message).toBe(true);
  expect(claim.ok, claim.error?.message).toBe(true);
  const sessionId = (claim.value as { id: string }).id;
  const answers = (await callOverSocket(page, [
    ['auth/login', { username: 'dock1', secret: 'dockside-dock1' }],
    ...lines.map(
      (l) =>
        ['verify/line-save', { sessionId, itemCode: item(l.item), verified: l.verified, damaged: l.damaged ?? 0, serials: l.serials ?? [] }] as [
          string,
          unknown,
        ],
    ),
    ['verify/finalize', { sessionId }],
  ])) as Envelope[];
  for (const a of answers) expect(a.ok, a.error?.message).toBe(true);
  // The outbox sends the records to the hub; the station keeps them once the hub answers ok.
  await expect.poll(() => waitingRecords(page), { timeout: 30_000, intervals: [250, 500, 1000] }).toBe(0);
}

/** Records the station still has to send (the sync status of the `verify` upstream). */
async function waitingRecords(page: Page): Promise<number> {
  const [, status] = (await callOverSocket(page, [
    ['auth/login', { username: 'dock1', secret: 'dockside-dock1' }],
    ['sync/status', {}],
  ])) as Envelope[];
  const verify = (status.value as { upstream: string; queued: number }[] | undefined)?.find((u) => u.upstream === 'verify');
  return verify ? verify.queued : 0;
}

test('a dispatcher snapshots the counts, counts more, snapshots again, compares the two and downloads the differences as CSV; no differences and the same snapshot twice are said in words', async ({
  page,
}) => {
  test.setTimeout(240_000);
  await page.setViewportSize({ width: 1366, height: 768 });
  await page.goto(station.url);
  await count(page, 'R1', [
    { item: 1, verified: 5, damaged: 1, serials: ['SN-100', 'SN-101'] },
    { item: 2, verified: 3 },
  ]);

  await signIn(page, 'dock1', 'dockside-dock1');
  await page
    .getByRole('navigation', { name: 'Screens' })
    .getByRole('button', { name: /Reports/ })
    .click();
  await page.getByRole('tab', { name: 'Verification' }).click();
  await expect(page.getByTestId('no-snapshots')).toBeVisible();

  // A name too long is refused in words; nothing is kept.
  const take = page.getByRole('form', { name: 'Take a snapshot' });
  await take.getByLabel('Name').fill('x'.repeat(81));
  await take.getByRole('button', { name: 'Take snapshot' }).click();
  await expect(take.getByRole('alert')).toContainText('A snapshot name is at most 80 characters');
  await expect(page.getByTestId('no-snapshots')).toBeVisible();

  await take.getByLabel('Name').fill('Before lunch');
  await take.getByRole('button', { name: 'Take snapshot' }).click();
  await expect(take.getByRole('status')).toContainText('Snapshot “Before lunch” taken: 2 racks and items from 2 records');

  // More counting: R1's first item again (more stock, one more serial) and a rack not counted before.
  await count(page, 'R1', [{ item: 1, verified: 2, serials: ['SN-102'] }]);
  await count(page, 'R2', [{ item: 3, verified: 4, damaged: 2 }]);
  await take.getByLabel('Name').fill('After lunch');
  await take.getByLabel('Floor').selectOption('Ground');
  await take.getByRole('button', { name: 'Take snapshot' }).click();
  await expect(take.getByRole('status')).toContainText('Snapshot “After lunch” taken: 3 racks and items from 4 records');
  const snapshots = page.getByRole('table', { name: 'Snapshots' });
  await expect(snapshots.locator('tbody tr')).toHaveCount(2);
  await atBothSizes(page, 'reports-verification-snapshots', { show: page.getByRole('tab', { name: 'Verification' }), readable: true });

  const compare = page.getByRole('form', { name: 'Compare two snapshots' });
  await compare.getByLabel('Snapshot A').selectOption({ label: 'Before lunch (all floors)' });
  await compare.getByLabel('Snapshot B').selectOption({ label: 'After lunch (Ground)' });
  await compare.getByRole('button', { name: 'Compare' }).click();
  await expect(page.getByRole('progressbar', { name: 'Compare progress' })).toBeVisible();
  await expect(page.getByTestId('compare-summary')).toContainText(
    '“Before lunch” (A) → “After lunch” (B): 2 differences — 1 changed, 0 only in A, 1 only in B',
    {
      timeout: 30_000,
    },
  );
  const rows = page.getByRole('table', { name: 'Differences' }).locator('tbody tr');
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toContainText('R1');
  await expect(rows.nth(0)).toContainText('Changed');
  await expect(rows.nth(0)).toContainText('5 → 7 (+2)');
  await expect(rows.nth(0)).toContainText('Added: SN-102');
  await expect(rows.nth(0)).toContainText('1 → 1 (±0)');
  await expect(rows.nth(1)).toContainText('Only in B');
  await expect(rows.nth(1)).toContainText('— → 4 (+4)');
  // The pictures show the compare's bar, its summary and the differences.
  await atBothSizes(page, 'reports-verification', { show: page.getByRole('table', { name: 'Differences' }), readable: true });

  const downloaded = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export CSV' }).click();
  const download = await downloaded;
  expect(download.suggestedFilename()).toMatch(/^verification-compare-\d+-\d+-\d{4}-\d{2}-\d{2}-\d{4}\.csv$/);
  const cells = parse(fs.readFileSync((await download.path())!, 'utf8').replace(/^\uFEFF/, '')) as string[][];
  expect(cells[0]).toEqual(VERIFY_COMPARE_HEADER);
  expect(cells.slice(1).map((r) => [r[0], r[1], r[2], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12]])).toEqual([
    ['Ground', 'R1', item(1), 'Changed', '5', '7', '2', '1', '1', '0', 'SN-102', ''],
    ['Ground', 'R2', item(3), 'Only in B', '', '4', '4', '', '2', '2', '', ''],
  ]);
  await expect(page.getByRole('status').filter({ hasText: /Saved verification-compare-.*\(2 rows\)/ })).toBeVisible();

  // Nothing counted between two snapshots: said in words, with nothing to export.
  await take.getByLabel('Name').fill('After lunch again');
  await take.getByRole('button', { name: 'Take snapshot' }).click();
  await expect(take.getByRole('status')).toContainText('Snapshot “After lunch again” taken');
  await compare.getByLabel('Snapshot A').selectOption({ label: 'After lunch (Ground)' });
  await compare.getByLabel('Snapshot B').selectOption({ label: 'After lunch again (Ground)' });
  await compare.getByRole('button', { name: 'Compare' }).click();
  await expect(page.getByTestId('compare-summary')).toHaveText(
    'No differences: “After lunch” and “After lunch again” record the same counts, damage and serials for all 3 racks and items.',
    { timeout: 30_000 },
  );
  await expect(page.getByRole('table', { name: 'Differences' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Export CSV' })).toHaveCount(0);

  // The same snapshot twice: refused in words.
  await compare.getByLabel('Snapshot B').selectOption({ label: 'After lunch (Ground)' });
  await compare.getByRole('button', { name: 'Compare' }).click();
  await expect(compare.getByRole('alert')).toContainText('Pick two different snapshots: A and B are both “After lunch”');
});
