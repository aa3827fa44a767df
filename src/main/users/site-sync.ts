import { eq } from 'drizzle-orm';
import { describeIssues, HUB_OP_PAYLOADS, newerVersion, type HubOpPayload } from '../../shared/hub';
import { recordAudit, type AuditContext } from '../audit/record';
import type { TotpSealer } from '../auth/totp';
import type { Db } from '../db/open';
import { recoveryCodes, settings, users } from '../db/schema';
import type { FeedApplier } from '../hub/feed-applier';
import { SkipEntry } from '../hub/feed-apply';
import { membershipOf } from '../hub/membership';
import { BAGS_UPSTREAM, enqueue } from '../outbox/enqueue';
import { toUserRecord, type UserRow } from './records';

/**
 * People are site-wide when the station is a member of a site: every change to a person the site
 * should see (name, role, disabled, password, PIN, second factor) is sent whole to the hub as
 * user_saved@1, and the feed brings other stations' changes back (userApplier). The newest version
 * wins (updatedAt, then station name). Sign-in bookkeeping (last sign-in, the last TOTP step, the
 * throttle) and recovery codes stay on the station.
 */

/**
 * The version a change to `before` gets: now, but always after the version it changes, so an
 * edit made here after a newer version came from the feed wins even when this clock is behind.
 */
export function nextVersion(before: Pick<UserRow, 'updatedAt'>, now: number): number {
  return Math.max(now, before.updatedAt + 1);
}

type Opener = Pick<TotpSealer, 'open'>;

function membership(db: Db) {
  return membershipOf({
    readKey: <T>(key: string, fallback: T): T => {
      const row = db.select({ value: settings.value }).from(settings).where(eq(settings.key, key)).get();
      return row ? (JSON.parse(row.value) as T) : fallback;
    },
  });
}

function payloadOf(row: UserRow, now: number, by: string, station: string, sealer: Opener): HubOpPayload<'user_saved@1'> {
  // A secret this station cannot open (its key was lost) is left out: the others keep theirs.
  const secret = row.totpSecret ? sealer.open(row.totpSecret, row.id) : null;
  const totp = !row.totpSecret ? null : secret && row.totpEnrolledAt !== null ? { secret, enrolledAt: row.totpEnrolledAt } : undefined;
  return {
    username: row.username,
    displayName: row.displayName,
    role: row.role,
    passwordHash: row.passwordHash,
    pinHash: row.pinHash,
    disabled: row.disabled,
    ...(totp === undefined ? {} : { totp }),
    updatedAt: row.updatedAt,
    at: now,
    by,
    station,
  };
}

/**
 * Inside the caller's transaction, after it changed the users row: when the station is a member of
 * a site, queues the row's current state for the hub. A standalone station queues nothing.
 */
export function enqueueUserSaved(db: Db, now: number, userId: number, by: string | null, sealer: Opener): void {
  const site = membership(db);
  if (!site) return;
  const row = db.select().from(users).where(eq(users.id, userId)).get();
  if (!row) return;
  enqueue(db, now, { op: 'user_saved@1', upstream: BAGS_UPSTREAM, payload: payloadOf(row, now, by || site.stationName, site.stationName, sealer) });
}

/** When the station joins a site: everyone it has, so the site knows them (the hub keeps the newer of two versions). */
export function enqueueAllUsers(db: Db, now: number, by: string, sealer: Opener): number {
  const site = membership(db);
  if (!site) return 0;
  const rows = db.select().from(users).all();
  for (const row of rows) {
    enqueue(db, now, { op: 'user_saved@1', upstream: BAGS_UPSTREAM, payload: payloadOf(row, now, by, site.stationName, sealer) });
  }
  return rows.length;
}

export interface UserApplierDeps {
  audit: AuditContext;
  /** Seals a second factor's secret with this station's key (auth.totpSealer). */
  sealer: Pick<TotpSealer, 'seal'>;
  /** Signs the person out of every window on this station, each told `reason` (auth.endSessionsOf). */
  endSessionsOf: (userId: number, reason: string) => void;
  /** Their name or role changed: windows signed in as them are refreshed (a new admin owes the second factor). */
  userChanged: (userId: number) => void;
}

/**
 * Applies a user_saved@1 feed entry: the person is created or updated by user name when the entry is
 * newer than this station's version (the local id stays), their second factor sealed with this
 * station's key. A new second factor (or none) deletes this station's recovery codes for them, as
 * a reset or a new phone here does. Disabling someone or changing their password, PIN or second
 * factor signs them out of this station's windows. Audited as user.synced, by the entry's person.
 */
export function userApplier(deps: UserApplierDeps): FeedApplier {
  return (db, entry, ctx) => {
    const parsed = HUB_OP_PAYLOADS['user_saved@1'].safeParse(entry.payload);
    if (!parsed.success)
      throw new SkipEntry(`Feed entry ${entry.seq} (${entry.op} from ${entry.station}) is not a user: ${describeIssues(parsed.error)}`);
    const p = parsed.data;
    const local = db.select().from(users).where(eq(users.username, p.username)).get();
    // The feed brings each person's versions in the hub's order, so an entry loses only to a version
    // made here that the hub has not seen yet and will keep: a later one, or (same millisecond) one
    // from a station name that sorts after the entry's.
    if (local && !newerVersion({ updatedAt: p.updatedAt, station: entry.station }, { updatedAt: local.updatedAt, station: ctx.stationName })) return;
    const fields = {
      displayName: p.displayName,
      role: p.role,
      passwordHash: p.passwordHash,
      pinHash: p.pinHash,
      disabled: p.disabled,
      updatedAt: p.updatedAt,
    };
    let row = local
      ? db.update(users).set(fields).where(eq(users.id, local.id)).returning().get()
      : db
          .insert(users)
          .values({ username: p.username, ...fields, createdAt: p.at })
          .returning()
          .get();
    const newFactor = p.totp !== undefined && (p.totp?.enrolledAt ?? null) !== (local?.totpEnrolledAt ?? null);
    if (newFactor) {
      row = db
        .update(users)
        .set({ totpSecret: p.totp ? deps.sealer.seal(p.totp.secret, row.id) : null, totpEnrolledAt: p.totp?.enrolledAt ?? null, totpLastStep: null })
        .where(eq(users.id, row.id))
        .returning()
        .get();
      db.delete(recoveryCodes).where(eq(recoveryCodes.userId, row.id)).run();
    }
    recordAudit(
      db,
      deps.audit,
      { userId: null, username: entry.user },
      {
        action: 'user.synced',
        entity: 'user',
        entityId: row.id,
        ...(local ? { before: toUserRecord(local) } : {}),
        after: toUserRecord(row),
        detail: `saved at ${entry.station} by ${entry.user}; site feed seq ${entry.seq}${newFactor ? '; second factor changed, recovery codes here deleted' : ''}`,
      },
    );
    if (!local) return;
    if (p.disabled && !local.disabled) {
      deps.endSessionsOf(row.id, `Your account was disabled at ${entry.station}. Ask an admin.`);
    } else if (newFactor || p.passwordHash !== local.passwordHash || p.pinHash !== local.pinHash) {
      deps.endSessionsOf(row.id, `Your password, PIN or second factor was changed at ${entry.station}: sign in again.`);
    } else if (p.role !== local.role || p.displayName !== local.displayName || p.disabled !== local.disabled) {
      deps.userChanged(row.id);
    }
  };
}
