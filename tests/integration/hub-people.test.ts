import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret, verifySecret } from '../../src/main/auth/passwords';
import { releaseAll } from '../support/cleanup';
import { createEnrolmentCode } from '../../src/hub/enrolment';
import { enrolStation, hubCli, hubClient } from '../support/hub';
import { startSiteHub, type HubClient } from '../support/site';
import { TEST_KDF } from '../support/station';

/** People site-wide: the user_saved@1 rule on a real PostgreSQL (the hub in this process) and the hub's add-user command. */
let pool: pg.Pool;
let url: string;
let databaseUrl: string;
let dock1: HubClient;
let dock2: HubClient;
let hash: string;
const T0 = Date.UTC(2026, 10, 26, 8, 0, 0);

const saved = (username: string, updatedAt: number, fields: Record<string, unknown> = {}) => ({
  opId: randomUUID(),
  op: 'user_saved@1',
  payload: {
    username,
    displayName: username,
    role: 'dispatcher',
    passwordHash: hash,
    pinHash: null,
    disabled: false,
    totp: null,
    updatedAt,
    at: updatedAt,
    by: 'boss',
    ...fields,
  },
});
const one = async (client: HubClient, o: unknown) => (await client.push([o])).body.results[0];
const siteRow = async (username: string) =>
  (await pool.query('SELECT u.*, s.name AS station FROM users u JOIN stations s ON s.id = u.station_id WHERE username = $1', [username])).rows[0];
const feedOf = async (opId: string) => (await pool.query('SELECT seq, payload FROM feed WHERE op_id = $1', [opId])).rows[0];

beforeAll(async () => {
  ({ pool, url, databaseUrl } = await startSiteHub());
  dock1 = await enrolStation(pool, url, 'Dock 1');
  dock2 = await enrolStation(pool, url, 'Dock 2');
  hash = await hashSecret('password-123', TEST_KDF);
}, 60_000);

afterAll(releaseAll, 60_000);

describe('hub: people', () => {
  it('the newer version of a person wins and goes on the feed; an older one answers ok, changes nothing and names the version the site has', async () => {
    const first = saved('dana', T0, { displayName: 'Dana' });
    expect(await one(dock1, first)).toMatchObject({ status: 'ok', seq: expect.any(Number) });
    const newer = saved('dana', T0 + 1000, { displayName: 'Dana Lee', disabled: true });
    const applied = await one(dock2, newer);
    expect(applied).toMatchObject({ status: 'ok', seq: expect.any(Number) });
    expect((await feedOf(newer.opId)).payload).toMatchObject({ username: 'dana', displayName: 'Dana Lee', disabled: true });

    const older = saved('dana', T0 + 500, { displayName: 'Dana Old' });
    const refused = await one(dock1, older);
    expect(refused.status).toBe('ok');
    expect(refused.seq).toBeUndefined();
    expect(refused.message).toBe(
      `A newer version of dana is on the site (saved at Dock 2 by boss, ${new Date(T0 + 1000).toISOString()}): this one changed nothing`,
    );
    expect(await feedOf(older.opId)).toBeUndefined();
    expect(await siteRow('dana')).toMatchObject({ display_name: 'Dana Lee', disabled: true, updated_at: String(T0 + 1000), station: 'Dock 2' });
  });

  it('two versions saved in the same millisecond: the greater station name wins, whichever arrives first', async () => {
    const fromDock2 = saved('eve', T0, { displayName: 'Eve (Dock 2)' });
    const fromDock1 = saved('eve', T0, { displayName: 'Eve (Dock 1)' });
    expect((await one(dock2, fromDock2)).seq).toEqual(expect.any(Number));
    expect((await one(dock1, fromDock1)).message).toMatch(/^A newer version of eve is on the site \(saved at Dock 2/);
    expect((await siteRow('eve')).display_name).toBe('Eve (Dock 2)');

    const early = saved('finn', T0, { displayName: 'Finn (Dock 1)' });
    const late = saved('finn', T0, { displayName: 'Finn (Dock 2)' });
    expect((await one(dock1, early)).seq).toEqual(expect.any(Number));
    expect((await one(dock2, late)).seq).toEqual(expect.any(Number));
    expect((await siteRow('finn')).display_name).toBe('Finn (Dock 2)');
  });

  it('keeps the second factor a station could not open (no totp field) and replaces it when one is sent', async () => {
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    await one(dock1, saved('gus', T0, { role: 'admin', totp: { secret, enrolledAt: T0 } }));
    const { totp: _left, ...withoutTotp } = saved('gus', T0 + 1, { displayName: 'Gus B' }).payload;
    await one(dock2, { opId: randomUUID(), op: 'user_saved@1', payload: withoutTotp });
    expect(await siteRow('gus')).toMatchObject({ display_name: 'Gus B', totp_secret: secret, totp_enrolled_at: String(T0) });
    await one(dock2, saved('gus', T0 + 2, { totp: null }));
    expect(await siteRow('gus')).toMatchObject({ totp_secret: null, totp_enrolled_at: null });
  });

  it('a bad user payload answers error naming the field and stores nothing', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ role: 'boss' }, /^user_saved@1 payload refused: role: the role is one of admin, biller, dispatcher$/],
      [{ passwordHash: 'hunter2' }, /passwordHash: not a scrypt hash/],
      [{ pinHash: 'scrypt$99$8$1$AA==$AA==' }, /pinHash: not a scrypt hash/],
      [{ totp: { secret: 'not base32!', enrolledAt: T0 } }, /totp\.secret: a TOTP secret is 16 to 128 base32 characters/],
      [{ updatedAt: 'yesterday' }, /updatedAt: /],
      [{ disabled: 'no' }, /disabled: disabled is true or false/],
    ];
    for (const [fields, message] of cases) {
      const answer = await one(dock1, saved('hank', T0, fields));
      expect(answer.status).toBe('error');
      expect(answer.message).toMatch(message);
    }
    const upper = await one(dock1, saved('Hank', T0));
    expect(upper.message).toMatch(/username: a user name is lower case/);
    expect(await siteRow('hank')).toBeUndefined();
    expect((await pool.query(`SELECT 1 FROM feed WHERE payload->>'username' IN ('hank', 'Hank')`)).rowCount).toBe(0);
  });

  it('`npm run hub -- add-user` puts a person on the feed from the hub, lists them under `users`, and refuses bad input in words', async () => {
    const env = { DATABASE_URL: databaseUrl, HUB_USER_PASSWORD: undefined };
    const added = await hubCli(['add-user', 'Ida', '--role', 'biller', '--name', 'Ida Berg', '--by', 'site admin'], env, 'ida-password-1\n');
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/^User ida \(biller\) added to the site; every station gets them from the feed \(seq \d+\)\./);
    const feed = await dock1.feed(0);
    const entry = feed.body.entries.find((e: { payload: { username?: string } }) => e.payload.username === 'ida');
    expect(entry).toMatchObject({
      op: 'user_saved@1',
      station: 'hub',
      user: 'site admin',
      payload: { displayName: 'Ida Berg', role: 'biller', pinHash: null },
    });
    expect(await verifySecret('ida-password-1', entry.payload.passwordHash)).toBe(true);

    const fromEnv = await hubCli(['add-user', 'jo', '--role', 'admin', '--name', 'Jo'], { ...env, HUB_USER_PASSWORD: 'jo-password-1' });
    expect(fromEnv.code).toBe(0);
    const listed = await hubCli(['users'], env);
    expect(listed.stdout).toMatch(/^ida\tIda Berg\tbiller\tactive\tpassword\tsaved .* at hub by site admin$/m);
    expect(listed.stdout).toMatch(/^jo\tJo\tadmin\tactive\tpassword\t/m);
    expect(listed.stdout).not.toMatch(/scrypt/);

    const before = (await pool.query('SELECT count(*)::int AS n FROM feed')).rows[0].n;
    const again = await hubCli(['add-user', 'ida', '--role', 'biller', '--name', 'Ida'], env, 'ida-password-2\n');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/ida is already on the site: change them at a station/);
    const badRole = await hubCli(['add-user', 'kim', '--role', 'boss', '--name', 'Kim'], env, 'kim-password-1\n');
    expect(badRole.stderr).toMatch(/--role: “boss” is not a role \(admin, biller, dispatcher\)/);
    const badName = await hubCli(['add-user', 'k m', '--role', 'biller', '--name', 'Kim'], env, 'kim-password-1\n');
    expect(badName.stderr).toMatch(/USERNAME: a user name is lower case letters/);
    const short = await hubCli(['add-user', 'kim', '--role', 'biller', '--name', 'Kim'], env, 'short\n');
    expect(short.stderr).toMatch(/password: Password needs at least 8 characters/);
    const none = await hubCli(['add-user', 'kim', '--role', 'biller', '--name', 'Kim'], env, '');
    expect(none.stderr).toMatch(/add-user needs the password: on stdin/);
    expect((await pool.query('SELECT count(*)::int AS n FROM feed')).rows[0].n).toBe(before);
    expect(await siteRow('kim')).toBeUndefined();
  }, 120_000);

  it('no station enrols as the hub, and the hub is not listed among the stations', async () => {
    const { code } = await createEnrolmentCode(pool, 1);
    const taken = await hubClient(url).enrol(code, 'hub');
    expect(taken.status).toBe(403);
    expect(taken.body.error.message).toBe("“hub” is the hub's own name: choose another station name");
    const stations = await hubCli(['stations'], { DATABASE_URL: databaseUrl });
    expect(stations.stdout).not.toMatch(/\thub\t/);
    expect(stations.stdout).toMatch(/\tDock 1\t/);
  }, 60_000);
});
