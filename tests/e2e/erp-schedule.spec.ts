import { describeInstant, nextRun } from '../../src/main/upstreams/zoned-time';
import { expect, screenshot, signIn, test } from './fixtures';
import { layoutProblems } from './layout-check';

test.use({ stationArgs: ['--demo'] });

test('Admin → Sync → ERP: prewarm times and zone per instance, next run, "Fetch both now" with row counts, and the 503 cooldown', async ({
  page,
  station,
}) => {
  await page.goto(station.url);
  await signIn(page, 'admin', 'dockside-admin');
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: /Admin/ }).click();
  await page.getByRole('tab', { name: 'Sync' }).click();

  const dd = page.getByRole('region', { name: 'ERP DD prewarm' });
  const outcome = page.getByTestId('erp-schedule-outcome');
  await expect(dd.getByTestId('next-run-DD')).toHaveText('Not scheduled');
  await expect(dd.getByLabel('Time zone')).toHaveValue('Australia/Sydney');

  // Bad input is refused in words and changes nothing.
  await dd.getByLabel('Prewarm times (HH:MM)').fill('05:30, 25:00');
  await dd.getByRole('button', { name: 'Save DD schedule' }).click();
  await expect(dd.getByText('“25:00” is not a time of day: write HH:MM on the 24-hour clock, 00:00 to 23:59')).toBeVisible();
  await expect(outcome).toHaveText('Check the field marked in red.');
  await dd.getByLabel('Prewarm times (HH:MM)').fill('17:30, 05:30, 05:30');
  await dd.getByLabel('Time zone').fill('Sydney');
  await dd.getByRole('button', { name: 'Save DD schedule' }).click();
  await expect(dd.getByText('“Sydney” is not a time zone this station knows: use a name like Australia/Sydney')).toBeVisible();
  await expect(dd.getByTestId('next-run-DD')).toHaveText('Not scheduled');

  // Out of order and twice: saved sorted, once each; the next run shows in Sydney time.
  await dd.getByLabel('Time zone').fill('Australia/Sydney');
  const before = describeInstant(nextRun('Australia/Sydney', ['05:30', '17:30'], Date.now())!, 'Australia/Sydney');
  await dd.getByRole('button', { name: 'Save DD schedule' }).click();
  await expect(outcome).toHaveText('ERP DD prewarms daily at 05:30, 17:30 (Australia/Sydney)');
  await expect(dd.getByLabel('Prewarm times (HH:MM)')).toHaveValue('05:30, 17:30');
  const after = describeInstant(nextRun('Australia/Sydney', ['05:30', '17:30'], Date.now())!, 'Australia/Sydney');
  const nextRunText = (await dd.getByTestId('next-run-DD').textContent()) ?? '';
  expect(
    [before, after].some((expected) => nextRunText.startsWith(expected)),
    `${nextRunText} starts with ${before}`,
  ).toBe(true);
  expect(nextRunText).toMatch(/(05:30|17:30) AE[DS]T/);

  // CBR in another zone: its own times.
  const cbr = page.getByRole('region', { name: 'ERP CBR prewarm' });
  await cbr.getByLabel('Prewarm times (HH:MM)').fill('06:00');
  await cbr.getByLabel('Time zone').fill('Australia/Perth');
  await cbr.getByRole('button', { name: 'Save CBR schedule' }).click();
  await expect(outcome).toHaveText('ERP CBR prewarms daily at 06:00 (Australia/Perth)');
  await expect(cbr.getByTestId('next-run-CBR')).toContainText('06:00 AWST');

  // Run both now: each instance's last result with its row count.
  await expect(dd.getByTestId('last-result-DD')).toHaveText('Not run yet');
  await page.getByRole('button', { name: 'Fetch both now' }).click();
  await expect(outcome).toHaveText('ERP DD: 112 rows cached · ERP CBR: 112 rows cached', { timeout: 30_000 });
  await expect(dd.getByTestId('last-result-DD')).toContainText('(fetched now): 112 rows cached');
  await expect(cbr.getByTestId('last-result-CBR')).toContainText('(fetched now): 112 rows cached');
  await cbr.getByRole('button', { name: 'Fetch CBR now' }).click();
  await expect(outcome).toHaveText('ERP CBR: 112 rows cached');

  // The cooldown after a 503, in minutes.
  const cooldown = page.getByLabel('Cooldown after a 503 (minutes)');
  await expect(cooldown).toHaveValue('5');
  await cooldown.fill('300');
  await page.getByRole('button', { name: 'Save cooldown' }).click();
  await expect(page.getByText('At most 240 minutes')).toBeVisible();
  await cooldown.fill('ten');
  await page.getByRole('button', { name: 'Save cooldown' }).click();
  await expect(page.getByText('Enter a number of minutes')).toBeVisible();
  await cooldown.fill('15');
  await page.getByRole('button', { name: 'Save cooldown' }).click();
  await expect(outcome).toHaveText('After a 503 the ERP is left alone for 15 min');

  // Kept by the station: away and back, the schedule, the last results and the cooldown come back from main.
  await page.getByRole('tab', { name: 'Station' }).click();
  await expect(dd).toBeHidden();
  await page.getByRole('tab', { name: 'Sync' }).click();
  await expect(page.getByLabel('Cooldown after a 503 (minutes)')).toHaveValue('15');
  await expect(dd.getByLabel('Prewarm times (HH:MM)')).toHaveValue('05:30, 17:30');
  await expect(dd.getByTestId('last-result-DD')).toContainText('112 rows cached');

  for (const size of [
    { width: 1366, height: 768 },
    { width: 1920, height: 1080 },
  ]) {
    await page.setViewportSize(size);
    await page.getByRole('heading', { name: 'ERP', exact: true }).evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await screenshot(page, `admin-sync-erp-schedule-${size.width}x${size.height}`);
    expect(await layoutProblems(page)).toEqual([]);
    await page.getByRole('button', { name: 'Fetch both now' }).evaluate((el) => el.scrollIntoView({ block: 'end' }));
    await screenshot(page, `admin-sync-erp-schedule-${size.width}x${size.height}-results`);
    expect(await layoutProblems(page)).toEqual([]);
  }
});
