import path from 'node:path';
import Database from 'better-sqlite3';
import type { Page } from '@playwright/test';
import { expect, screenshot, signIn, testControlPost, test, wedgeScan, type StationProcess } from './fixtures';
import { layoutProblems } from './layout-check';

test.use({ stationArgs: ['--demo'] });

const SIZES = [
  { width: 1366, height: 768 },
  { width: 1920, height: 1080 },
];
const H = 3_600_000;

/** The station's clock, moved on by `ms` (test host control). */
async function stationClock(station: StationProcess, ms = 0): Promise<number> {
  const res = await testControlPost(station, '/__test/clock', { ms });
  if (!res.ok) throw new Error(`clock control: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { now: number }).now;
}

const number = async (page: Page, testid: string) => Number((await page.getByTestId(testid).textContent())!.replace(/[^\d]/g, ''));

test.describe('Reports → Today (operations dashboard)', () => {
  test('an admin lands on Today; a dispatcher scans in another window and the dashboard follows live, without a reload', async ({
    page,
    browser,
    station,
  }) => {
    await page.setViewportSize(SIZES[0]);
    await page.goto(station.url);
    await signIn(page, 'admin', 'dockside-admin');
    // Admins supervise: they land on Reports, whose first tab, Today, is open.
    await expect(page.getByRole('heading', { level: 1, name: 'Reports' })).toBeVisible();
    await expect(page.getByRole('tab', { name: 'Today' })).toHaveAttribute('aria-selected', 'true');
    await expect(page.getByTestId('dash-scans')).toBeVisible();
    const scans = await number(page, 'dash-scans');
    const linked = await number(page, 'dash-linked');
    expect(scans).toBeGreaterThan(0); // the demo's own scans of today
    // A mark in this page: still there at the end means nothing reloaded it.
    await page.evaluate(() => ((window as unknown as { dashMark: string }).dashMark = 'same page'));

    const door = await browser.newPage({ viewport: SIZES[0] });
    await door.goto(station.url);
    await signIn(door, 'dock1', '3917');
    await expect(door.getByRole('heading', { level: 1, name: 'Scan' })).toBeVisible();
    await wedgeScan(door, 'SB20001');
    await expect(door.getByTestId('parent-code')).toHaveText('SB20001');
    for (let i = 1; i <= 5; i++) {
      await wedgeScan(door, `C-9${String(i).padStart(5, '0')}`);
      await expect(door.getByTestId('child-count')).toContainText(String(i));
    }

    await expect(page.getByTestId('dash-scans')).toHaveText((scans + 6).toLocaleString('en-US'), { timeout: 10_000 });
    await expect(page.getByTestId('dash-linked')).toHaveText((linked + 5).toLocaleString('en-US'));
    await expect(page.locator('tr[data-door="Keyboard scanner"]')).toBeVisible();
    await expect(page.getByTestId('dash-p50')).toHaveText(/\d ms$/);
    await expect(page.getByTestId('dash-p95')).toHaveText(/\d ms$/);
    expect(await page.evaluate(() => (window as unknown as { dashMark?: string }).dashMark)).toBe('same page');
    const current = page.locator('[data-testid="hour-table"] tr.current');
    expect(Number(await current.getAttribute('data-scans'))).toBeGreaterThanOrEqual(6);
    await door.close();
  });

  test('a realistic day: the dashboard at 1366×768 and 1920×1080, nothing clipped or wrapped', async ({ page, station }) => {
    // Move the station to late afternoon (if it is earlier) so the day has a whole shift behind it.
    const now = await stationClock(station);
    const midnight = new Date(now).setHours(0, 0, 0, 0);
    const afternoon = midnight + 17 * H + 20 * 60_000;
    await station.kill();
    const db = new Database(path.join(station.dataDir, 'dockside.sqlite'));
    const stationId = (db.prepare('SELECT station_id FROM scans LIMIT 1').get() as { station_id: string }).station_id;
    const until = Math.max(now, afternoon);
    const people = ['Ana Silva', 'Ben Okafor', 'Chloé Martin', 'Dev Patel'].map((name, i) => {
      const r = db
        .prepare("INSERT INTO users (username, display_name, role, created_at, updated_at) VALUES (?, ?, 'dispatcher', ?, ?)")
        .run(`door${i + 2}`, name, midnight, midnight);
      return Number(r.lastInsertRowid);
    });
    const doors = ['Door 2 scanner', 'Door 3 scanner', 'Door 4 scanner', null];
    const perHour = [0, 0, 0, 0, 0, 0, 140, 420, 560, 610, 540, 330, 260, 590, 620, 510, 380, 150];
    const scan = db.prepare(
      "INSERT INTO scans (at, user_id, station_id, source, device, raw, code, result, message) VALUES (?, ?, ?, ?, ?, 'x', 'X', ?, 'seeded')",
    );
    const bag = db.prepare("INSERT INTO bags (code, kind, created_at, station_id, origin) VALUES (?, ?, ?, ?, 'scan')");
    let n = 0;
    db.transaction(() => {
      perHour.forEach((count, hour) => {
        for (let i = 0; i < count; i++) {
          const at = midnight + hour * H + Math.floor((i * H) / count);
          if (at >= until) return;
          const who = i % 4;
          const result = i % 40 === 0 ? 'parent' : i % 97 === 0 ? 'conflict' : i % 131 === 0 ? 'invalid' : 'linked';
          scan.run(at, people[who], stationId, doors[who] ? 'hid' : 'wedge', doors[who], result);
          if (result === 'linked' || result === 'parent') bag.run(`DASH-${++n}`, result === 'parent' ? 'parent' : 'child', at, stationId);
        }
      });
      const bill = db.prepare('INSERT INTO bills (number, status, created_at, finalized_at) VALUES (?, ?, ?, ?)');
      for (let i = 1; i <= 7; i++) bill.run(`D-${i}`, i <= 5 ? 'finalized' : 'draft', midnight + (7 + i) * H, i <= 5 ? midnight + (8 + i) * H : null);
      const job = db.prepare("INSERT INTO jobs (kind, status, created_at, finished_at) VALUES (?, 'succeeded', ?, ?)");
      job.run('import', midnight + 7 * H, midnight + 7 * H + 60_000);
      job.run('import', midnight + 12 * H, midnight + 12 * H + 60_000);
      job.run('export', midnight + 16 * H, midnight + 16 * H + 30_000);
    })();
    // 14:00–15:00 as the database holds it (the demo's own scans too, should the test run in that hour).
    const at14 = (db.prepare('SELECT count(*) AS n FROM scans WHERE at >= ? AND at < ?').get(midnight + 14 * H, midnight + 15 * H) as { n: number })
      .n;
    db.close();
    expect(at14).toBeGreaterThanOrEqual(620);
    await station.start(station.port);
    await stationClock(station, Math.max(0, afternoon - now));

    await page.setViewportSize(SIZES[0]);
    await page.goto(station.url);
    await signIn(page, 'admin', 'dockside-admin');
    await expect(page.getByTestId('dash-scans')).toBeVisible();
    await expect(page.locator('tr[data-person="Ana Silva"]')).toBeVisible();
    await expect(page.locator('tr[data-door="Door 2 scanner"]')).toBeVisible();
    expect(await number(page, 'dash-scans')).toBeGreaterThan(4000);
    await expect(page.getByTestId('dash-imports')).toHaveText('2');
    await expect(page.getByTestId('dash-exports')).toHaveText('1');
    await expect(page.locator('[data-testid="hour-table"] tr[data-hour="14:00"]')).toHaveAttribute('data-scans', String(at14));
    for (const size of SIZES) {
      await page.setViewportSize(size);
      await page.evaluate(() => document.fonts.ready);
      await screenshot(page, `dashboard-today-${size.width}x${size.height}`);
      expect(await layoutProblems(page)).toEqual([]);
      // The rest of it, as a person scrolling sees it.
      await page.locator('main.content').evaluate((el) => el.scrollTo(0, el.scrollHeight));
      await screenshot(page, `dashboard-today-${size.width}x${size.height}-scrolled`);
      await page.locator('main.content').evaluate((el) => el.scrollTo(0, 0));
    }
  });
});
