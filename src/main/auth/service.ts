import { and, count, eq, sql } from 'drizzle-orm';
import type { SessionInfo, SessionUser } from '../../shared/contract/session';
import { PIN_ROLE, PIN_SHAPE } from '../../shared/contract/fields';
import { DomainError } from '../../shared/envelope';
import type { Logger } from '../platform/logger';
import type { SecretStore } from '../credentials/store';
import { recordAudit, type AuditActor, type AuditContext } from '../audit/record';
import type { Db } from '../db/open';
import { loginThrottle, users } from '../db/schema';
import type { SettingsService } from '../settings/service';
import type { UserRow } from '../users/records';
import { decoyHash, hashSecret, needsRehash, verifySecret, type KdfParams } from './passwords';
import { SecondFactorService, type SignInGate } from './second-factor';
import type { Session, SessionRegistry } from './sessions';
import { afterSuccess, countTry, fillPinBudget, pinPauseLeft, STATION_PIN_KEY, type ThrottleRow } from './throttle';
import { TotpSealer } from './totp';
import { enqueueUserSaved, nextVersion } from '../users/site-sync';

export { pauseAfter, STATION_PIN_BUDGET, THROTTLE } from './throttle';

export interface AuthDeps {
  db: Db;
  sessions: SessionRegistry;
  settings: SettingsService;
  audit: AuditContext;
  now: () => number;
  /** Cost of new password hashes; older, cheaper ones are rehashed at sign-in. */
  kdf: KdfParams;
  /** Cost of new PIN hashes (see PIN_KDF). */
  pinKdf: KdfParams;
  demo: boolean;
  log: Logger;
  /** Holds the key that seals admins' second-factor secrets in the database. */
  secrets: SecretStore;
  /** Where that key goes when `secrets` refuses new values (no keyring); see TotpSealer. */
  secondFactorKeyFile: string | null;
}

/** For transactions that read and then write (see assertNotThrottled). */
const IMMEDIATE = { behavior: 'immediate' } as const;

const WRONG_CREDENTIALS = 'User name or password/PIN is wrong';

type TryKind = 'login' | 'unlock' | 'password_change';

/** One sign-in, unlock or password-change try, counted before its secret is checked. */
interface Attempt {
  kind: TryKind;
  session: Session;
  /** The user name's row in login_throttle as it was before this try. */
  key: string;
  before: ThrottleRow | undefined;
  counted: ThrottleRow;
  /** This try holds a slot of the station's PIN budget (a PIN-shaped secret while PIN sign-in is open). */
  pinSlot: boolean;
  /** PIN sign-in is paused for the station: only a password is checked. */
  pinPausedMs: number;
}

export class AuthService {
  #decoys = new Map<KdfParams, Promise<string>>();
  /** Tries being checked, by session and by user name: one at a time each, so parallel frames cannot outrun the count. */
  readonly #checking = { sessions: new Set<string>(), keys: new Set<string>() };
  /** Refusals in a row per session; only the 1st, 2nd, 4th, 8th… are audited, so a flood of refused frames cannot fill the disk. */
  readonly #refusals = new WeakMap<Session, number>();
  /** Runs on every signed-in call (role check), so it is prepared once. */
  readonly #userById;
  /** Admins' second sign-in step (codes from a phone, recovery codes, admin reset). */
  readonly secondFactor: SecondFactorService;
  readonly totpSealer: TotpSealer;

  constructor(private readonly deps: AuthDeps) {
    this.#userById = deps.db
      .select()
      .from(users)
      .where(eq(users.id, sql.placeholder('id')))
      .prepare();
    this.totpSealer = new TotpSealer(deps.secrets, deps.secondFactorKeyFile);
    this.secondFactor = new SecondFactorService({
      db: deps.db,
      audit: deps.audit,
      now: deps.now,
      sessions: deps.sessions,
      sealer: this.totpSealer,
      stationName: () => deps.settings.get().stationName,
      // Wrong codes count in the same per-user throttle as wrong passwords.
      gate: this.secondFactorGate(),
      endSessionsOf: (userId) => this.endSessionsOf(userId, undefined, 'An admin reset your second factor: sign in again and set up your phone.'),
      changed: (session) => session.push('session/changed', this.info(session)),
    });
  }

  hasUsers(): boolean {
    return (this.deps.db.select({ n: count() }).from(users).get()?.n ?? 0) > 0;
  }

  userById(id: number): UserRow | undefined {
    return this.#userById.get({ id });
  }

  info(session: Session): SessionInfo {
    const settings = this.deps.settings.get();
    const row = session.userId === null ? undefined : this.userById(session.userId);
    const user: SessionUser | null =
      row && !row.disabled ? { id: row.id, username: row.username, displayName: row.displayName, role: row.role } : null;
    return {
      setupRequired: !this.hasUsers(),
      user,
      locked: user !== null && session.locked,
      station: { id: this.deps.audit.stationId, name: settings.stationName, demo: this.deps.demo },
      idleLockMinutes: settings.idleLockMinutes,
      signedOut: user ? null : session.signedOut,
      secondFactor: this.secondFactor.step(session),
    };
  }

  /** First run: only while no user exists. Also used for unattended installs (env vars). */
  async createFirstAdmin(input: { username: string; displayName: string; password: string }): Promise<UserRow> {
    const passwordHash = await hashSecret(input.password, this.deps.kdf);
    return this.deps.db.transaction((tx) => {
      if ((tx.select({ n: count() }).from(users).get()?.n ?? 0) > 0) {
        throw new DomainError('conflict', 'Setup is already done: sign in instead');
      }
      const now = this.deps.now();
      const row = tx
        .insert(users)
        .values({ username: input.username, displayName: input.displayName, role: 'admin', passwordHash, createdAt: now, updatedAt: now })
        .returning()
        .get();
      recordAudit(
        this.deps.db,
        this.deps.audit,
        { userId: row.id, username: row.username },
        {
          action: 'setup.admin_created',
          entity: 'user',
          entityId: row.id,
          after: { id: row.id, username: row.username, role: row.role },
        },
      );
      enqueueUserSaved(this.deps.db, now, row.id, row.username, this.totpSealer);
      return row;
    });
  }

  async setup(session: Session, input: { username: string; displayName: string; password: string }): Promise<SessionInfo> {
    const row = await this.createFirstAdmin(input);
    // The first admin sets up their phone now too: the last admin must never be the one without recovery codes.
    this.secondFactor.begin(session, row);
    return this.info(session);
  }

  async login(session: Session, input: { username: string; secret: string }): Promise<SessionInfo> {
    this.secondFactor.forget(session);
    const row = this.deps.db.select().from(users).where(eq(users.username, input.username)).get() ?? null;
    const attempt = this.assertNotThrottled('login', session, input.username, row, input.secret);
    try {
      const matched = await this.matches(row, input.secret, attempt);
      if (!row || !matched) {
        this.recordFailure(attempt, row);
        throw this.wrongSecret(attempt, WRONG_CREDENTIALS);
      }
      if (row.disabled) {
        this.clearFailures(attempt);
        this.audit(row, session, { action: 'auth.login_refused', detail: 'account disabled' });
        throw new DomainError('forbidden', 'This account is disabled. Ask an admin.');
      }
      await this.rehashIfOld(row, input.secret, matched);
      if (this.secondFactor.required(row)) {
        // Half signed in. This try stays counted until the code is right too: typing the
        // password again must not buy more guesses at the code (see secondFactorGate).
        this.codeOwed(attempt);
        this.secondFactor.begin(session, row);
        return this.info(session);
      }
      this.clearFailures(attempt);
      this.signIn(session, row);
      return this.info(session);
    } finally {
      this.release(attempt);
    }
  }

  logout(session: Session): SessionInfo {
    const row = session.userId === null ? undefined : this.userById(session.userId);
    if (row) this.audit(row, session, { action: 'auth.logout' });
    this.secondFactor.forget(session);
    session.userId = null;
    session.locked = false;
    session.signedOut = null;
    return this.info(session);
  }

  /**
   * Unlocking asks the same person's password or PIN, never the second factor: the window gave it
   * at sign-in and has been this person's ever since; a different person signs out and in.
   */
  async unlock(session: Session, input: { secret: string }): Promise<SessionInfo> {
    const row = session.userId === null ? undefined : this.userById(session.userId);
    if (!row) throw new DomainError('unauthenticated', 'Sign in first');
    const attempt = this.assertNotThrottled('unlock', session, row.username, row, input.secret);
    try {
      const matched = await this.matches(row, input.secret, attempt);
      if (!matched) {
        this.recordFailure(attempt, row);
        throw this.wrongSecret(attempt, 'Password or PIN is wrong');
      }
      this.clearFailures(attempt);
      await this.rehashIfOld(row, input.secret, matched);
      session.locked = false;
      session.lastActivityAt = this.deps.now();
      this.audit(row, session, { action: 'auth.unlocked' });
      return this.info(session);
    } finally {
      this.release(attempt);
    }
  }

  async changePassword(session: Session, input: { current: string; next: string }): Promise<null> {
    const row = session.userId === null ? undefined : this.userById(session.userId);
    if (!row) throw new DomainError('unauthenticated', 'Sign in first');
    const attempt = this.assertNotThrottled('password_change', session, row.username, row, input.current);
    try {
      if (!row.passwordHash || !(await verifySecret(input.current, row.passwordHash))) {
        this.recordFailure(attempt, row);
        throw new DomainError('unauthenticated', 'Current password is wrong', {
          issues: [{ path: 'current', message: 'Current password is wrong' }],
        });
      }
      this.clearFailures(attempt);
      const passwordHash = await hashSecret(input.next, this.deps.kdf);
      this.deps.db.transaction((tx) => {
        const now = this.deps.now();
        tx.update(users)
          .set({ passwordHash, updatedAt: nextVersion(this.userById(row.id) ?? row, now) })
          .where(eq(users.id, row.id))
          .run();
        recordAudit(this.deps.db, this.deps.audit, actorOf(row), { action: 'auth.password_changed', entity: 'user', entityId: row.id });
        enqueueUserSaved(this.deps.db, now, row.id, row.username, this.totpSealer);
      });
    } finally {
      this.release(attempt);
    }
    this.afterCredentialsChanged(row.id, session);
    return null;
  }

  /**
   * A user's password or PIN was set or changed: their other windows are signed out (whoever
   * knew the old secret is out too) and their sign-in pause is cleared.
   */
  afterCredentialsChanged(userId: number, except?: Session): void {
    const row = this.userById(userId);
    if (row) this.deps.db.delete(loginThrottle).where(eq(loginThrottle.key, row.username)).run();
    this.endSessionsOf(userId, except);
  }

  /**
   * Signs the user out of every window but `except`, audits each and pushes the change, so the
   * window shows the sign-in screen with the reason at once.
   */
  endSessionsOf(userId: number, except?: Session, reason = 'Your password or PIN was changed: sign in again.'): Session[] {
    const ended = this.deps.sessions.forUser(userId).filter((s) => s !== except);
    for (const s of ended) this.signOut(s, reason, 'credentials changed');
    return ended;
  }

  /**
   * A person did something (keys, pointer, a scan), as the renderer reports it: push the idle lock
   * back. Nothing else counts — background polling and pushes must not keep a shared station
   * signed in as the last person.
   */
  touch(session: Session): null {
    session.lastActivityAt = this.deps.now();
    return null;
  }

  /**
   * Called by the idle timer and the router. Signs out sessions past the shift length (locked or
   * not), then locks idle ones; audits each. Returns the sessions it locked.
   */
  lockIdleSessions(): Session[] {
    const settings = this.deps.settings.get();
    const hours = settings.shiftHours === 1 ? '1 hour' : `${settings.shiftHours} hours`;
    for (const s of this.deps.sessions.olderThan(settings.shiftHours * 3_600_000)) {
      this.signOut(s, `Signed out after ${hours} (the station's shift length): sign in again.`, `shift over (${hours})`);
    }
    const locked = this.deps.sessions.lockIdle(settings.idleLockMinutes * 60_000);
    for (const s of locked) {
      const row = s.userId === null ? undefined : this.userById(s.userId);
      if (row) this.audit(row, s, { action: 'auth.locked', detail: 'idle' });
      s.push('session/changed', this.info(s));
    }
    return locked;
  }

  private signIn(session: Session, row: UserRow): void {
    const now = this.deps.now();
    session.userId = row.id;
    session.locked = false;
    session.lastActivityAt = now;
    session.signedInAt = now;
    session.signedOut = null;
    this.deps.db.update(users).set({ lastLoginAt: now }).where(eq(users.id, row.id)).run();
    this.audit(row, session, { action: 'auth.login' });
  }

  private signOut(session: Session, reason: string, detail: string): void {
    const row = session.userId === null ? undefined : this.userById(session.userId);
    if (row) this.audit(row, session, { action: 'auth.signed_out', detail });
    this.secondFactor.forget(session);
    session.userId = null;
    session.locked = false;
    session.signedOut = reason;
    session.push('session/changed', this.info(session));
  }

  /**
   * Which secret matched. A PIN counts only for dispatchers; an admin's or biller's PIN left in the
   * database is never checked, and the answer is the same as for any wrong secret. Each secret
   * shape costs the same checks whoever the user is (a decoy stands in for a missing hash), so
   * timing tells nothing about the user's role or which secrets they have.
   */
  private async matches(row: UserRow | null, secret: string, attempt: Attempt): Promise<'password' | 'pin' | null> {
    const pinShaped = PIN_SHAPE.test(secret) && attempt.kind !== 'password_change';
    let matched: 'password' | 'pin' | null = null;
    // Passwords have at least 8 characters: a shorter PIN-shaped secret can only be a PIN.
    if (!pinShaped || secret.length >= 8) {
      const ok = await verifySecret(secret, row?.passwordHash ?? (await this.decoy(this.deps.kdf)));
      if (ok && row?.passwordHash) matched = 'password';
    }
    if (pinShaped && attempt.pinPausedMs === 0) {
      const pinHash = row?.role === PIN_ROLE ? row.pinHash : null;
      const ok = await verifySecret(secret, pinHash ?? (await this.decoy(this.deps.pinKdf)));
      if (ok && pinHash) matched ??= 'pin';
    }
    return matched;
  }

  private decoy(params: KdfParams): Promise<string> {
    let decoy = this.#decoys.get(params);
    if (!decoy) this.#decoys.set(params, (decoy = decoyHash(params)));
    return decoy;
  }

  /** A hash made at an older, cheaper default is replaced now that the secret is known. */
  private async rehashIfOld(row: UserRow, secret: string, matched: 'password' | 'pin'): Promise<void> {
    const [stored, target] = matched === 'password' ? [row.passwordHash, this.deps.kdf] : [row.pinHash, this.deps.pinKdf];
    if (!stored || !needsRehash(stored, target)) return;
    const hash = await hashSecret(secret, target);
    const [set, column] = matched === 'password' ? [{ passwordHash: hash }, users.passwordHash] : [{ pinHash: hash }, users.pinHash];
    // Only if unchanged meanwhile: an admin's reset during the hashing wins.
    this.deps.db
      .update(users)
      .set(set)
      .where(and(eq(users.id, row.id), eq(column, stored)))
      .run();
    this.deps.log.info({ username: row.username, secret: matched }, 'rehashed at the current cost');
  }

  /**
   * Counts the try before its secret is checked, or refuses it (rate_limited). Everything here is
   * synchronous, so parallel frames are counted one after another: the fifth wrong try pauses the
   * user name for the ones behind it, and a PIN-shaped try takes a slot of the station's PIN budget
   * up front. One try at a time per session and per user name: another is refused while one is
   * being checked.
   */
  private assertNotThrottled(kind: TryKind, session: Session, key: string, row: UserRow | null, secret: string): Attempt {
    const refuse = (reason: string, message: string, retryAfterMs: number): never => {
      const n = (this.#refusals.get(session) ?? 0) + 1;
      this.#refusals.set(session, n);
      if ((n & (n - 1)) === 0) {
        recordAudit(this.deps.db, this.deps.audit, row ? actorOf(row) : { userId: null, username: key }, {
          action: `auth.${kind}_throttled`,
          entity: 'user',
          entityId: row?.id ?? key,
          detail: `${session.peer}; ${reason}; refusal ${n} in a row on this connection`,
        });
      }
      throw new DomainError('rate_limited', message, { retryAfterMs });
    };
    if (this.#checking.sessions.has(session.id)) {
      refuse('another try in progress here', 'A sign-in is already being checked in this window: wait for its answer.', 1000);
    }
    if (this.#checking.keys.has(key)) {
      refuse('another try for this user name in progress', 'A sign-in for this user name is being checked: try again in a moment.', 1000);
    }
    const now = this.deps.now();
    const pinShaped = PIN_SHAPE.test(secret) && kind !== 'password_change';
    const attempt = this.deps.db.transaction((tx): Attempt | { refused: [string, string, number] } => {
      const before = tx.select().from(loginThrottle).where(eq(loginThrottle.key, key)).get();
      const wait = before ? before.lockedUntil - now : 0;
      if (wait > 0) return { refused: ['paused', `Too many wrong tries. Try again in ${Math.ceil(wait / 1000)} s.`, wait] };
      let pinSlot = false;
      let pinPausedMs = 0;
      if (pinShaped) {
        const budget = tx.select().from(loginThrottle).where(eq(loginThrottle.key, STATION_PIN_KEY)).get();
        pinPausedMs = pinPauseLeft(budget, now);
        // Under 8 digits the secret can only be a PIN: nothing is left to check.
        if (pinPausedMs > 0 && secret.length < 8) {
          return { refused: ['PIN sign-in paused for the station', pinPausedMessage(pinPausedMs), pinPausedMs] };
        }
        if (pinPausedMs === 0) {
          pinSlot = true;
          upsertThrottle(tx, fillPinBudget(budget, +1, now));
        }
      }
      const counted = countTry(key, before, now);
      upsertThrottle(tx, counted);
      return { kind, session, key, before, counted, pinSlot, pinPausedMs };
      // IMMEDIATE: it reads, then writes. A deferred one would meet another station process's
      // write between the two and fail (SQLITE_BUSY_SNAPSHOT, no busy wait) instead of waiting.
    }, IMMEDIATE);
    if ('refused' in attempt) return refuse(...attempt.refused);
    this.#refusals.delete(session);
    this.#checking.sessions.add(session.id);
    this.#checking.keys.add(key);
    return attempt;
  }

  /** The secret was wrong: the try is already counted; this audits it. */
  private recordFailure(attempt: Attempt, row: UserRow | null): void {
    const { failures, lockedUntil } = attempt.counted;
    const pause = lockedUntil ? lockedUntil - this.deps.now() : 0;
    const notes = [
      `failure ${failures}`,
      pause > 0 ? `paused ${Math.ceil(pause / 1000)} s` : '',
      attempt.pinSlot ? 'counted in the station PIN budget' : '',
      attempt.pinPausedMs > 0 ? 'PIN sign-in paused for the station' : '',
    ];
    recordAudit(this.deps.db, this.deps.audit, row ? actorOf(row) : { userId: null, username: attempt.key }, {
      action: `auth.${attempt.kind}_failed`,
      entity: 'user',
      entityId: row?.id ?? attempt.key,
      detail: [attempt.session.peer, ...notes.filter(Boolean)].join('; '),
    });
    this.deps.log.warn({ username: attempt.key, peer: attempt.session.peer, action: attempt.kind }, 'failed sign-in');
  }

  /**
   * The secret was right: this try is taken back off the user name's count, and the earlier
   * failures decay (halve) rather than reset; a PIN's slot in the station budget is given back,
   * earlier wrong PINs stay in it.
   */
  private clearFailures(attempt: Attempt): void {
    const now = this.deps.now();
    this.deps.db.transaction((tx) => {
      const kept = afterSuccess(attempt.before, now);
      if (kept) upsertThrottle(tx, kept);
      else tx.delete(loginThrottle).where(eq(loginThrottle.key, attempt.key)).run();
      if (attempt.pinSlot) {
        const budget = tx.select().from(loginThrottle).where(eq(loginThrottle.key, STATION_PIN_KEY)).get();
        upsertThrottle(tx, fillPinBudget(budget, -1, now));
      }
    }, IMMEDIATE);
  }

  /**
   * A right password whose code is still owed: the try stays in the user name's count, but a right
   * password never starts a pause itself, so the person can type the code at once; the next wrong
   * code pauses as the count says. Its slot in the station's PIN budget, if any, is given back.
   */
  private codeOwed(attempt: Attempt): void {
    this.deps.db.transaction((tx) => {
      upsertThrottle(tx, { ...attempt.counted, lockedUntil: 0 });
      if (attempt.pinSlot) {
        const budget = tx.select().from(loginThrottle).where(eq(loginThrottle.key, STATION_PIN_KEY)).get();
        upsertThrottle(tx, fillPinBudget(budget, -1, this.deps.now()));
      }
    }, IMMEDIATE);
  }

  /**
   * Wrong codes count in the same per-user throttle as wrong passwords. A code is checked without
   * awaiting anything, so checking the pause and counting a failure after it cannot be raced the
   * way an awaited scrypt can. The right password's own try stays counted until the code is right;
   * then it is taken back off and the earlier failures decay as after a right password.
   */
  private secondFactorGate(): SignInGate {
    const rowOf = (key: string) => this.deps.db.select().from(loginThrottle).where(eq(loginThrottle.key, key)).get();
    return {
      assertNotThrottled: (key) => {
        const wait = (rowOf(key)?.lockedUntil ?? 0) - this.deps.now();
        if (wait > 0)
          throw new DomainError('rate_limited', `Too many wrong tries. Try again in ${Math.ceil(wait / 1000)} s.`, { retryAfterMs: wait });
      },
      recordFailure: (key, row, session, action) => {
        const counted = countTry(key, rowOf(key), this.deps.now());
        upsertThrottle(this.deps.db, counted);
        const pause = counted.lockedUntil ? counted.lockedUntil - this.deps.now() : 0;
        recordAudit(this.deps.db, this.deps.audit, row ? actorOf(row) : { userId: null, username: key }, {
          action,
          entity: 'user',
          entityId: row?.id ?? key,
          detail: `${session.peer}; failure ${counted.failures}${pause > 0 ? `; paused ${Math.ceil(pause / 1000)} s` : ''}`,
        });
        this.deps.log.warn({ username: key, peer: session.peer, action }, 'failed second factor');
      },
      clearFailures: (key) => {
        const now = this.deps.now();
        const current = rowOf(key);
        const before = current && current.failures > 1 ? { ...current, failures: current.failures - 1 } : undefined;
        const kept = afterSuccess(before, now);
        if (kept) upsertThrottle(this.deps.db, kept);
        else this.deps.db.delete(loginThrottle).where(eq(loginThrottle.key, key)).run();
      },
      signIn: (session, row) => this.signIn(session, row),
    };
  }

  private release(attempt: Attempt): void {
    this.#checking.sessions.delete(attempt.session.id);
    this.#checking.keys.delete(attempt.key);
  }

  /** A wrong secret while PIN sign-in is paused says so: the person should use their password. */
  private wrongSecret(attempt: Attempt, message: string): DomainError {
    if (attempt.pinPausedMs > 0) return new DomainError('rate_limited', pinPausedMessage(attempt.pinPausedMs), { retryAfterMs: attempt.pinPausedMs });
    return new DomainError('unauthenticated', message);
  }

  private audit(row: UserRow, session: Session, entry: { action: string; detail?: string }): void {
    recordAudit(this.deps.db, this.deps.audit, actorOf(row), {
      ...entry,
      entity: 'user',
      entityId: row.id,
      detail: entry.detail ? `${session.peer}; ${entry.detail}` : session.peer,
    });
  }
}

function pinPausedMessage(ms: number): string {
  return `PIN sign-in is paused for this station after too many wrong PINs. Use your password, or try the PIN again in ${Math.ceil(ms / 1000)} s.`;
}

function upsertThrottle(tx: Pick<Db, 'insert'>, row: ThrottleRow): void {
  tx.insert(loginThrottle)
    .values(row)
    .onConflictDoUpdate({
      target: loginThrottle.key,
      set: { failures: row.failures, lastFailureAt: row.lastFailureAt, lockedUntil: row.lockedUntil },
    })
    .run();
}

export function actorOf(row: Pick<UserRow, 'id' | 'username'>): AuditActor {
  return { userId: row.id, username: row.username };
}
