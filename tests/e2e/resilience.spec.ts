import type { Page } from '@playwright/test';
import { expect, expectReadable, failNext, screenshot, signIn, test, wedgeScan, type StationProcess } from './fixtures';

test.use({ stationArgs: ['--demo'] });

/** A dispatcher signed in on the Scan screen; returns its big status panel. */
async function atTheDockDoor(page: Page, station: StationProcess) {
  await page.goto(station.url);
  await signIn(page, 'dock1', '3917');
  await expect(page.getByRole('heading', { level: 1, name: 'Scan' })).toBeVisible();
  return page.getByTestId('scan-status');
}

test.describe('a dock door is not frozen by one error', () => {
  test('a scan that fails inside main is said in words, and the next scan goes through', async ({ page, station }) => {
    const status = await atTheDockDoor(page, station);

    await failNext(station, 'bags/scan');
    await wedgeScan(page, 'SB10001');
    await expect(status).toContainText('Scan not saved');
    await expect(status).toContainText('SB10001 was not saved. The station had a problem and has logged it. Try again.');
    // Words for the person at the door, not the channel name from main's log line.
    await expect(status).not.toContainText('bags/scan');
    await expect(page.getByTestId('parent-code')).toHaveText('—');
    await expectReadable(status.locator('.scan-status-detail'), { minFontPx: 28 });
    await screenshot(page, 'scan-error');

    // The same scan again, as a person would: it is taken.
    await wedgeScan(page, 'SB10001');
    await expect(status).toContainText('New parent SB10001');
    await expect(page.getByTestId('parent-code')).toHaveText('SB10001');

    // Two failures in a row, then a good scan: still not frozen.
    await failNext(station, 'bags/scan', 2);
    await wedgeScan(page, 'KID-0001');
    await expect(status).toContainText('KID-0001 was not saved.');
    await wedgeScan(page, 'KID-0002');
    await expect(status).toContainText('KID-0002 was not saved.');
    await wedgeScan(page, 'KID-0001');
    await expect(status).toContainText('Linked KID-0001 → SB10001 (1)');
    await expect(page.getByTestId('child-count')).toHaveText('1 / 30');
  });

  test('when the reload after a scan fails, the scan still counts, the screen says so, and the next scan works', async ({ page, station }) => {
    const status = await atTheDockDoor(page, station);
    await wedgeScan(page, 'SB10001');
    await expect(page.getByTestId('parent-code')).toHaveText('SB10001');

    await failNext(station, 'bags/current');
    await wedgeScan(page, 'KID-0001');
    await expect(status).toContainText('Linked KID-0001 → SB10001 (1)');
    const stale = page.getByRole('alert').filter({ hasText: 'could not be reloaded' });
    await expect(stale).toHaveText(
      'The current parent and recent scans could not be reloaded, so they may be out of date. They reload after the next scan.',
    );
    await expectReadable(stale);
    await screenshot(page, 'scan-reload-failed');

    await wedgeScan(page, 'KID-0002');
    await expect(status).toContainText('Linked KID-0002 → SB10001 (2)');
    await expect(page.getByTestId('child-count')).toHaveText('2 / 30');
    await expect(stale).toHaveCount(0);
    await expect(page.locator('.recent tr').first()).toContainText('KID-0002');
  });

  test('a failed sign-in call leaves the button usable', async ({ page, station }) => {
    await page.goto(station.url);
    await failNext(station, 'auth/login');
    await signIn(page, 'dock1', '3917');
    await expect(page.getByRole('alert')).toHaveText('The station had a problem and has logged it. Try again.');
    await expect(page.getByRole('button', { name: 'Sign in' })).toBeEnabled();
    await signIn(page, 'dock1', '3917');
    await expect(page.getByRole('heading', { level: 1, name: 'Scan' })).toBeVisible();
  });
});

test.describe('a transport that throws, as Electron IPC does when main cannot answer', () => {
  test.use({ expectedConsoleErrors: [/bags\/scan could not be sent/] });

  test('a rejected call is said on the screen and the next scan goes through', async ({ page, station }) => {
    // Stands in for the preload's window.dockside (the Electron path): the same frames over the
    // host's WebSocket, but its invoke can be made to reject the way ipcRenderer.invoke does.
    await page.addInitScript(() => {
      type Frame = { t: 'result'; id: number; envelope: unknown } | { t: 'event'; event: string; data: unknown };
      const w = window as unknown as { rejectNextScan: boolean; dockside: unknown };
      const pending = new Map<number, (envelope: unknown) => void>();
      const listeners = new Set<(frame: Frame) => void>();
      const ws = new WebSocket(`ws://${location.host}/ipc`);
      const opened = new Promise((resolve) => (ws.onopen = resolve));
      let nextId = 1;
      ws.onmessage = (m) => {
        const frame = JSON.parse(String(m.data)) as Frame;
        if (frame.t === 'result') pending.get(frame.id)?.(frame.envelope);
        else for (const listener of listeners) listener(frame);
      };
      w.rejectNextScan = false;
      w.dockside = {
        async invoke(channel: string, payload: unknown) {
          if (channel === 'bags/scan' && w.rejectNextScan) {
            w.rejectNextScan = false;
            throw new Error("Error invoking remote method 'dockside:invoke': main did not answer");
          }
          await opened;
          const id = nextId++;
          return new Promise((resolve) => {
            pending.set(id, resolve);
            ws.send(JSON.stringify({ t: 'invoke', id, channel, payload }));
          });
        },
        on(event: string, callback: (data: unknown) => void) {
          const listener = (frame: Frame) => frame.t === 'event' && frame.event === event && callback(frame.data);
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
      };
    });
    const status = await atTheDockDoor(page, station);

    await page.evaluate(() => ((window as unknown as { rejectNextScan: boolean }).rejectNextScan = true));
    await wedgeScan(page, 'SB10001');
    await expect(status).toContainText('Scan not saved');
    await expect(status).toContainText('SB10001 was not saved. Could not reach the station service. Try again.');

    await wedgeScan(page, 'SB10001');
    await expect(status).toContainText('New parent SB10001');
    await wedgeScan(page, 'KID-0001');
    await expect(status).toContainText('Linked KID-0001 → SB10001 (1)');
  });
});
