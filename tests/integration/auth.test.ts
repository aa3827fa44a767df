import { afterEach, describe, expect, it } from 'vitest';
import { THROTTLE } from '../../src/main/auth/service';
import type { SessionInfo } from '../../src/shared/contract';
import { releaseAll } from '../support/cleanup';
import { passSecondFactor } from '../support/second-factor';
import { makeStation, signInAs, withAdmin } from '../support/station';

afterEach(releaseAll);

describe('first-run setup', () => {
  it('creates the first admin once, signs them in once their phone is set up, and audits it', async () => {
    const t = await makeStation();
    const w = t.window();
    expect((await w.ok('session/status', {})).setupRequired).toBe(true);
    const info = await w.ok('setup/create-admin', { username: 'Boss', displayName: 'Boss', password: 'correct horse' });
    expect(info).toMatchObject({ user: null, setupRequired: false, secondFactor: { stage: 'enrol', username: 'boss' } });
    expect((await passSecondFactor(t, w.raw, info)).session.user).toMatchObject({ username: 'boss', role: 'admin' });

    const again = await t.window().call('setup/create-admin', { username: 'evil', displayName: 'Evil', password: 'password-1' });
    expect(again).toMatchObject({ ok: false, error: { code: 'conflict' } });
    const actions = t.station.database.sqlite.prepare('select action from audit_log order by id').all();
    expect(actions).toContainEqual({ action: 'setup.admin_created' });
  });

  it('creates the admin from configuration for unattended installs', async () => {
    const t = await makeStation({ initialAdmin: { username: 'it-admin', password: 'from-env-secret' } });
    const w = t.window();
    expect((await signInAs(t, w, 'it-admin', 'from-env-secret')).user?.role).toBe('admin');
  });

  it('stores no plain secrets', async () => {
    const t = await withAdmin();
    const dump = JSON.stringify(t.station.database.sqlite.prepare('select * from users').all());
    expect(dump).not.toContain('correct horse');
  });
});

describe('sign-in', () => {
  it('accepts a password or a PIN, and refuses wrong ones without saying which part was wrong', async () => {
    const t = await withAdmin();
    await t.admin.ok('users/create', { username: 'dock1', displayName: 'Dock 1', role: 'dispatcher', pin: '5826' });
    const w = t.window();
    const wrongUser = await w.call('auth/login', { username: 'nobody', secret: '5826' });
    const wrongPin = await w.call('auth/login', { username: 'dock1', secret: '0000' });
    const wrongPassword = await w.call('auth/login', { username: 'boss', secret: 'wrong horse' });
    // The same answer, code and words, whichever part was wrong.
    expect(wrongUser).toEqual({ ok: false, error: { code: 'unauthenticated', message: 'User name or password/PIN is wrong' } });
    expect(wrongPin).toEqual(wrongUser);
    expect(wrongPassword).toEqual(wrongUser);
    expect((await signInAs(t, w, 'boss', 'correct horse')).user?.role).toBe('admin');
    expect((await w.ok('auth/login', { username: 'DOCK1', secret: '5826' })).user?.role).toBe('dispatcher');
  });

  it('pauses a user name after repeated failures, survives a restart, audits each failure', async () => {
    const t = await withAdmin();
    const w = t.window();
    for (let i = 0; i < THROTTLE.freeFailures; i++) {
      const r = await w.call('auth/login', { username: 'boss', secret: `wrong-${i}` });
      expect(r).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    }
    const paused = await w.call('auth/login', { username: 'boss', secret: 'correct horse' });
    expect(paused).toMatchObject({ ok: false, error: { code: 'rate_limited', retryAfterMs: THROTTLE.firstPauseMs } });
    const failures = t.station.database.sqlite.prepare("select count(*) as n from audit_log where action = 'auth.login_failed'").get();
    expect(failures).toEqual({ n: THROTTLE.freeFailures });
    await t.close();

    // Restarting the station does not reset the pause.
    const again = await makeStation({ dataDir: t.dataDir });
    again.clock.t = t.clock.t + 1000;
    const r = await again.window().call('auth/login', { username: 'boss', secret: 'correct horse' });
    expect(r).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    again.clock.advance(THROTTLE.firstPauseMs);
    expect((await signInAs(again, again.window(), 'boss', 'correct horse')).user?.username).toBe('boss');
  });

  it('a disabled user cannot sign in and their open session ends at once', async () => {
    const t = await withAdmin();
    const dispatcher = await t.signedIn('dispatcher', 'dock2');
    const id = (await dispatcher.ok('session/status', {})).user!.id;
    await t.admin.ok('users/update', { id, disabled: true });
    expect(dispatcher.events.at(-1)).toMatchObject({ event: 'session/changed', data: { user: null } });
    expect(await dispatcher.call('auth/activity', {})).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    expect(await t.window().call('auth/login', { username: 'dock2', secret: 'password-123' })).toMatchObject({
      ok: false,
      error: { code: 'forbidden', message: 'This account is disabled. Ask an admin.' },
    });
  });

  it('keeps at least one active admin and refuses self-disable', async () => {
    const t = await withAdmin();
    const me = (await t.admin.ok('session/status', {})).user!;
    expect(await t.admin.call('users/update', { id: me.id, role: 'biller' })).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(await t.admin.call('users/update', { id: me.id, disabled: true })).toMatchObject({ ok: false, error: { code: 'conflict' } });
    const other = await t.admin.ok('users/create', { username: 'boss2', displayName: 'B2', role: 'admin', password: 'password-123' });
    expect((await t.admin.ok('users/update', { id: me.id, role: 'biller' })).role).toBe('biller');
    expect(other.role).toBe('admin');
  });

  it('changing a role applies to the open session on its next call', async () => {
    const t = await withAdmin();
    const w = await t.signedIn('dispatcher', 'dock3');
    expect(await w.call('users/list', {})).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const id = (await w.ok('session/status', {})).user!.id;
    await t.admin.ok('users/update', { id, role: 'biller' });
    expect(w.events.at(-1)).toMatchObject({ event: 'session/changed', data: { user: { role: 'biller' } } });
    expect((await w.call('bills/list', {})).ok).toBe(true);
  });

  it('someone made admin while signed in sets up a phone before the admin screens answer', async () => {
    const t = await withAdmin();
    const w = await t.signedIn('dispatcher', 'dock3');
    const id = (await w.ok('session/status', {})).user!.id;
    await t.admin.ok('users/update', { id, role: 'admin' });
    const pushed = w.events.at(-1)!;
    expect(pushed).toMatchObject({ event: 'session/changed', data: { user: null, secondFactor: { stage: 'enrol', username: 'dock3' } } });
    expect(await w.call('users/list', {})).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    await passSecondFactor(t, w.raw, pushed.data as SessionInfo);
    expect((await w.call('users/list', {})).ok).toBe(true);
  });
});

describe('idle lock', () => {
  it('locks an idle session, pushes the change, refuses work until unlocked by the same user', async () => {
    const t = await withAdmin();
    const w = await t.signedIn('dispatcher', 'dock4');
    await t.admin.ok('settings/update', { idleLockMinutes: 2 });
    await w.ok('auth/activity', {});
    t.clock.advance(60_000);
    expect(t.station.auth.lockIdleSessions()).toEqual([]);
    t.clock.advance(61_000);
    const locked = t.station.auth.lockIdleSessions();
    expect(locked.map((s) => s.id)).toContain(w.session.id);
    expect(w.events.at(-1)).toMatchObject({ event: 'session/changed', data: { locked: true, user: { username: 'dock4' } } });

    expect(await w.call('auth/activity', {})).toMatchObject({ ok: false, error: { code: 'locked' } });
    expect(await w.call('auth/unlock', { secret: 'wrong-one' })).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    expect((await w.ok('auth/unlock', { secret: 'password-123' })).locked).toBe(false);
    expect((await w.call('auth/activity', {})).ok).toBe(true);
  });

  it('background calls (polling sync and session status) do not push the lock back; reported input does', async () => {
    const t = await withAdmin();
    const w = await t.signedIn('dispatcher', 'dock5');
    const v = await t.signedIn('dispatcher', 'dock6');
    await t.admin.ok('settings/update', { idleLockMinutes: 1 });
    await w.ok('auth/activity', {});
    await v.ok('auth/activity', {});
    for (let i = 0; i < 6; i++) {
      t.clock.advance(5_000);
      await w.ok('sync/status', {});
      await w.ok('session/status', {});
    }
    t.clock.advance(31_000);
    const locked = t.station.auth.lockIdleSessions().map((s) => s.id);
    expect(locked).toContain(w.session.id);
    expect(locked).toContain(v.session.id);

    await v.ok('auth/unlock', { secret: 'password-123' });
    t.clock.advance(50_000);
    await v.ok('auth/activity', {});
    t.clock.advance(50_000);
    expect(t.station.auth.lockIdleSessions().map((s) => s.id)).not.toContain(v.session.id);
  });

  it('the router locks on the next call even between timer ticks', async () => {
    const t = await withAdmin();
    t.clock.advance(11 * 60_000); // default 10 minutes
    expect(await t.admin.call('users/list', {})).toMatchObject({ ok: false, error: { code: 'locked' } });
    expect((await t.admin.ok('session/status', {})).locked).toBe(true);
    expect((await t.admin.ok('auth/logout', {})).user).toBeNull();
  });
});

describe('change password', () => {
  it('needs the current password, then the new one works and the old one does not', async () => {
    const t = await withAdmin();
    expect(await t.admin.call('auth/change-password', { current: 'nope-nope', next: 'new password 1' })).toMatchObject({
      ok: false,
      error: { code: 'unauthenticated' },
    });
    await t.admin.ok('auth/change-password', { current: 'correct horse', next: 'new password 1' });
    const w = t.window();
    expect((await w.call('auth/login', { username: 'boss', secret: 'correct horse' })).ok).toBe(false);
    expect((await w.call('auth/login', { username: 'boss', secret: 'new password 1' })).ok).toBe(true);
  });
});
