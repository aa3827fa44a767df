import { afterEach, describe, expect, it } from 'vitest';
import { InjectedFailures } from '../../src/main/ipc/router';
import { releaseAll } from '../support/cleanup';
import { withAdmin } from '../support/station';

afterEach(releaseAll);

describe('router under failure', () => {
  it('a database error while checking the session answers "internal" instead of rejecting, and the next call works', async () => {
    const t = await withAdmin();
    const auth = t.station.auth as unknown as { userById: (id: number) => unknown };
    const real = auth.userById.bind(auth);
    auth.userById = () => {
      throw new Error('SQLITE_IOERR: disk I/O error');
    };
    await expect(t.admin.call('settings/get', {})).resolves.toMatchObject({
      ok: false,
      error: { code: 'internal', message: expect.stringContaining('settings/get') },
    });
    auth.userById = real;
    expect((await t.admin.ok('settings/get', {})).stationName).toBeTruthy();
  });

  it('an error while checking for idle sessions answers "internal" too', async () => {
    const t = await withAdmin();
    const auth = t.station.auth as unknown as { lockIdleSessions: () => unknown };
    const real = auth.lockIdleSessions.bind(auth);
    auth.lockIdleSessions = () => {
      throw new Error('SQLITE_BUSY');
    };
    await expect(t.admin.call('bags/current', {})).resolves.toMatchObject({ ok: false, error: { code: 'internal' } });
    auth.lockIdleSessions = real;
    await expect(t.admin.call('bags/current', {})).resolves.toMatchObject({ ok: true });
  });

  it('injected failures hit only the named channel, only as many times as asked', async () => {
    const failures = new InjectedFailures();
    const t = await withAdmin({ injectedFailures: failures });
    failures.failNext('settings/get', 2);
    expect((await t.admin.call('settings/get', {})).ok).toBe(false);
    expect((await t.admin.call('bags/current', {})).ok).toBe(true);
    expect((await t.admin.call('settings/get', {})).ok).toBe(false);
    expect((await t.admin.call('settings/get', {})).ok).toBe(true);
  });
});
