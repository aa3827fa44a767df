import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnrolmentCode, sha256 } from '../../src/hub/enrolment';
import { startHubServer } from '../../src/hub/server';
import { onRelease, releaseAll } from '../support/cleanup';
import { hubCli, hubClient, startHubDatabase } from '../support/hub';
import type { TestPostgres } from '../support/postgres';

/** Enrolment on a real PostgreSQL, the hub in this process; the admin commands as `npm run hub` runs them. */
let postgres: TestPostgres;
let pool: pg.Pool;
let hub: ReturnType<typeof hubClient>;

beforeAll(async () => {
  ({ postgres, admin: pool } = await startHubDatabase({ migrated: true }));
  const server = await startHubServer({ pool });
  // Closed before the pool ends (newest first): its feed listener holds a pool client until then.
  onRelease(() => server.close());
  hub = hubClient(server.url);
}, 60_000);

afterAll(releaseAll, 60_000); // hub processes and PostgreSQL stop here

describe('hub enrolment', () => {
  it('turns a one-time code into a station token; only hashes are stored', async () => {
    const { code } = await createEnrolmentCode(pool, 1);
    const res = await hub.enrol(code.toLowerCase().replace(/-/g, ' '), 'Dock 1');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ stationName: 'Dock 1', stationId: expect.any(Number) });
    const token = res.body.token as string;
    expect(token.length).toBeGreaterThanOrEqual(40);
    expect((await hubClient(hub.url, token).feed(0)).status).toBe(200);
    const stored = await pool.query('SELECT token_hash FROM stations WHERE name = $1', [`Dock 1`]);
    expect(stored.rows[0].token_hash).toBe(sha256(token));
    const dump =
      JSON.stringify((await pool.query('SELECT * FROM stations')).rows) + JSON.stringify((await pool.query('SELECT * FROM enrolment_codes')).rows);
    expect(dump).not.toContain(token);
    expect(dump).not.toContain(code);

    const again = await hub.enrol(code, 'Dock 9');
    expect(again.status).toBe(403);
    expect(again.body.error.message).toMatch(/already used/);
  });

  it('refuses unknown and expired codes, a taken name and a bad body, in words', async () => {
    expect((await hub.enrol('AAAA-BBBB-CCCC', 'Dock 2')).body.error.message).toMatch(/not known to the hub/);

    const expired = await createEnrolmentCode(pool, 1);
    await pool.query(`UPDATE enrolment_codes SET expires_at = now() - interval '1 minute' WHERE code_hash = $1`, [
      sha256(expired.code.replace(/-/g, '')),
    ]);
    const late = await hub.enrol(expired.code, 'Dock 2');
    expect(late.status).toBe(403);
    expect(late.body.error.message).toMatch(/expired/);

    const taken = await hub.enrol((await createEnrolmentCode(pool, 1)).code, 'Dock 1');
    expect(taken.status).toBe(403);
    expect(taken.body.error.message).toMatch(/“Dock 1” is already enrolled/);

    const bad = await hub.call('POST', '/v1/enrol', { code: 'X' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/stationName/);
    const notJson = await fetch(`${hub.url}/v1/enrol`, { method: 'POST', body: '{' });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { message: string } }).error.message).toBe('The request body is not JSON');
    expect(await pool.query(`SELECT 1 FROM stations WHERE name = 'Dock 2'`).then((r) => r.rowCount)).toBe(0);
  });

  it('lets one of two stations racing with one code enrol', async () => {
    const { code } = await createEnrolmentCode(pool, 1);
    const answers = await Promise.all(['Race A', 'Race B', 'Race C'].map((name) => hub.enrol(code, name)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 403, 403]);
    expect(answers.filter((a) => a.status === 403).every((a) => /already used/.test(a.body.error.message))).toBe(true);
  });

  it('admin commands: a code from `npm run hub -- enrolment-code`, revoke, and a bad option refused in words', async () => {
    const made = await hubCli(['enrolment-code', '--hours', '2'], { DATABASE_URL: postgres.url });
    expect(made.code).toBe(0);
    const code = /Enrolment code: (\S+)/.exec(made.stdout)?.[1];
    expect(code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    const enrolled = await hub.enrol(code!, 'Dock CLI');
    expect(enrolled.status).toBe(200);
    const client = hubClient(hub.url, enrolled.body.token);
    expect((await client.feed(0)).status).toBe(200);

    const revoked = await hubCli(['revoke', 'Dock', 'CLI'], { DATABASE_URL: postgres.url });
    expect(revoked.stdout).toMatch(/Station “Dock CLI” revoked/);
    const refused = await client.feed(0);
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toMatch(/“Dock CLI” was revoked/);
    const twice = await hubCli(['revoke', 'Dock CLI'], { DATABASE_URL: postgres.url });
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/no enrolled, unrevoked station is named “Dock CLI”/);

    const badPort = await hubCli(['--pg-port', 'x'], { DATABASE_URL: '' });
    expect(badPort.code).toBe(1);
    expect(badPort.stderr).toMatch(/--pg-port x: not a port number/);
  }, 120_000);
});
