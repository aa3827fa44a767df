import { advanceClock, expect, setUpFirstAdmin, test } from './fixtures';

test.describe('idle lock', () => {
  test('locks a window left alone for the set time while its sync chip keeps polling', async ({ page, station }) => {
    // Every call the window sends, by channel: the chip's polling must go on and still not count.
    const sent: string[] = [];
    page.on('websocket', (ws) =>
      ws.on('framesent', (f) => {
        const m = /"channel":"([^"]+)"/.exec(String(f.payload));
        if (m) sent.push(m[1]);
      }),
    );
    await page.goto(station.url);
    await setUpFirstAdmin(page);
    const nav = page.getByRole('navigation', { name: 'Screens' });
    await nav.getByRole('button', { name: /Admin/ }).click();
    await page.getByRole('tab', { name: 'Station' }).click();
    await page.getByLabel('Lock after idle (minutes)').fill('1');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect(page.getByRole('status')).toHaveText('Station settings saved');
    await nav.getByRole('button', { name: /Scan/ }).click();

    const leftAlone = sent.length;
    await advanceClock(station, 30_000);
    const pollsBefore = sent.filter((c) => c === 'sync/status').length;
    await expect.poll(() => sent.filter((c) => c === 'sync/status').length, { timeout: 20_000 }).toBeGreaterThan(pollsBefore);
    await expect(page.getByRole('heading', { name: 'Locked' })).toHaveCount(0);

    await advanceClock(station, 31_000);
    await expect(page.getByRole('heading', { name: 'Locked' })).toBeVisible({ timeout: 20_000 });
    await expect(page.getByText('Locked after 1 minutes without use. Chief is signed in.')).toBeVisible();
    expect(sent.slice(leftAlone)).not.toContain('auth/activity');

    await page.getByLabel('Password or PIN').fill('warehouse-admin-1');
    await page.getByRole('button', { name: 'Unlock' }).click();
    await expect(nav).toBeVisible();
  });
});
