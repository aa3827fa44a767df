import { createHash, randomBytes, randomInt } from 'node:crypto';
import type pg from 'pg';
import { inTransaction } from './db';

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** No 0/O, 1/I/L: read over a phone or typed from a screen. */
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

/** Codes are typed by people: case, spaces and dashes do not matter. */
export function normaliseCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, '');
}

/**
 * Makes a one-time enrolment code (12 characters, about 59 bits) valid for `hours`; only its hash
 * is stored. The code itself is answered once, to the admin who asked.
 */
export async function createEnrolmentCode(pool: pg.Pool, hours = 24): Promise<{ code: string; expiresAt: Date }> {
  if (!(hours > 0 && hours <= 24 * 30)) throw new Error('An enrolment code lasts between a minute and 30 days (hours > 0, at most 720)');
  const raw = Array.from({ length: 12 }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join('');
  const code = `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8)}`;
  const { rows } = await pool.query<{ expires_at: Date }>(
    `INSERT INTO enrolment_codes (code_hash, expires_at) VALUES ($1, now() + make_interval(secs => $2)) RETURNING expires_at`,
    [sha256(normaliseCode(code)), Math.round(hours * 3600)],
  );
  return { code, expiresAt: rows[0].expires_at };
}

export class EnrolmentRefused extends Error {}

/**
 * The hub's own row in `stations` (made by migration 0002): what the hub's admin commands put on
 * the feed comes from station "hub", so feed.station_id stays a real station for every entry. Its
 * token hash is no SHA-256, so no token authenticates as it, and no station can enrol as "hub".
 */
export const HUB_SELF = { name: 'hub', tokenHash: 'reserved:hub' } as const;

/** The hub's own station row, or an error in words when a station enrolled as "hub" before the row was made. */
export async function hubSelf(pool: pg.Pool): Promise<StationIdentity> {
  const { rows } = await pool.query<{ id: number; token_hash: string }>('SELECT id, token_hash FROM stations WHERE name = $1', [HUB_SELF.name]);
  const row = rows[0];
  if (!row || row.token_hash !== HUB_SELF.tokenHash) {
    throw new Error(`The station name “${HUB_SELF.name}” is taken by an enrolled station: rename it (revoke and enrol again) so the hub can use it`);
  }
  return { id: row.id, name: HUB_SELF.name };
}

/** Spends a code (once, before its expiry) and enrols a station under a new random token. */
export async function enrolStation(
  pool: pg.Pool,
  code: string,
  stationName: string,
): Promise<{ stationId: number; stationName: string; token: string }> {
  const token = randomBytes(32).toString('base64url');
  return inTransaction(pool, async (client) => {
    // FOR UPDATE: two stations racing with one code wait for each other; the second finds it used.
    const { rows } = await client.query<{ id: number; expired: boolean; used_at: Date | null }>(
      'SELECT id, expires_at < now() AS expired, used_at FROM enrolment_codes WHERE code_hash = $1 FOR UPDATE',
      [sha256(normaliseCode(code))],
    );
    const found = rows[0];
    if (!found) throw new EnrolmentRefused('This enrolment code is not known to the hub: check it, or ask the hub admin for a new one');
    if (found.used_at) throw new EnrolmentRefused('This enrolment code was already used: ask the hub admin for a new one');
    if (found.expired) throw new EnrolmentRefused('This enrolment code has expired: ask the hub admin for a new one');
    if (stationName === HUB_SELF.name) throw new EnrolmentRefused(`“${HUB_SELF.name}” is the hub's own name: choose another station name`);
    const taken = await client.query('SELECT 1 FROM stations WHERE name = $1', [stationName]);
    if (taken.rowCount) throw new EnrolmentRefused(`A station named “${stationName}” is already enrolled: choose another name`);
    // The unique name is the rule; the look-up above only words the common case.
    const station = await client
      .query<{ id: number }>('INSERT INTO stations (name, token_hash) VALUES ($1, $2) RETURNING id', [stationName, sha256(token)])
      .catch((error: { code?: string }) => {
        if (error.code === '23505') throw new EnrolmentRefused(`A station named “${stationName}” is already enrolled: choose another name`);
        throw error;
      });
    const stationId = station.rows[0].id;
    await client.query('UPDATE enrolment_codes SET used_at = now(), station_id = $2 WHERE id = $1', [found.id, stationId]);
    return { stationId, stationName, token };
  });
}

export interface StationIdentity {
  id: number;
  name: string;
}

/** The station a bearer token belongs to, or the reason it is refused, in words. */
export async function authenticateStation(pool: pg.Pool, token: string): Promise<StationIdentity | { refused: string }> {
  const { rows } = await pool.query<{ id: number; name: string; revoked_at: Date | null }>(
    'SELECT id, name, revoked_at FROM stations WHERE token_hash = $1',
    [sha256(token)],
  );
  const station = rows[0];
  if (!station) return { refused: 'This station token is not known to the hub: enrol the station with an enrolment code' };
  if (station.revoked_at) {
    return { refused: `Station “${station.name}” was revoked from the site at ${station.revoked_at.toISOString()}: enrol it again with a new code` };
  }
  return { id: station.id, name: station.name };
}

/** Revokes a station by name: its token is refused from the next call on. */
export async function revokeStation(pool: pg.Pool, stationName: string): Promise<boolean> {
  const { rowCount } = await pool.query('UPDATE stations SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL', [stationName]);
  return (rowCount ?? 0) > 0;
}

export async function listStations(pool: pg.Pool): Promise<{ id: number; name: string; enrolledAt: Date; revokedAt: Date | null }[]> {
  const { rows } = await pool.query<{ id: number; name: string; enrolled_at: Date; revoked_at: Date | null }>(
    'SELECT id, name, enrolled_at, revoked_at FROM stations WHERE token_hash <> $1 ORDER BY id',
    [HUB_SELF.tokenHash],
  );
  return rows.map((r) => ({ id: r.id, name: r.name, enrolledAt: r.enrolled_at, revokedAt: r.revoked_at }));
}
