import type { Page } from '@playwright/test';
import { callOverSocket, expect, screenshot, signIn, test, unreadableText } from './fixtures';
import { layoutProblems } from './layout-check';

test.use({ stationArgs: ['--demo'] });

async function openImportScreen(page: Page): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Screens' })
    .getByRole('button', { name: /Import/ })
    .click();
  await expect(page.getByRole('region', { name: 'Export' })).toBeVisible();
}

/** The demo's people, and the export buttons each must and must not see. */
const PEOPLE = [
  {
    role: 'biller',
    username: 'billing',
    password: 'dockside-billing',
    sees: ['Bags as CSV', 'Bags as XLSX', 'Bills as CSV', 'Bills as XLSX'],
    hidden: ['Audit trail as CSV', 'Audit trail as XLSX'],
  },
  {
    role: 'admin',
    username: 'admin',
    password: 'dockside-admin',
    sees: ['Bags as CSV', 'Bags as XLSX', 'Bills as CSV', 'Bills as XLSX', 'Audit trail as CSV', 'Audit trail as XLSX'],
    hidden: [],
  },
] as const;

for (const size of [
  { width: 1366, height: 768 },
  { width: 1920, height: 1080 },
]) {
  const at = `${size.width}x${size.height}`;
  test.describe(at, () => {
    test.use({ viewport: size });

    for (const p of PEOPLE) {
      const what = p.hidden.length ? 'the bags and bills exports, not the audit trail' : 'all three exports';
      test(`${p.role === 'admin' ? 'an' : 'a'} ${p.role} sees ${what}, readable at ${at}`, async ({ page, station }) => {
        await page.goto(station.url);
        await signIn(page, p.username, p.password);
        await openImportScreen(page);
        const exports = page.getByRole('region', { name: 'Export' });
        for (const name of p.sees) await expect(exports.getByRole('button', { name })).toBeVisible();
        for (const name of p.hidden) await expect(exports.getByRole('button', { name })).toHaveCount(0);
        if (p.hidden.length) await expect(exports.getByText('Audit trail')).toHaveCount(0);
        await screenshot(page, `export-${p.role}-${at}`);
        expect(await layoutProblems(page)).toEqual([]);
        expect(await unreadableText(page)).toEqual([]);
      });
    }
  });
}

test('a biller calling exports/start for the audit trail over the transport is refused by main', async ({ page, station }) => {
  await page.goto(station.url);
  const [login, audit, bills] = await callOverSocket(page, [
    ['auth/login', { username: 'billing', secret: 'dockside-billing' }],
    ['exports/start', { what: 'audit', format: 'csv' }],
    ['exports/start', { what: 'bills', format: 'csv' }],
  ]);
  expect(login).toMatchObject({ ok: true, value: { user: { role: 'biller' } } });
  expect(audit).toEqual({ ok: false, error: { code: 'forbidden', message: 'Only Admin may export the audit trail (you are Biller)' } });
  expect(bills).toMatchObject({ ok: true, value: { kind: 'export' } });
});
