import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/main/auth/passwords';
import { PENDING_SIGN_IN_MS } from '../../src/main/auth/second-factor';
import { THROTTLE } from '../../src/main/auth/service';
import { TOTP_PERIOD_MS, TotpSealer } from '../../src/main/auth/totp';
import { databasePath } from '../../src/main/app/station';
import { openDatabase } from '../../src/main/db/open';
import { silentLogger } from '../../src/main/platform/logger';
import type { SecretStore } from '../../src/main/credentials/store';
import { CHANNEL_NAMES, contract, type ChannelSpec, type SecondFactorEnrolment } from '../../src/shared/contract';
import { releaseAll } from '../support/cleanup';
import { malformedPayloads } from '../support/malformed';
import { passSecondFactor, phoneSecretOf, totpCodeAt } from '../support/second-factor';
import { makeStation, MIGRATIONS_DIR, signInAs, TEST_KDF, tempDir, withAdmin, type TestStation, type TestWindow } from '../support/station';

afterEach(releaseAll);

const specs = contract as Record<string, ChannelSpec>;
const audit = (t: TestStation, action: string) =>
  t.station.database.sqlite.prepare('SELECT username, detail FROM audit_log WHERE action = ? ORDER BY id').all(action) as {
    username: string;
    detail: string;
  }[];

/** The code `boss`'s phone shows at `offsetSteps` steps from the station's clock. */
const phoneCode = (t: TestStation, offsetSteps = 0, username = 'boss') =>
  totpCodeAt(phoneSecretOf(t.station, username).secret, t.clock.t + offsetSteps * TOTP_PERIOD_MS);

/** `boss` (phone set up by withAdmin) types the password in a new window: half signed in. */
async function halfSignedIn(t: TestStation, username = 'boss', password = 'correct horse'): Promise<TestWindow> {
  const w = t.window(`${username} second window`);
  const info = await w.ok('auth/login', { username, secret: password });
  expect(info).toMatchObject({ user: null, secondFactor: { stage: 'verify', username } });
  return w;
}

/** The next time step, so a code computed now has not been taken by the last sign-in. */
const nextStep = (t: TestStation) => t.clock.advance(TOTP_PERIOD_MS);

describe('admin second factor: setting up the phone', () => {
  it('the first admin sets up a phone from a QR code before reaching anything; a computed code confirms it and ten recovery codes come once', async () => {
    const t = await makeStation();
    const w = t.window();
    const info = await w.ok('setup/create-admin', { username: 'boss', displayName: 'Boss', password: 'correct horse' });
    expect(info).toMatchObject({ user: null, secondFactor: { stage: 'enrol', username: 'boss', displayName: 'Boss', afterRecoveryCode: false } });
    expect(await w.call('users/list', {})).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });

    const enrolment: SecondFactorEnrolment = await w.ok('auth/second-factor/enrolment', {});
    expect(enrolment.secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(enrolment.uri);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.searchParams.get('secret')).toBe(enrolment.secret);
    expect(uri.searchParams.get('issuer')).toBe('Dockside');
    expect(Object.fromEntries(['algorithm', 'digits', 'period'].map((k) => [k, uri.searchParams.get(k)]))).toEqual({
      algorithm: 'SHA1',
      digits: '6',
      period: '30',
    });
    expect(decodeURIComponent(uri.pathname)).toContain('boss');
    expect(enrolment.qrDataUrl).toMatch(/^data:image\/svg\+xml;base64,/);
    expect(Buffer.from(enrolment.qrDataUrl.split(',')[1], 'base64').toString()).toMatch(/^<svg[^>]*viewBox/);
    // Showing the screen again (a reload) shows the same secret until it is confirmed.
    expect((await w.ok('auth/second-factor/enrolment', {})).secret).toBe(enrolment.secret);

    const wrong = await w.call('auth/second-factor/enrol', { code: totpCodeAt(enrolment.secret, t.clock.t + 5 * TOTP_PERIOD_MS) });
    expect(wrong).toMatchObject({ ok: false, error: { code: 'unauthenticated', issues: [{ path: 'code' }] } });
    const done = await w.ok('auth/second-factor/enrol', { code: totpCodeAt(enrolment.secret, t.clock.t) });
    expect(done.session).toMatchObject({ user: { username: 'boss', role: 'admin' }, secondFactor: null });
    expect(done.recoveryCodes).toHaveLength(10);
    expect(new Set(done.recoveryCodes).size).toBe(10);
    for (const c of done.recoveryCodes) expect(c).toMatch(/^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
    expect((await w.call('users/list', {})).ok).toBe(true);
    expect((await w.ok('users/list', {}))[0].secondFactorSince).toBe(t.clock.t);

    // Kept: the secret sealed, the recovery codes hashed; neither readable from the database.
    const dump =
      JSON.stringify(t.station.database.sqlite.prepare('SELECT * FROM users').all()) +
      JSON.stringify(t.station.database.sqlite.prepare('SELECT * FROM recovery_codes').all());
    expect(dump).not.toContain(enrolment.secret);
    for (const c of done.recoveryCodes) expect(dump).not.toContain(c.replace(/-/g, ''));
    expect(dump).not.toContain(done.recoveryCodes[0]);
    expect(audit(t, 'auth.second_factor_set_up')).toHaveLength(1);
  });

  it('an admin created by configuration or by another admin sets up a phone at the first sign-in', async () => {
    const t = await withAdmin();
    await t.admin.ok('users/create', { username: 'boss2', displayName: 'Boss Two', role: 'admin', password: 'password-123' });
    const w = t.window();
    expect(await w.ok('auth/login', { username: 'boss2', secret: 'password-123' })).toMatchObject({
      user: null,
      secondFactor: { stage: 'enrol', username: 'boss2' },
    });
    // A code cannot skip the setting up.
    expect(await w.call('auth/second-factor', { code: '123456' })).toMatchObject({ ok: false, error: { code: 'conflict' } });
    const { session, recoveryCodes } = await passSecondFactor(t, w.raw, await w.ok('session/status', {}));
    expect(session.user?.username).toBe('boss2');
    expect(recoveryCodes).toHaveLength(10);
  });

  it('dispatchers and billers sign in with their password or PIN alone', async () => {
    const t = await withAdmin();
    await t.admin.ok('users/create', { username: 'dock1', displayName: 'Dock 1', role: 'dispatcher', pin: '5826' });
    await t.admin.ok('users/create', { username: 'clerk', displayName: 'Clerk', role: 'biller', password: 'clerk-password-1' });
    expect(await t.window().ok('auth/login', { username: 'dock1', secret: '5826' })).toMatchObject({
      user: { username: 'dock1' },
      secondFactor: null,
    });
    expect(await t.window().ok('auth/login', { username: 'clerk', secret: 'clerk-password-1' })).toMatchObject({
      user: { username: 'clerk' },
      secondFactor: null,
    });
  });
});

describe('admin second factor: signing in', () => {
  it('a half-signed-in window reaches only the second-factor channels', async () => {
    const t = await withAdmin();
    const w = await halfSignedIn(t);
    const guarded = CHANNEL_NAMES.filter((c) => specs[c].access !== 'public' && specs[c].access !== 'second-factor');
    expect(guarded.length).toBeGreaterThan(40);
    for (const channel of guarded) {
      const r = await w.raw(channel, malformedPayloads(specs[channel].request).valid);
      expect(r, channel).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    }
    // Nor does a signed-in window reach them, nor one that never gave a password.
    expect(await t.admin.call('auth/second-factor', { code: '123456' })).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(await t.window().call('auth/second-factor', { code: '123456' })).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    expect(await w.ok('session/status', {})).toMatchObject({ user: null, locked: false, secondFactor: { stage: 'verify' } });
  });

  it('a code computed from the secret on the station clock signs in; the same code again is refused', async () => {
    const t = await withAdmin();
    nextStep(t);
    const code = phoneCode(t);
    const w = await halfSignedIn(t);
    expect(await w.ok('auth/second-factor', { code })).toMatchObject({ user: { username: 'boss' }, secondFactor: null });
    expect((await w.call('users/list', {})).ok).toBe(true);

    const again = await halfSignedIn(t);
    expect(await again.call('auth/second-factor', { code })).toMatchObject({
      ok: false,
      error: { code: 'unauthenticated', message: 'That code was already used. Wait for the next code on your phone.' },
    });
    expect(audit(t, 'auth.second_factor_reused')).toHaveLength(1);
    nextStep(t);
    expect(await again.ok('auth/second-factor', { code: phoneCode(t) })).toMatchObject({ user: { username: 'boss' } });
  });

  it('takes the code of the step before or after the station clock (±1), not two steps off', async () => {
    const t = await withAdmin();
    t.clock.advance(10 * TOTP_PERIOD_MS);
    const w = await halfSignedIn(t);
    for (const off of [-2, 2]) {
      expect(await w.call('auth/second-factor', { code: phoneCode(t, off) }), `${off} steps`).toMatchObject({
        ok: false,
        error: { code: 'unauthenticated' },
      });
    }
    expect(await w.ok('auth/second-factor', { code: phoneCode(t, -1) })).toMatchObject({ user: { username: 'boss' } });
    const v = await halfSignedIn(t);
    expect(await v.ok('auth/second-factor', { code: phoneCode(t, +1) })).toMatchObject({ user: { username: 'boss' } });
    // Taken the step after: the step before is older than the last one taken, so refused as used.
    const u = await halfSignedIn(t);
    expect(await u.call('auth/second-factor', { code: phoneCode(t, 0) })).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
  });

  it('codes with spaces as phones group them are taken', async () => {
    const t = await withAdmin();
    nextStep(t);
    const code = phoneCode(t);
    const w = await halfSignedIn(t);
    expect(await w.ok('auth/second-factor', { code: ` ${code.slice(0, 3)} ${code.slice(3)} ` })).toMatchObject({ user: { username: 'boss' } });
  });

  it('wrong codes count in the same per-user pause as wrong passwords, are audited, and typing the password again does not reset the count', async () => {
    const t = await withAdmin();
    nextStep(t);
    const right = phoneCode(t);
    const wrong = right === '000000' ? '111111' : '000000';
    // Every try counts, the right password's too (it never starts a pause itself): 1 here.
    const w = await halfSignedIn(t);
    for (let i = 0; i < THROTTLE.freeFailures - 3; i++) {
      expect(await w.call('auth/second-factor', { code: wrong })).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    }
    // The password again (right) must not clear the count the codes built up: one more wrong code pauses.
    const v = await halfSignedIn(t);
    expect(await v.call('auth/second-factor', { code: wrong })).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    expect(await v.call('auth/second-factor', { code: right })).toMatchObject({
      ok: false,
      error: { code: 'rate_limited', retryAfterMs: THROTTLE.firstPauseMs },
    });
    expect(await t.window().call('auth/login', { username: 'boss', secret: 'correct horse' })).toMatchObject({
      ok: false,
      error: { code: 'rate_limited' },
    });
    expect(audit(t, 'auth.second_factor_failed').map((r) => r.username)).toEqual(Array(THROTTLE.freeFailures - 2).fill('boss'));
    expect(audit(t, 'auth.second_factor_failed').at(-1)?.detail).toContain(`paused ${THROTTLE.firstPauseMs / 1000} s`);

    t.clock.advance(THROTTLE.firstPauseMs);
    expect(await v.ok('auth/second-factor', { code: phoneCode(t) })).toMatchObject({ user: { username: 'boss' } });
  });

  it('a half-finished sign-in ends after 15 minutes without a step: the password is asked again', async () => {
    const t = await withAdmin();
    const w = await halfSignedIn(t);
    t.clock.advance(PENDING_SIGN_IN_MS + 1);
    expect(await w.call('auth/second-factor', { code: phoneCode(t) })).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    expect(await w.ok('session/status', {})).toMatchObject({ user: null, secondFactor: null });
  });

  it('cancelling the second step leaves the window signed out', async () => {
    const t = await withAdmin();
    const w = await halfSignedIn(t);
    expect(await w.ok('auth/second-factor/cancel', {})).toMatchObject({ user: null, secondFactor: null });
    expect(await w.call('auth/second-factor', { code: phoneCode(t) })).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
  });

  it('unlocking after the idle lock asks the password only, not the phone', async () => {
    const t = await withAdmin();
    t.clock.advance(11 * 60_000);
    expect(await t.admin.call('users/list', {})).toMatchObject({ ok: false, error: { code: 'locked' } });
    expect(await t.admin.ok('auth/unlock', { secret: 'correct horse' })).toMatchObject({
      user: { username: 'boss' },
      locked: false,
      secondFactor: null,
    });
    expect((await t.admin.call('users/list', {})).ok).toBe(true);
  });
});

describe('admin second factor: recovery codes', () => {
  async function enrolledWithCodes(): Promise<{ t: Awaited<ReturnType<typeof withAdmin>>; codes: string[] }> {
    const t = await withAdmin();
    await t.admin.ok('users/create', { username: 'boss2', displayName: 'Boss Two', role: 'admin', password: 'password-123' });
    const w = t.window();
    const { recoveryCodes } = await passSecondFactor(t, w.raw, await w.ok('auth/login', { username: 'boss2', secret: 'password-123' }));
    return { t, codes: recoveryCodes! };
  }

  it('a recovery code is taken once (any case, with or without dashes), and leads to setting up a new phone that replaces the old one', async () => {
    const { t, codes } = await enrolledWithCodes();
    const oldSecret = phoneSecretOf(t.station, 'boss2').secret;
    const w = await halfSignedIn(t, 'boss2', 'password-123');
    const info = await w.ok('auth/second-factor', { code: codes[3].toUpperCase().replace(/-/g, ' ') });
    expect(info).toMatchObject({ user: null, secondFactor: { stage: 'enrol', username: 'boss2', afterRecoveryCode: true } });
    expect(audit(t, 'auth.recovery_code_used')).toEqual([{ username: 'boss2', detail: expect.stringContaining('9 left') }]);
    // Still half signed in: the admin screens wait for the new phone.
    expect(await w.call('users/list', {})).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });

    // The same code a second time, in another window, is refused.
    const v = await halfSignedIn(t, 'boss2', 'password-123');
    expect(await v.call('auth/second-factor', { code: codes[3] })).toMatchObject({
      ok: false,
      error: { code: 'unauthenticated', message: 'That recovery code is wrong, or it was used before.' },
    });
    expect(audit(t, 'auth.recovery_code_failed')).toHaveLength(1);

    const { session, recoveryCodes } = await passSecondFactor(t, w.raw, info);
    expect(session.user?.username).toBe('boss2');
    expect(recoveryCodes).toHaveLength(10);
    expect(phoneSecretOf(t.station, 'boss2').secret).not.toBe(oldSecret);
    // The new codes replace the old ones; the old phone's codes no longer count.
    const u = await halfSignedIn(t, 'boss2', 'password-123');
    expect(await u.call('auth/second-factor', { code: codes[4] })).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    nextStep(t);
    expect(await u.call('auth/second-factor', { code: totpCodeAt(oldSecret, t.clock.t) })).toMatchObject({
      ok: false,
      error: { code: 'unauthenticated' },
    });
    expect(await u.ok('auth/second-factor', { code: recoveryCodes![0] })).toMatchObject({ secondFactor: { stage: 'enrol' } });
  });

  it('leaving the new phone half set up keeps the old phone working', async () => {
    const { t, codes } = await enrolledWithCodes();
    const w = await halfSignedIn(t, 'boss2', 'password-123');
    await w.ok('auth/second-factor', { code: codes[0] });
    await w.ok('auth/second-factor/enrolment', {});
    await w.ok('auth/second-factor/cancel', {});
    nextStep(t);
    const v = await halfSignedIn(t, 'boss2', 'password-123');
    expect(await v.ok('auth/second-factor', { code: phoneCode(t, 0, 'boss2') })).toMatchObject({ user: { username: 'boss2' } });
  });
});

describe('admin second factor: reset by another admin', () => {
  it('ends the person’s open sessions, deletes their recovery codes, is audited, and they set up a phone at the next sign-in', async () => {
    const t = await withAdmin();
    await t.admin.ok('users/create', { username: 'boss2', displayName: 'Boss Two', role: 'admin', password: 'password-123' });
    const other = t.window('boss2 window');
    await signInAs(t, other, 'boss2', 'password-123');
    const waiting = await halfSignedIn(t, 'boss2', 'password-123');
    const id = (await other.ok('session/status', {})).user!.id;

    const record = await t.admin.ok('users/reset-second-factor', { id });
    expect(record).toMatchObject({ username: 'boss2', secondFactorSince: null });
    expect(other.events.at(-1)).toMatchObject({ event: 'session/changed', data: { user: null } });
    expect(await other.call('users/list', {})).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    // A window that was at the code step is sent back to the password.
    expect(await waiting.call('auth/second-factor', { code: '123456' })).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    expect(t.station.database.sqlite.prepare('SELECT count(*) AS n FROM recovery_codes WHERE user_id = ?').get(id)).toEqual({ n: 0 });
    expect(audit(t, 'users.second_factor_reset')).toEqual([{ username: 'boss', detail: expect.stringContaining('signed out everywhere') }]);

    const info = await t.window().ok('auth/login', { username: 'boss2', secret: 'password-123' });
    expect(info.secondFactor).toMatchObject({ stage: 'enrol', username: 'boss2' });
  });

  it('is for admins only, not for one’s own second factor, and not for someone who has none', async () => {
    const t = await withAdmin();
    const biller = await t.signedIn('biller', 'bill1');
    const me = (await t.admin.ok('session/status', {})).user!;
    expect(await biller.call('users/reset-second-factor', { id: me.id })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await t.admin.call('users/reset-second-factor', { id: me.id })).toMatchObject({ ok: false, error: { code: 'conflict' } });
    const billerId = (await biller.ok('session/status', {})).user!.id;
    expect(await t.admin.call('users/reset-second-factor', { id: billerId })).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(await t.admin.call('users/reset-second-factor', { id: 9999 })).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });
});

describe('admin second factor: the secret at rest', () => {
  it('is sealed with a key outside the database: a copy of the database alone cannot make codes, and a missing key points to the recovery codes', async () => {
    const secrets = new MemorySecretStore();
    const t = await withAdmin({ secrets });
    const row = t.station.database.sqlite.prepare("SELECT id, totp_secret FROM users WHERE username = 'boss'").get() as {
      id: number;
      totp_secret: string;
    };
    expect(row.totp_secret).toMatch(/^v1\./);
    expect(secrets.get(TotpSealer.KEY_NAME)).toBeTruthy();
    expect(new TotpSealer(new MemorySecretStore()).open(row.totp_secret, row.id)).toBeNull();
    // Bound to its user: the same text under another user's id does not open.
    expect(new TotpSealer(secrets).open(row.totp_secret, row.id + 1)).toBeNull();

    secrets.delete(TotpSealer.KEY_NAME);
    const w = await halfSignedIn(t);
    expect(await w.call('auth/second-factor', { code: '123456' })).toMatchObject({
      ok: false,
      error: { code: 'conflict', message: expect.stringContaining('recovery code') },
    });
  });
});

describe('admin second factor on a station without a keyring', () => {
  it('sets up a phone all the same: the key goes to an owner-only file beside the database, not to the refusing store', async () => {
    const kept = new Map<string, string>();
    const refusing: SecretStore = {
      get: (name) => kept.get(name) ?? null,
      set: () => {
        throw new Error('a refusing store was written to');
      },
      delete: (name) => void kept.delete(name),
      names: () => [...kept.keys()],
      refusal: () => 'Not saved: this station has no keyring to lock credentials away.',
    };
    const dataDir = tempDir();
    const t = await withAdmin({ dataDir, secrets: refusing });
    expect((await t.admin.ok('session/status', {})).user?.username).toBe('boss');
    const keyFile = path.join(dataDir, 'second-factor.key');
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(kept.size).toBe(0);
    // The code from the phone set up then signs in again.
    expect((await signInAs(t, t.window(), 'boss', 'correct horse')).user?.username).toBe('boss');
  });
});

describe('migration 0005 (second factor)', () => {
  it('upgrades a 0004 database: users kept; its admin sets up a phone at the next sign-in, others sign in as before', async () => {
    const dataDir = tempDir();
    const journal = JSON.parse(fs.readFileSync(path.join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string }[] };
    const upTo0004 = tempDir('dockside-migrations-');
    fs.cpSync(MIGRATIONS_DIR, upTo0004, { recursive: true });
    const entries = journal.entries.slice(0, journal.entries.findIndex((e) => e.tag.startsWith('0004')) + 1);
    fs.writeFileSync(path.join(upTo0004, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries }));

    const old = openDatabase({ path: databasePath(dataDir), migrationsDir: upTo0004, logger: silentLogger });
    const insert = old.sqlite.prepare(
      'INSERT INTO users (username, display_name, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, 1, 1)',
    );
    insert.run('boss', 'Boss', 'admin', await hashSecret('correct horse', TEST_KDF));
    insert.run('bill1', 'Bill', 'biller', await hashSecret('password-123', TEST_KDF));
    old.close();

    const t = await makeStation({ dataDir });
    expect(t.station.database.sqlite.prepare('SELECT username, totp_secret, totp_enrolled_at FROM users ORDER BY id').all()).toEqual([
      { username: 'boss', totp_secret: null, totp_enrolled_at: null },
      { username: 'bill1', totp_secret: null, totp_enrolled_at: null },
    ]);
    expect(await t.window().ok('auth/login', { username: 'bill1', secret: 'password-123' })).toMatchObject({ user: { username: 'bill1' } });
    const info = await t.window().ok('auth/login', { username: 'boss', secret: 'correct horse' });
    expect(info).toMatchObject({ user: null, secondFactor: { stage: 'enrol', username: 'boss' } });
  });
});

class MemorySecretStore implements SecretStore {
  readonly #values = new Map<string, string>();
  get = (name: string) => this.#values.get(name) ?? null;
  set = (name: string, value: string) => void this.#values.set(name, value);
  delete = (name: string) => void this.#values.delete(name);
  names = () => [...this.#values.keys()];
}
