import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_KDF, hashSecret, needsRehash, verifySecret } from '../../src/main/auth/passwords';
import { STATION_PIN_BUDGET, THROTTLE } from '../../src/main/auth/service';
import { fillPinBudget, pinBudgetLevel, pinPauseLeft } from '../../src/main/auth/throttle';
import type { Envelope } from '../../src/shared/envelope';
import { releaseAll } from '../support/cleanup';
import { makeStation, startTestHost, TEST_KDF, signInAs, withAdmin } from '../support/station';
import { connectWs, type RawWsClient } from '../support/ws-client';

afterEach(releaseAll);

const WRONG = { code: 'unauthenticated', message: 'User name or password/PIN is wrong' };
const STATION_PIN_PAUSED = /^PIN sign-in is paused for this station/;

type Setup = Awaited<ReturnType<typeof withAdmin>>;

function count(t: Setup, action: string): number {
  return (t.station.database.sqlite.prepare('select count(*) as n from audit_log where action = ?').get(action) as { n: number }).n;
}

function codes(results: Envelope<unknown>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) {
    const key = r.ok ? 'ok' : r.error.code;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

/** `n` distinct wrong 4-digit PINs, none of them `right`. */
function wrongPins(n: number, right: string): string[] {
  return Array.from({ length: n + 1 }, (_, i) => String(3000 + i * 13))
    .filter((p) => p !== right)
    .slice(0, n);
}

async function dispatcher(t: Setup, username: string, pin: string, password = 'password-123') {
  return t.admin.ok('users/create', { username, displayName: username, role: 'dispatcher', pin, password });
}

async function connections(url: string, n: number): Promise<RawWsClient[]> {
  return Promise.all(Array.from({ length: n }, () => connectWs(url)));
}

describe('sign-in throttle under parallel tries', () => {
  it('50 parallel wrong PINs on one connection: at most 5 are verified, the rest are refused and audited', async () => {
    const t = await withAdmin();
    await dispatcher(t, 'dock1', '4071');
    const host = await startTestHost(t);
    const ws = await connectWs(host.url);

    const results = await Promise.all(wrongPins(50, '4071').map((secret) => ws.invoke('auth/login', { username: 'dock1', secret })));

    const answered = codes(results);
    expect(answered.unauthenticated ?? 0).toBeLessThanOrEqual(THROTTLE.freeFailures);
    expect((answered.unauthenticated ?? 0) + (answered.rate_limited ?? 0)).toBe(50);
    expect(count(t, 'auth.login_failed')).toBe(answered.unauthenticated);
    expect(count(t, 'auth.login_throttled')).toBeGreaterThan(0);
  });

  it('waves of parallel wrong PINs on several connections: at most 5 are verified for one user, then the right PIN waits too', async () => {
    const t = await withAdmin();
    await dispatcher(t, 'dock1', '4071');
    const host = await startTestHost(t);
    const sockets = await connections(host.url, 10);
    const pins = wrongPins(70, '4071');

    const results: Envelope<unknown>[] = [];
    for (let wave = 0; wave < 7; wave++) {
      results.push(...(await Promise.all(sockets.map((ws, i) => ws.invoke('auth/login', { username: 'dock1', secret: pins[wave * 10 + i] })))));
    }

    expect(codes(results).unauthenticated).toBeLessThanOrEqual(THROTTLE.freeFailures);
    expect(count(t, 'auth.login_failed')).toBeLessThanOrEqual(THROTTLE.freeFailures);
    expect(codes(results.slice(-10))).toEqual({ rate_limited: 10 });
    expect(await sockets[0].invoke('auth/login', { username: 'dock1', secret: '4071' })).toMatchObject({
      ok: false,
      error: { code: 'rate_limited' },
    });
  });

  it('parallel unlock tries on several windows of one locked user: at most 5 are verified', async () => {
    const t = await withAdmin();
    await dispatcher(t, 'dock1', '4071');
    const windows = Array.from({ length: 10 }, () => t.window());
    for (const w of windows) await w.ok('auth/login', { username: 'dock1', secret: '4071' });
    t.clock.advance(11 * 60_000);
    t.station.auth.lockIdleSessions();
    const pins = wrongPins(30, '4071');

    const results: Envelope<unknown>[] = [];
    for (let wave = 0; wave < 3; wave++) {
      results.push(...(await Promise.all(windows.map((w, i) => w.call('auth/unlock', { secret: pins[wave * 10 + i] })))));
    }
    expect(codes(results).unauthenticated).toBeLessThanOrEqual(THROTTLE.freeFailures);
    expect(count(t, 'auth.unlock_failed')).toBeLessThanOrEqual(THROTTLE.freeFailures);
  });

  it('a success halves the user’s failure count instead of clearing it', async () => {
    const t = await withAdmin();
    await dispatcher(t, 'dock1', '4071');
    const w = t.window();
    for (const secret of wrongPins(4, '4071'))
      expect(await w.call('auth/login', { username: 'dock1', secret })).toMatchObject({ ok: false, error: WRONG });
    await w.ok('auth/login', { username: 'dock1', secret: '4071' });
    await w.ok('auth/logout', {});

    // 4 failures halve to 2: three more wrong tries reach the pause, not five.
    for (const secret of wrongPins(3, '4071'))
      expect(await w.call('auth/login', { username: 'dock1', secret })).toMatchObject({ ok: false, error: WRONG });
    expect(await w.call('auth/login', { username: 'dock1', secret: '5555' })).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
  });
});

describe('station-wide PIN budget', () => {
  it('a wrong-PIN spray over many users in parallel verifies at most the budget, then PIN sign-in pauses while passwords work', async () => {
    const t = await withAdmin();
    const people = Array.from({ length: 25 }, (_, i) => ({ username: `door${i}`, pin: String(5003 + i * 31) }));
    for (const p of people) await dispatcher(t, p.username, p.pin);
    const host = await startTestHost(t);
    const sockets = await connections(host.url, people.length);

    const results = await Promise.all(
      sockets.map((ws, i) => ws.invoke('auth/login', { username: people[i].username, secret: people[i].pin === '3141' ? '3142' : '3141' })),
    );

    const answered = codes(results);
    expect(answered.unauthenticated).toBeLessThanOrEqual(STATION_PIN_BUDGET.failures);
    expect(count(t, 'auth.login_failed')).toBeLessThanOrEqual(STATION_PIN_BUDGET.failures);
    expect((answered.unauthenticated ?? 0) + (answered.rate_limited ?? 0)).toBe(people.length);

    const late = await connectWs(host.url);
    const refused = await late.invoke('auth/login', { username: 'door24', secret: people[24].pin });
    expect(refused).toMatchObject({ ok: false, error: { code: 'rate_limited', message: expect.stringMatching(STATION_PIN_PAUSED) } });
    expect(await late.invoke('auth/login', { username: 'door24', secret: 'password-123' })).toMatchObject({ ok: true });
  });

  it('spends the budget on wrong PINs for unknown names too, and frees one PIN try per leak interval', async () => {
    const t = await withAdmin();
    await dispatcher(t, 'dock1', '4071');
    const w = t.window();
    for (let i = 0; i < STATION_PIN_BUDGET.failures; i++) {
      expect(await w.call('auth/login', { username: `ghost${i}`, secret: '3141' })).toMatchObject({ ok: false, error: WRONG });
    }
    expect(await w.call('auth/login', { username: 'dock1', secret: '4071' })).toMatchObject({
      ok: false,
      error: { code: 'rate_limited', message: expect.stringMatching(STATION_PIN_PAUSED) },
    });
    expect(count(t, 'auth.login_throttled')).toBe(1);

    t.clock.advance(STATION_PIN_BUDGET.windowMs / STATION_PIN_BUDGET.failures);
    expect((await w.ok('auth/login', { username: 'dock1', secret: '4071' })).user?.username).toBe('dock1');
  });

  it('a right PIN does not give the station’s PIN budget back', async () => {
    const t = await withAdmin();
    await dispatcher(t, 'dock1', '4071');
    const w = t.window();
    for (let i = 0; i < STATION_PIN_BUDGET.failures - 1; i++) await w.call('auth/login', { username: `ghost${i}`, secret: '3141' });
    await w.ok('auth/login', { username: 'dock1', secret: '4071' });
    await w.ok('auth/logout', {});
    expect(await w.call('auth/login', { username: 'ghost-last', secret: '3141' })).toMatchObject({ ok: false, error: WRONG });
    expect(await w.call('auth/login', { username: 'dock1', secret: '4071' })).toMatchObject({
      ok: false,
      error: { code: 'rate_limited', message: expect.stringMatching(STATION_PIN_PAUSED) },
    });
  });

  it('a PIN unlock is refused while PIN sign-in is paused and the password still unlocks', async () => {
    const t = await withAdmin();
    await dispatcher(t, 'dock1', '4071');
    const w = t.window();
    await w.ok('auth/login', { username: 'dock1', secret: '4071' });
    t.clock.advance(11 * 60_000);
    t.station.auth.lockIdleSessions();
    const other = t.window();
    for (let i = 0; i < STATION_PIN_BUDGET.failures; i++) await other.call('auth/login', { username: `ghost${i}`, secret: '3141' });
    expect(await w.call('auth/unlock', { secret: '4071' })).toMatchObject({
      ok: false,
      error: { code: 'rate_limited', message: expect.stringMatching(STATION_PIN_PAUSED) },
    });
    expect((await w.ok('auth/unlock', { secret: 'password-123' })).locked).toBe(false);
  });
});

describe('PIN policy', () => {
  it('an admin’s or biller’s PIN left in the database does not sign in, with the same answer as any wrong secret', async () => {
    const t = await withAdmin();
    const biller = await t.admin.ok('users/create', { username: 'bill1', displayName: 'Bill', role: 'biller', password: 'password-123' });
    const pinHash = await hashSecret('4071', TEST_KDF);
    t.station.database.sqlite.prepare('update users set pin_hash = ? where id = ? or username = ?').run(pinHash, biller.id, 'boss');
    const w = t.window();
    expect(await w.call('auth/login', { username: 'bill1', secret: '4071' })).toEqual({ ok: false, error: WRONG });
    expect(await w.call('auth/login', { username: 'boss', secret: '4071' })).toEqual({ ok: false, error: WRONG });
    expect(await w.call('auth/login', { username: 'nobody', secret: '4071' })).toEqual({ ok: false, error: WRONG });
    await w.ok('auth/login', { username: 'bill1', secret: 'password-123' });
    t.clock.advance(11 * 60_000);
    t.station.auth.lockIdleSessions();
    expect(await w.call('auth/unlock', { secret: '4071' })).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
  });

  it('setting a PIN for an admin or biller is refused on the PIN field', async () => {
    const t = await withAdmin();
    for (const role of ['admin', 'biller'] as const) {
      const r = await t.admin.call('users/create', { username: `${role}2`, displayName: role, role, password: 'password-123', pin: '4071' });
      expect(r).toMatchObject({
        ok: false,
        error: { code: 'invalid', issues: [{ path: 'pin', message: expect.stringContaining('Only dispatchers') }] },
      });
    }
    const biller = await t.admin.ok('users/create', { username: 'bill1', displayName: 'Bill', role: 'biller', password: 'password-123' });
    expect(await t.admin.call('users/reset-credentials', { id: biller.id, pin: '4071' })).toMatchObject({
      ok: false,
      error: { code: 'invalid', issues: [{ path: 'pin', message: expect.stringContaining('Only dispatchers') }] },
    });
  });

  it('trivial PINs are refused when set, on the PIN field; others are taken', async () => {
    const t = await withAdmin();
    const dock = await dispatcher(t, 'dock1', '4071');
    for (const pin of ['0000', '1111', '99999999', '1234', '4321', '7890', '0987', '345678', '1987', '2024', '1900', '2099']) {
      const created = await t.admin.call('users/create', { username: 'dock2', displayName: 'Dock 2', role: 'dispatcher', pin });
      expect(created, pin).toMatchObject({
        ok: false,
        error: { code: 'invalid', issues: [{ path: 'pin', message: expect.stringContaining('easy to guess') }] },
      });
      const reset = await t.admin.call('users/reset-credentials', { id: dock.id, pin });
      expect(reset, pin).toMatchObject({ ok: false, error: { code: 'invalid', issues: [{ path: 'pin' }] } });
    }
    for (const pin of ['2468', '1357', '4071', '1899', '2100', '19870']) {
      expect((await t.admin.call('users/reset-credentials', { id: dock.id, pin })).ok, pin).toBe(true);
    }
  });

  it('a dispatcher who has only a PIN cannot become an admin or biller until they have a password', async () => {
    const t = await withAdmin();
    const dock = await t.admin.ok('users/create', { username: 'dock1', displayName: 'Dock', role: 'dispatcher', pin: '4071' });
    expect(await t.admin.call('users/update', { id: dock.id, role: 'biller' })).toMatchObject({ ok: false, error: { code: 'conflict' } });
    await t.admin.ok('users/reset-credentials', { id: dock.id, password: 'password-123' });
    expect((await t.admin.ok('users/update', { id: dock.id, role: 'biller' })).role).toBe('biller');
    expect(await t.window().call('auth/login', { username: 'dock1', secret: '4071' })).toEqual({ ok: false, error: WRONG });
  });
});

describe('credential changes end other sessions', () => {
  it('an admin resetting a person’s credentials signs out all their windows and clears their pause', async () => {
    const t = await withAdmin();
    const w1 = await t.signedIn('dispatcher', 'dock2');
    const w2 = t.window();
    await w2.ok('auth/login', { username: 'dock2', secret: 'password-123' });
    const id = (await w1.ok('session/status', {})).user!.id;
    const guesser = t.window();
    for (let i = 0; i < THROTTLE.freeFailures; i++) await guesser.call('auth/login', { username: 'dock2', secret: `wrong-${i}` });
    expect(await guesser.call('auth/login', { username: 'dock2', secret: 'password-123' })).toMatchObject({
      ok: false,
      error: { code: 'rate_limited' },
    });

    await t.admin.ok('users/reset-credentials', { id, password: 'new-password-1' });

    for (const w of [w1, w2]) {
      expect(w.events.at(-1)).toMatchObject({ event: 'session/changed', data: { user: null } });
      expect(await w.call('auth/activity', {})).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    }
    expect(count(t, 'auth.signed_out')).toBe(2);
    expect((await guesser.ok('auth/login', { username: 'dock2', secret: 'new-password-1' })).user?.username).toBe('dock2');
    expect((await t.admin.ok('session/status', {})).user?.username).toBe('boss');
  });

  it('changing one’s own password keeps this window and signs out the others', async () => {
    const t = await withAdmin();
    const other = t.window();
    await signInAs(t, other, 'boss', 'correct horse');
    await t.admin.ok('auth/change-password', { current: 'correct horse', next: 'new password 1' });
    expect((await t.admin.ok('session/status', {})).user?.username).toBe('boss');
    expect(await other.call('users/list', {})).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    expect(other.events.at(-1)).toMatchObject({ event: 'session/changed', data: { user: null } });
  });

  it('endSessionsOf signs out every session of the user but the one given, and pushes the change', async () => {
    const t = await withAdmin();
    const w1 = await t.signedIn('dispatcher', 'dock2');
    const w2 = t.window();
    await w2.ok('auth/login', { username: 'dock2', secret: 'password-123' });
    const id = (await w1.ok('session/status', {})).user!.id;
    const ended = t.station.auth.endSessionsOf(id, w1.session);
    expect(ended.map((s) => s.id)).toEqual([w2.session.id]);
    expect(w2.events.at(-1)).toMatchObject({ event: 'session/changed', data: { user: null } });
    expect((await w1.ok('session/status', {})).user?.username).toBe('dock2');
    expect((await t.admin.ok('session/status', {})).user?.username).toBe('boss');
  });
});

describe('shift length', () => {
  it('signs a session out when its shift ends, even while in use, and audits it', async () => {
    const t = await withAdmin();
    await t.admin.ok('settings/update', { idleLockMinutes: 240, shiftHours: 8 });
    const w = await t.signedIn('dispatcher', 'dock2');
    for (let h = 0; h < 7; h++) {
      t.clock.advance(3_600_000);
      await w.ok('auth/activity', {});
    }
    t.clock.advance(59 * 60_000);
    await w.ok('auth/activity', {});
    t.clock.advance(2 * 60_000);
    expect(await w.call('auth/activity', {})).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    expect(w.events.at(-1)).toMatchObject({ event: 'session/changed', data: { user: null, signedOut: expect.stringContaining('8 hours') } });
    expect(count(t, 'auth.signed_out')).toBeGreaterThanOrEqual(1);
  });

  it('the idle timer signs out a locked session whose shift has ended', async () => {
    const t = await withAdmin();
    await t.admin.ok('settings/update', { shiftHours: 1 });
    const w = await t.signedIn('dispatcher', 'dock2');
    t.clock.advance(61 * 60_000);
    t.station.auth.lockIdleSessions();
    expect(w.events.at(-1)).toMatchObject({ event: 'session/changed', data: { user: null } });
    expect(w.session.userId).toBeNull();
    expect(await w.call('auth/unlock', { secret: 'password-123' })).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
  });

  it('the shift length is whole hours from 1 to 24', async () => {
    const t = await withAdmin();
    expect((await t.admin.ok('settings/get', {})).shiftHours).toBe(12);
    for (const shiftHours of [0, 25, 1.5]) {
      expect(await t.admin.call('settings/update', { shiftHours }), String(shiftHours)).toMatchObject({ ok: false, error: { code: 'invalid' } });
    }
  });
});

describe('password cost', () => {
  it('the production password cost is at least 2^17, and an old 2^15 hash signs in and is rehashed', async () => {
    expect(DEFAULT_KDF.log2N).toBeGreaterThanOrEqual(17);
    const t = await makeStation({ kdf: DEFAULT_KDF });
    const w = t.window();
    await w.ok('setup/create-admin', { username: 'boss', displayName: 'Boss', password: 'correct horse' });
    const sqlite = t.station.database.sqlite;
    const old = await hashSecret('correct horse', { log2N: 15, r: 8, p: 1 });
    sqlite.prepare("update users set password_hash = ? where username = 'boss'").run(old);

    expect((await signInAs(t, t.window(), 'boss', 'correct horse')).user?.username).toBe('boss');
    const stored = (sqlite.prepare("select password_hash as h from users where username = 'boss'").get() as { h: string }).h;
    expect(stored).toMatch(/^scrypt\$17\$8\$1\$/);
    expect(await verifySecret('correct horse', stored)).toBe(true);
  });

  it('an old cheaper PIN hash is rehashed at the station’s PIN cost on sign-in', async () => {
    const t = await withAdmin();
    const dock = await dispatcher(t, 'dock1', '4071');
    const sqlite = t.station.database.sqlite;
    sqlite.prepare('update users set pin_hash = ? where id = ?').run(await hashSecret('4071', { log2N: 8, r: 8, p: 1 }), dock.id);
    await t.window().ok('auth/login', { username: 'dock1', secret: '4071' });
    const stored = (sqlite.prepare('select pin_hash as h from users where id = ?').get(dock.id) as { h: string }).h;
    expect(stored).toMatch(new RegExp(`^scrypt\\$${TEST_KDF.log2N}\\$`));
  });
});

describe('station PIN budget arithmetic', () => {
  const drain = STATION_PIN_BUDGET.windowMs / STATION_PIN_BUDGET.failures;

  it('fills one slot per wrong PIN, drains one per interval, and pauses only while full', () => {
    let row = fillPinBudget(undefined, +1, 0);
    for (let i = 1; i < STATION_PIN_BUDGET.failures; i++) row = fillPinBudget(row, +1, i * 1000);
    expect(pinBudgetLevel(row, 19_000).level).toBe(STATION_PIN_BUDGET.failures);
    expect(pinPauseLeft(row, 19_000)).toBe(drain - 19_000);
    expect(pinPauseLeft(row, drain - 1)).toBeGreaterThan(0);
    expect(pinPauseLeft(row, drain)).toBe(0);
    expect(pinBudgetLevel(row, STATION_PIN_BUDGET.windowMs).level).toBe(0);
  });

  it('a clock set back does not refill or empty the budget', () => {
    const row = fillPinBudget(undefined, +3, 100_000);
    expect(pinBudgetLevel(row, 50_000).level).toBe(3);
  });

  it('an old hash needs rehashing only when it is cheaper than the target', () => {
    expect(needsRehash('scrypt$15$8$1$AAAA$AAAA', DEFAULT_KDF)).toBe(true);
    expect(needsRehash('scrypt$17$8$1$AAAA$AAAA', DEFAULT_KDF)).toBe(false);
    expect(needsRehash('scrypt$18$8$1$AAAA$AAAA', DEFAULT_KDF)).toBe(false);
    expect(needsRehash('garbage', DEFAULT_KDF)).toBe(false);
  });
});
