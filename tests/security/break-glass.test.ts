import { afterEach, describe, expect, it } from 'vitest';
import { resetSecondFactorFromConsole } from '../../src/main/app/break-glass';
import { releaseAll } from '../support/cleanup';
import { withAdmin } from '../support/station';

afterEach(releaseAll);

describe('second factor reset from the station PC’s console', () => {
  it('resets the last admin’s second factor, signs their windows out, and audits it under the OS account', async () => {
    const t = await withAdmin();
    const message = resetSecondFactorFromConsole(t.station, 'boss', 'itadmin');
    expect(message).toContain('Boss (boss): second factor reset');
    expect(await t.admin.call('users/list', {})).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    expect(await t.window().ok('auth/login', { username: 'boss', secret: 'correct horse' })).toMatchObject({
      user: null,
      secondFactor: { stage: 'enrol', username: 'boss' },
    });
    const row = t.station.database.sqlite
      .prepare("SELECT username FROM audit_log WHERE action = 'users.second_factor_reset' ORDER BY id DESC LIMIT 1")
      .get() as { username: string };
    expect(row.username).toBe('console (itadmin)');
  });

  it('refuses an unknown user name in words', async () => {
    const t = await withAdmin();
    expect(() => resetSecondFactorFromConsole(t.station, 'nobody', 'itadmin')).toThrow('No user named “nobody” on this station');
  });
});
