import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  addPerson,
  expect,
  hid,
  lockNow,
  screenshot,
  setUpFirstAdmin,
  signIn,
  signOut,
  SIM_SCANNER,
  test,
  unreadableText,
  wedgeScan,
  type StationProcess,
} from './fixtures';
import { layoutProblems, type Allowed, type LayoutOptions } from './layout-check';
import type { Page } from '@playwright/test';

/**
 * Every screen at the two station screen sizes, in a state with real content: nothing clipped,
 * no word broken inside itself, no button or label wrapping, readable from a metre away
 * (unreadableText), and the sign-in screens whole above the fold. Each screen is screenshotted to
 * screenshots/layout-<screen>-<w>x<h>.png for a person to look at.
 */
const SIZES = [
  { width: 1366, height: 768 },
  { width: 1920, height: 1080 },
];

test.use({ stationArgs: ['--demo', '--hid-sim'] });

/**
 * What the check meets on purpose, each as { match, why }: the reason must be one a person at the
 * station would accept. None today — a long name wraps between its words by design (its words are
 * boxes), which the check does not count.
 */
const ALLOWED: Allowed[] = [];

/**
 * Checks the page as it is now; a screen's problems are reported under its name and the walk goes
 * on. `elsewhere` names the change that owns a screen being rewritten in another branch: its
 * problems are reported (an annotation on the test and a line in the log) without failing.
 */
async function checkScreen(page: Page, name: string, options: LayoutOptions & { elsewhere?: string } = {}): Promise<void> {
  const { width, height } = page.viewportSize()!;
  const at = `${width}x${height}`;
  await page.evaluate(() => document.fonts.ready);
  await screenshot(page, `layout-${name}-${at}`);
  // The screen scrolls inside its content area: the rest of it too, as a person scrolling sees it.
  const content = page.locator('main.content');
  if ((await content.count()) && (await content.evaluate((el) => el.scrollHeight > el.clientHeight))) {
    const top = await content.evaluate((el) => el.scrollTop);
    await content.evaluate((el) => el.scrollTo(0, el.scrollHeight));
    await screenshot(page, `layout-${name}-${at}-scrolled`);
    await content.evaluate((el, y) => el.scrollTo(0, y), top);
  }
  const problems = [...(await layoutProblems(page, { ...options, allow: ALLOWED })), ...(await unreadableText(page))];
  if (options.elsewhere && problems.length) {
    const description = `${name} at ${at} (${options.elsewhere}):\n${problems.join('\n')}`;
    test.info().annotations.push({ type: 'layout problem left to another change', description });
    console.warn(`Layout problems left to another change — ${description}`);
    return;
  }
  expect.soft(problems, `layout of ${name} at ${at}`).toEqual([]);
}

/**
 * A layout probe: every total on the page shown with a 7-digit number (a million-row file, a
 * 1,000,000 kg bill), checked under `name`, then put back. Only the text nodes' data changes, so
 * the screen's own updates still land on them afterwards.
 */
async function checkWithSevenDigitTotals(page: Page, name: string): Promise<void> {
  const changed = await page.locator('.totals .total').evaluateAll((els) =>
    els.flatMap((el) => {
      const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      const nodes: Text[] = [];
      for (let n = walker.nextNode(); n; n = walker.nextNode()) if (/\d/.test(n.textContent ?? '')) nodes.push(n as Text);
      return nodes.map((n) => {
        const before = n.data;
        n.data = before.replace(/\d[\d,.]*/, '1,000,000');
        return before;
      });
    }),
  );
  expect(changed.length, 'totals on the page').toBeGreaterThan(0);
  await checkScreen(page, name);
  await page.locator('.totals .total').evaluateAll((els, originals) => {
    const queue = [...originals];
    for (const el of els) {
      const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) if (/\d/.test(n.textContent ?? '')) (n as Text).data = queue.shift()!;
    }
  }, changed);
}

const nav = (page: Page, screen: RegExp) => page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: screen }).click();

/** Signed in with the header complete: the sync chip is there (it is what crowded the header). */
async function signInToShell(page: Page, station: StationProcess, username: string, secret: string): Promise<void> {
  await page.goto(station.url);
  await signIn(page, username, secret);
  await expect(page.getByTestId('sync-chip')).toBeVisible();
}

function smallCsv(): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dockside-csv-')), 'truck-4 north dock.csv');
  const rows = Array.from({ length: 12 }, (_, i) => `SB40004,T4-${String(i + 1).padStart(3, '0')}`);
  fs.writeFileSync(file, ['Parent Bag,Child Bag', ...rows, 'SB4000,T4-013', 'SB40004,', 'SB40005,T4-001'].join('\n'));
  return file;
}

for (const size of SIZES) {
  const at = `${size.width}x${size.height}`;

  test.describe(`layout at ${at}`, () => {
    test.use({ viewport: size });

    test.describe('a fresh station', () => {
      test.use({ stationArgs: [] });

      test(`first-run setup, sign-in and the lock screen fit above the fold at ${at}`, async ({ page, station }) => {
        await page.goto(station.url);
        await expect(page.getByRole('heading', { name: 'Set up this station' })).toBeVisible();
        await checkScreen(page, 'setup', { mustFit: true });
        // With a message for each field, as after a first try with nothing filled in.
        await page.getByRole('button', { name: 'Create admin and sign in' }).click();
        await expect(page.getByRole('alert')).toBeVisible();
        await checkScreen(page, 'setup-errors', { mustFit: true });

        await setUpFirstAdmin(page);
        await signOut(page);
        await checkScreen(page, 'sign-in', { mustFit: true });
        await signIn(page, 'chief', 'wrong-password');
        await expect(page.getByRole('alert')).toBeVisible();
        await checkScreen(page, 'sign-in-refused', { mustFit: true });

        await signIn(page, 'chief', 'warehouse-admin-1');
        await expect(page.getByRole('navigation', { name: 'Screens' })).toBeVisible();
        await lockNow(station);
        await expect(page.getByRole('heading', { name: 'Locked' })).toBeVisible();
        await checkScreen(page, 'lock', { mustFit: true });
      });
    });

    test(`Trips: the list, a draft being edited, and packing with a refusal at ${at}`, async ({ page, station }) => {
      await signInToShell(page, station, 'dock1', '3917');
      await nav(page, /Trips/);
      await page.getByRole('button', { name: 'New trip' }).click();
      await expect(page.getByRole('table', { name: 'Approved orders' }).locator('tbody tr')).toHaveCount(90);
      await checkScreen(page, 'trips-new');
      for (const invoice of ['INV-26000', 'INV-26001', 'INV-26002']) await page.getByLabel(`Pick order ${invoice}`).check();
      await page.getByRole('button', { name: 'Create trip with 3 stops' }).click();
      await expect(page.getByRole('heading', { name: 'Edit T-000001' })).toBeVisible();
      await checkScreen(page, 'trips-edit');
      await page.getByRole('button', { name: 'Back to trips' }).click();
      await checkScreen(page, 'trips-list');
      await page.locator('tr[data-trip="T-000001"]').getByRole('button', { name: 'Pack' }).click();
      // The packing screen takes scans once its trip is loaded (its first stop shown).
      await expect(page.getByRole('heading', { name: /^Stop 1: / })).toBeVisible();
      await wedgeScan(page, '2026100000000006');
      await expect(page.getByTestId('pack-status')).toContainText('Packed 2 of');
      await wedgeScan(page, '2026999999999999');
      await expect(page.getByTestId('pack-status')).toContainText("is not in this location's BioTrack inventory");
      await checkScreen(page, 'trips-pack');
    });

    test(`Scan with a parent, children and an error, and the Verify screen at ${at}`, async ({ page, station }) => {
      await signInToShell(page, station, 'dock1', '3917');
      const status = page.getByTestId('scan-status');
      await wedgeScan(page, 'SB10001');
      for (let i = 1; i <= 4; i++) {
        await wedgeScan(page, `KID-000${i}`);
        await expect(page.getByTestId('child-count')).toHaveText(`${i} / 30`);
      }
      await checkScreen(page, 'scan');
      await wedgeScan(page, 'SB1234');
      await expect(status).toContainText('SB1234 is not a valid parent id');
      await checkScreen(page, 'scan-error');

      for (const [screen, name] of [[/Verify/, 'verify']] as const) {
        await nav(page, screen);
        await expect(page.getByRole('tab', { name: 'Count' })).toBeVisible();
        await checkScreen(page, name);
      }
    });

    test(`Reports → Inventory with a filter and a lab lookup at ${at}`, async ({ page, station }) => {
      await signInToShell(page, station, 'dock1', '3917');
      await nav(page, /Reports/);
      await page.getByRole('tab', { name: 'Inventory' }).click();
      await expect(page.getByTestId('total-all')).not.toHaveText('');
      await page.getByLabel('Lab result of one barcode (scan or type)').fill('2026100000000003');
      await page.getByRole('button', { name: 'Look up' }).click();
      await expect(page.getByTestId('lab-lookup-result')).toContainText('No lab data for this item.');
      await checkScreen(page, 'reports-inventory');
      await checkWithSevenDigitTotals(page, 'reports-inventory-7-digit-totals');
      await page.getByRole('tab', { name: 'ETA', exact: true }).click();
      await expect(page.getByRole('button', { name: 'Run report' })).toBeVisible();
      await checkScreen(page, 'reports-eta');
    });

    test.describe('a station whose upstreams are all unreachable', () => {
      // Port 9 (discard) on loopback: nothing listens, so every upstream refuses at once.
      const nowhere = 'http://127.0.0.1:9';
      test.use({
        stationArgs: [
          '--demo',
          '--bags-upstream',
          nowhere,
          '--erp-upstream',
          nowhere,
          '--leaftrade-upstream',
          nowhere,
          '--biotrack-upstream',
          nowhere,
        ],
      });

      test(`the header and Admin → Sync with every upstream offline and records stuck at ${at}`, async ({ page, station }) => {
        // Two records as eight refusals leave them (that takes minutes of backoff): stuck, waiting for an admin.
        await station.kill();
        const db = new Database(path.join(station.dataDir, 'dockside.sqlite'));
        db.prepare(
          `UPDATE outbox SET status = 'error', attempts = 8, last_error = 'Site hub refused the record (422): parent SB00001 is not known upstream'
           WHERE seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT 2)`,
        ).run();
        db.close();
        await station.start(station.port);
        await signInToShell(page, station, 'admin', 'dockside-admin');
        await nav(page, /Admin/);
        await page.getByRole('tab', { name: 'Sync' }).click();
        await page.getByRole('button', { name: 'Fetch and cache upstream data now' }).click();
        await expect(page.getByRole('alert')).toBeVisible();
        await page.getByRole('button', { name: 'Send now' }).click();
        await expect(page.getByTestId('sync-chip')).toContainText('offline');
        await expect(page.getByRole('table', { name: 'Stuck records' }).locator('tbody tr')).toHaveCount(2);
        await checkScreen(page, 'admin-sync-offline');
        await nav(page, /Scan/);
        await wedgeScan(page, 'SB10001');
        await expect(page.getByTestId('parent-code')).toHaveText('SB10001');
        await checkScreen(page, 'scan-offline');
      });
    });

    test(`Search with results and a bag opened at ${at}`, async ({ page, station }) => {
      await signInToShell(page, station, 'admin', 'dockside-admin');
      await nav(page, /Search/);
      await page.getByLabel('Id starts with').fill('c-00003');
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await page.getByRole('button', { name: 'C-000031' }).click();
      await expect(page.getByRole('region', { name: 'Bag C-000031' })).toBeVisible();
      await checkScreen(page, 'search-child');
      await page.getByLabel('Id starts with').fill('sb');
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await page.getByRole('button', { name: 'SB00002' }).click();
      await expect(page.getByRole('region', { name: 'Bag SB00002' })).toContainText('Children (12)');
      await checkScreen(page, 'search-parent');
    });

    test(`Bills: a draft with several parents and a finalized one at ${at}`, async ({ page, station }) => {
      await signInToShell(page, station, 'billing', 'dockside-billing');
      await page.getByRole('button', { name: /B-000001/ }).click();
      // The bill is open (its one parent shown) before the scan: a scan while it loads has no bill to go to.
      await expect(page.getByTestId('bill-parents')).toHaveText('1');
      await wedgeScan(page, 'SB00002');
      await expect(page.getByTestId('bill-parents')).toHaveText('2');
      await wedgeScan(page, 'M444-00001');
      await expect(page.getByTestId('bill-parents')).toHaveText('3');
      await checkScreen(page, 'bill-draft');
      await checkWithSevenDigitTotals(page, 'bill-draft-millions');
      await page.getByRole('button', { name: 'Finalize bill' }).click();
      await expect(page.getByRole('button', { name: 'Yes, finalize' })).toBeVisible();
      await checkScreen(page, 'bill-confirm');
      await page.getByRole('button', { name: 'Yes, finalize' }).click();
      await expect(page.getByRole('status')).toContainText('Bill B-000001 is finalized');
      await checkScreen(page, 'bill-finalized');
    });

    test(`Import with a file's preview, and Export at ${at}`, async ({ page, station }) => {
      await signInToShell(page, station, 'billing', 'dockside-billing');
      await nav(page, /Import/);
      await checkScreen(page, 'data');
      await page.getByLabel('Choose a spreadsheet…').setInputFiles(smallCsv());
      await expect(page.getByRole('heading', { name: 'truck-4 north dock.csv' })).toBeVisible();
      await expect(page.getByText('T4-001 is on SB40004 earlier in the file').first()).toBeVisible();
      await checkScreen(page, 'import-preview');
      await checkWithSevenDigitTotals(page, 'import-preview-millions');

      const download = page.waitForEvent('download');
      await page.getByRole('button', { name: 'Bills as CSV' }).click();
      await download;
      const saved = page.getByRole('status').filter({ hasText: 'Saved dockside-bills' });
      await expect(saved).toBeVisible();
      await saved.scrollIntoViewIfNeeded();
      await checkScreen(page, 'export');
    });

    test(`Admin: People, Scanners, Station, Sync and Audit at ${at}`, async ({ page, station }) => {
      await signInToShell(page, station, 'admin', 'dockside-admin');
      for (const p of [
        { username: 'mfernanda.whitcombe', displayName: 'Maria-Fernanda Oyelaran-Whitcombe', role: 'biller' as const, password: 'long-enough-1' },
        { username: 'dock2', displayName: 'Dock Door 2', pin: '5682' },
        { username: 'nightshift', displayName: 'Night Shift Lead', role: 'admin' as const, password: 'long-enough-2' },
      ])
        await addPerson(page, p);
      await page.locator('tr[data-username="dock2"]').getByRole('button', { name: 'Disable' }).click();
      await expect(page.locator('tr[data-username="dock2"]')).toContainText('Disabled');
      await checkScreen(page, 'admin-people');
      await page.locator('tr[data-username="nightshift"]').getByRole('button', { name: 'Edit' }).click();
      await expect(page.getByRole('form', { name: 'Edit nightshift' })).toBeVisible();
      await checkScreen(page, 'admin-people-edit');
      await page.getByRole('button', { name: 'Add person' }).click();
      await expect(page.getByRole('form', { name: 'Add person' })).toBeVisible();
      await checkScreen(page, 'admin-people-add');

      // A paired USB scanner, so its row (name, state, target, device, actions) is on the table.
      const scanner = SIM_SCANNER;
      await hid(station, { action: 'plug', device: scanner });
      await page.getByRole('tab', { name: 'Scanners' }).click();
      await expect(page.getByRole('table', { name: 'HID devices' })).toContainText('Voyager 1250g');
      await page.getByRole('button', { name: 'Pair a scanner' }).click();
      const code = (await page.getByTestId('pairing-code').textContent())!.trim();
      await checkScreen(page, 'admin-scanners-pairing');
      await hid(station, { action: 'type', path: scanner.path, text: code });
      await expect(page.locator('tr[data-scanner="Voyager 1250g 1"]')).toContainText('Connected');
      await checkScreen(page, 'admin-scanners');

      await page.getByRole('tab', { name: 'Station' }).click();
      await expect(page.getByLabel('Station name')).toHaveValue('Demo dock door 1');
      await checkScreen(page, 'admin-station');

      await page.getByRole('tab', { name: 'Sync' }).click();
      await expect(page.locator('tr[data-upstream="bags"]')).toBeVisible();
      await expect(page.getByRole('table', { name: 'Credentials' }).locator('tr')).not.toHaveCount(0);
      await checkScreen(page, 'admin-sync');

      await page.getByRole('tab', { name: 'Audit' }).click();
      await page.locator('.audit-row').first().click();
      await expect(page.locator('.before-after')).toBeVisible();
      await checkScreen(page, 'admin-audit');
    });
  });
}
