import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FeedApplier } from '../../src/main/hub/feed-applier';
import { enqueueAllUsers } from '../../src/main/users/site-sync';
import type { HubOpName } from '../../src/shared/hub';
import { releaseAll } from '../support/cleanup';
import { phoneSecretOf, totpCodeAt } from '../support/second-factor';
import { applyFeedPage, joinSite, pendingOps, pushOutbox, startSiteHub, type HubClient } from '../support/site';
import { signInAs, withAdmin, type TestStation } from '../support/station';
import { timeStep, TOTP_PERIOD_MS } from '../../src/main/auth/totp';

/**
 * Two in-process stations on one site hub (real PostgreSQL), without the station's hub client: the
 * test pushes one station's outbox and applies the feed to the other with the station's applier.
 */
type Site = Awaited<ReturnType<typeof startSiteHub>>;
let hub: Site;
let a: Awaited<ReturnType<typeof withAdmin>>;
let b: Awaited<ReturnType<typeof withAdmin>>;
let dockA: HubClient;
let dockB: HubClient;
const since = new Map<TestStation, number>();

const appliers = (t: TestStation): Partial<Record<HubOpName, FeedApplier>> => ({ 'user_saved@1': t.station.userFeedApplier });
/** Everything the station has not read from the feed yet, applied page by page. */
async function catchUp(t: TestStation, client: HubClient, name: string, refused: { why: string }[] = []) {
  const applied = [];
  for (;;) {
    const page = await applyFeedPage(t, client, since.get(t) ?? 0, appliers(t), name);
    since.set(t, page.next);
    applied.push(...page.applied);
    refused.push(...page.refused);
    if (!page.more) return applied;
  }
}
const userRow = (t: TestStation, username: string) =>
  t.station.database.sqlite.prepare('SELECT * FROM users WHERE username = ?').get(username) as Record<string, unknown> | undefined;

/** A person made at A (password `<username>-password-1`), synced to B and signed in there. */
async function madeAtASignedInAtB(username: string, role: 'biller' | 'dispatcher') {
  const created = await a.admin.ok('users/create', { username, displayName: username, role, password: `${username}-password-1` });
  await pushOutbox(a, dockA);
  await catchUp(b, dockB, 'Dock B');
  const atB = b.window(`${username} at B`);
  await signInAs(b, atB, username, `${username}-password-1`);
  return { created, atB };
}

beforeEach(async () => {
  hub = await startSiteHub();
  a = await withAdmin({ syncIntervalMs: 0 });
  b = await withAdmin({ syncIntervalMs: 0 });
  // The second station's clock is a minute ahead: versions are ordered by the hub's rule, not by whose clock is right.
  b.clock.advance(60_000);
  dockA = await joinSite(a, hub, 'Dock A');
  dockB = await joinSite(b, hub, 'Dock B');
}, 60_000);

afterEach(releaseAll, 60_000);

describe('people through the site hub', () => {
  it('a dispatcher made at one station signs in at the other with the same password and PIN', async () => {
    await a.admin.ok('users/create', { username: 'dana', displayName: 'Dana', role: 'dispatcher', password: 'dana-password-1', pin: '2580' });
    const [op] = pendingOps(a, 'user_saved@1');
    expect(op.payload).toMatchObject({ username: 'dana', role: 'dispatcher', disabled: false, totp: null, by: 'boss', station: 'Dock A' });
    expect((await pushOutbox(a, dockA)).map((r) => r.status)).toEqual(['ok']);

    const applied = await catchUp(b, dockB, 'Dock B');
    expect(applied.map((e) => e.op)).toEqual(['user_saved@1']);
    const w = b.window('dana at B');
    expect((await w.ok('auth/login', { username: 'dana', secret: 'dana-password-1' })).user).toMatchObject({ username: 'dana', role: 'dispatcher' });
    const pin = b.window('dana PIN at B');
    expect((await pin.ok('auth/login', { username: 'dana', secret: '2580' })).user?.username).toBe('dana');
    const audit = b.station.database.sqlite.prepare("SELECT username, detail FROM audit_log WHERE action = 'user.synced'").all();
    expect(audit).toEqual([{ username: 'boss', detail: expect.stringMatching(/^saved at Dock A by boss; site feed seq \d+$/) }]);
  });

  it('disabling a person at one station ends their session at the other and refuses their sign-in there', async () => {
    const { created, atB } = await madeAtASignedInAtB('dana', 'dispatcher');

    await a.admin.ok('users/update', { id: created.id, disabled: true });
    expect((await pushOutbox(a, dockA)).map((r) => r.status)).toEqual(['ok']);
    await catchUp(b, dockB, 'Dock B');
    expect(atB.session.userId).toBeNull();
    expect(atB.session.signedOut).toBe('Your account was disabled at Dock A. Ask an admin.');
    await atB.event((e) => e.event === 'session/changed' && (e.data as { user: unknown }).user === null);
    const again = await b.window('dana again').call('auth/login', { username: 'dana', secret: 'dana-password-1' });
    expect(again).toMatchObject({ ok: false, error: { code: 'forbidden', message: 'This account is disabled. Ask an admin.' } });
  });

  it('a new password set at one station ends the person’s session at the other; the old password stops working there', async () => {
    const { created, atB } = await madeAtASignedInAtB('bill', 'biller');
    await a.admin.ok('users/reset-credentials', { id: created.id, password: 'bill-password-2' });
    await pushOutbox(a, dockA);
    await catchUp(b, dockB, 'Dock B');
    expect(atB.session.signedOut).toBe('Your password, PIN or second factor was changed at Dock A: sign in again.');
    expect(await b.window().call('auth/login', { username: 'bill', secret: 'bill-password-1' })).toMatchObject({ ok: false });
    await signInAs(b, b.window(), 'bill', 'bill-password-2');
  });

  it('an admin’s phone set up at one station gives codes the other accepts; each station seals the secret with its own key', async () => {
    await a.admin.ok('users/create', { username: 'alex', displayName: 'Alex', role: 'admin', password: 'alex-password-1' });
    await signInAs(a, a.window('alex at A'), 'alex', 'alex-password-1'); // sets the phone up at A
    const phone = phoneSecretOf(a.station, 'alex').secret;
    const ops = pendingOps(a, 'user_saved@1');
    expect(ops.at(-1)?.payload).toMatchObject({ username: 'alex', totp: { secret: phone, enrolledAt: expect.any(Number) } });
    await pushOutbox(a, dockA);
    await catchUp(b, dockB, 'Dock B');

    expect(userRow(b, 'alex')?.totp_secret).not.toBe(userRow(a, 'alex')?.totp_secret);
    const w = b.window('alex at B');
    const half = await w.ok('auth/login', { username: 'alex', secret: 'alex-password-1' });
    expect(half.secondFactor?.stage).toBe('verify');
    // The code the phone shows now, from the secret it got at A.
    const code = totpCodeAt(phone, timeStep(b.clock.t) * TOTP_PERIOD_MS);
    expect((await w.ok('auth/second-factor', { code })).user?.username).toBe('alex');

    // Phone lost: an admin at A resets it. At B too the secret goes and Alex is signed out.
    const alexAtA = a.station.users.list().find((u) => u.username === 'alex')!;
    await a.admin.ok('users/reset-second-factor', { id: alexAtA.id });
    await pushOutbox(a, dockA);
    await catchUp(b, dockB, 'Dock B');
    expect(userRow(b, 'alex')).toMatchObject({ totp_secret: null, totp_enrolled_at: null });
    expect(w.session.userId).toBeNull();
    const again = await b.window().ok('auth/login', { username: 'alex', secret: 'alex-password-1' });
    expect(again.secondFactor?.stage).toBe('enrol');
  });

  it('a password a person changes themselves at one station works at the other', async () => {
    await a.admin.ok('users/create', { username: 'bill', displayName: 'Bill', role: 'biller', password: 'bill-password-1' });
    const w = a.window('bill at A');
    await signInAs(a, w, 'bill', 'bill-password-1');
    await w.ok('auth/change-password', { current: 'bill-password-1', next: 'bill-password-2' });
    await pushOutbox(a, dockA);
    await catchUp(b, dockB, 'Dock B');
    await signInAs(b, b.window(), 'bill', 'bill-password-2');
  });

  it('the newer of two edits wins at both stations, whichever reached the hub first, and the greater station name breaks a tie', async () => {
    const created = await a.admin.ok('users/create', { username: 'dana', displayName: 'Dana', role: 'dispatcher', password: 'dana-password-1' });
    await pushOutbox(a, dockA);
    await catchUp(b, dockB, 'Dock B');
    const atB = b.station.users.list().find((u) => u.username === 'dana')!;
    // Both rename her while apart; B's clock is ahead, so B's edit is the newer one although A's reaches the hub first.
    await b.admin.ok('users/update', { id: atB.id, displayName: 'Dana from B' });
    await a.admin.ok('users/update', { id: created.id, displayName: 'Dana from A' });
    expect((await pushOutbox(a, dockA))[0]).toMatchObject({ status: 'ok', seq: expect.any(Number) });
    expect((await pushOutbox(b, dockB))[0]).toMatchObject({ status: 'ok', seq: expect.any(Number) });
    await catchUp(a, dockA, 'Dock A');
    await catchUp(b, dockB, 'Dock B');
    expect(userRow(a, 'dana')?.display_name).toBe('Dana from B');
    expect(userRow(b, 'dana')?.display_name).toBe('Dana from B');
    // An edit made at A after it saw B's version is newer still, though A's clock is behind B's.
    await a.admin.ok('users/update', { id: created.id, displayName: 'Dana again from A' });
    expect((await pushOutbox(a, dockA))[0].seq).toEqual(expect.any(Number));
    await catchUp(b, dockB, 'Dock B');
    expect(userRow(b, 'dana')?.display_name).toBe('Dana again from A');
    await catchUp(a, dockA, 'Dock A');

    // Both rename her in the same millisecond: the greater station name wins at the hub and at both stations.
    b.clock.t = a.clock.t = Math.max(a.clock.t, b.clock.t) + 60_000;
    await a.admin.ok('users/update', { id: created.id, displayName: 'Tie from A' });
    await b.admin.ok('users/update', { id: atB.id, displayName: 'Tie from B' });
    expect(userRow(a, 'dana')?.updated_at).toBe(userRow(b, 'dana')?.updated_at);
    expect((await pushOutbox(a, dockA))[0].seq).toEqual(expect.any(Number));
    expect((await pushOutbox(b, dockB))[0].seq).toEqual(expect.any(Number));
    await catchUp(a, dockA, 'Dock A');
    await catchUp(b, dockB, 'Dock B');
    expect([userRow(a, 'dana')?.display_name, userRow(b, 'dana')?.display_name]).toEqual(['Tie from B', 'Tie from B']);
  });

  it('a feed entry that is not a user is skipped naming the field, and the rest of the page applies', async () => {
    await a.admin.ok('users/create', { username: 'dana', displayName: 'Dana', role: 'dispatcher', password: 'dana-password-1' });
    await pushOutbox(a, dockA);
    // Written past the hub's checks, as a hub of another version might have.
    await hub.pool.query(
      `INSERT INTO feed (op_id, op, payload, station_id, user_name, at) SELECT 'bad-entry-1', 'user_saved@1', $1, id, 'boss', 0 FROM stations WHERE name = 'Dock A'`,
      [JSON.stringify({ username: 'eve', displayName: 'Eve', role: 'owner' })],
    );
    await a.admin.ok('users/create', { username: 'fred', displayName: 'Fred', role: 'dispatcher', password: 'fred-password-1' });
    await pushOutbox(a, dockA);
    const refused: { why: string }[] = [];
    await catchUp(b, dockB, 'Dock B', refused);
    expect(refused.map((r) => r.why)).toEqual([
      expect.stringMatching(/^Feed entry \d+ \(user_saved@1 from Dock A\) is not a user: role: the role is one of/),
    ]);
    expect(userRow(b, 'dana')).toBeDefined();
    expect(userRow(b, 'fred')).toBeDefined(); // after the bad entry: one bad entry does not stop the feed
    expect(userRow(b, 'eve')).toBeUndefined();
  });

  it('a station joining a site sends everyone it has; a standalone station queues nothing', async () => {
    const alone = await withAdmin({ syncIntervalMs: 0 });
    await alone.admin.ok('users/create', { username: 'solo', displayName: 'Solo', role: 'biller', password: 'solo-password-1' });
    expect(pendingOps(alone)).toEqual([]);
    const dockC = await joinSite(alone, hub, 'Dock C');
    const db = alone.station.database.db;
    expect(db.transaction(() => enqueueAllUsers(db, alone.clock.now(), 'boss', alone.station.auth.totpSealer))).toBe(2);
    expect((await pushOutbox(alone, dockC)).map((r) => r.status)).toEqual(['ok', 'ok']);
    await catchUp(a, dockA, 'Dock A');
    await signInAs(a, a.window(), 'solo', 'solo-password-1');
    const site = await hub.pool.query<{ username: string }>('SELECT username FROM users ORDER BY username');
    expect(site.rows.map((r) => r.username)).toEqual(['boss', 'solo']);
  });
});
