import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { hashSecret } from '../main/auth/passwords';
import { password as passwordField } from '../shared/contract/fields';
import { describeIssues, HUB_OP_PAYLOADS, type HubOpPayload, type HubOpResult } from '../shared/hub';
import { ROLES, type Role } from '../shared/roles';
import { applyOps } from './apply';
import { hubSelf } from './enrolment';

/** The command line's names for the payload's fields, so an error names what the admin typed. */
const CLI_NAMES: Record<string, string> = { username: 'USERNAME', displayName: '--name', role: '--role', by: '--by' };

export interface NewSiteUser {
  username: string;
  displayName: string;
  role: string;
  password: string;
  /** Who is adding them, for the feed and the audit on every station. */
  by: string;
}

/**
 * `npm run hub -- add-user`: a person made at the hub, saved under the same rule as a station's
 * user_saved@1 and put on the feed from the hub's own station row, so every station gets them.
 * A name already on the site is refused: people are changed at a station (Admin → People).
 */
export async function addSiteUser(pool: pg.Pool, input: NewSiteUser, now = Date.now()): Promise<HubOpResult> {
  if (!(ROLES as readonly string[]).includes(input.role)) throw new Error(`--role: “${input.role}” is not a role (${ROLES.join(', ')})`);
  const password = passwordField.safeParse(input.password);
  if (!password.success) throw new Error(`password: ${describeIssues(password.error)}`);
  const fields: Omit<HubOpPayload<'user_saved@1'>, 'passwordHash'> = {
    username: input.username.trim().toLowerCase(),
    displayName: input.displayName,
    role: input.role as Role,
    pinHash: null,
    disabled: false,
    totp: null,
    updatedAt: now,
    at: now,
    by: input.by,
    station: 'hub',
  };
  const checked = HUB_OP_PAYLOADS['user_saved@1'].omit({ passwordHash: true }).safeParse(fields);
  if (!checked.success) {
    throw new Error(checked.error.issues.map((i) => `${CLI_NAMES[String(i.path[0])] ?? i.path.join('.')}: ${i.message}`).join('; '));
  }
  const taken = await pool.query('SELECT 1 FROM users WHERE username = $1', [fields.username]);
  if (taken.rowCount) throw new Error(`${fields.username} is already on the site: change them at a station (Admin → People)`);
  const station = await hubSelf(pool);
  const payload = { ...fields, passwordHash: await hashSecret(password.data) };
  const [result] = await applyOps(pool, station, [{ opId: randomUUID(), op: 'user_saved@1', payload }]);
  return result;
}

export interface SiteUser {
  username: string;
  displayName: string;
  role: string;
  disabled: boolean;
  hasPassword: boolean;
  hasPin: boolean;
  secondFactor: boolean;
  updatedAt: number;
  station: string;
  by: string;
}

/** `npm run hub -- users`: everyone on the site, never their hashes. */
export async function listSiteUsers(pool: pg.Pool): Promise<SiteUser[]> {
  const { rows } = await pool.query<{
    username: string;
    display_name: string;
    role: string;
    disabled: boolean;
    has_password: boolean;
    has_pin: boolean;
    second_factor: boolean;
    updated_at: string;
    name: string;
    user_name: string;
  }>(
    `SELECT u.username, u.display_name, u.role, u.disabled, u.password_hash IS NOT NULL AS has_password, u.pin_hash IS NOT NULL AS has_pin,
       u.totp_secret IS NOT NULL AS second_factor, u.updated_at, s.name, u.user_name
     FROM users u JOIN stations s ON s.id = u.station_id ORDER BY u.username`,
  );
  return rows.map((r) => ({
    username: r.username,
    displayName: r.display_name,
    role: r.role,
    disabled: r.disabled,
    hasPassword: r.has_password,
    hasPin: r.has_pin,
    secondFactor: r.second_factor,
    updatedAt: Number(r.updated_at),
    station: r.name,
    by: r.user_name,
  }));
}
