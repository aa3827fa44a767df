import { count, eq, sql } from 'drizzle-orm';
import type { SessionInfo, SessionUser } from '../../shared/contract/session';
import { DomainError } from '../../shared/envelope';
import type { Logger } from '../platform/logger';
import type { SecretStore } from '../credentials/store';
import { recordAudit, type AuditActor, type AuditContext } from '../audit/record';
import type { Db } from '../db/open';
import { loginThrottle, users } from '../db/schema';
import type { SettingsService } from '../settings/service';
import type { UserRow } from '../users/records';
import { decoyHash, hashSecret, verifySecret, type KdfParams } from './passwords';
import { SecondFactorService } from './second-factor';
import type { Session, SessionRegistry } from './sessions';
import { TotpSealer } from './totp';

/** Five wrong tries, then a pause that doubles with each further wrong try, up to 15 minutes. */
export const THROTTLE = { freeFailures: 5, firstPauseMs: 30_000, maxPauseMs: 15 * 60_000, forgetAfterMs: 24 * 3600_000 };

export function pauseAfter(failures: number): number {
  if (failures < THROTTLE.freeFailures) return 0;
  return Math.min(THROTTLE.maxPauseMs, THROTTLE.firstPauseMs * 2 ** (failures - THROTTLE.freeFailures));
}

export interface AuthDeps {
  db: Db;
  sessions: SessionRegistry;
  settings: SettingsService;
  audit: AuditContext;
  now: () => number;
  kdf: KdfParams;
  demo: boolean;
  log: Logger;
  /** Holds the key that seals admins' second-factor secrets in the database. */
  secrets: SecretStore;
}

const WRONG_CREDENTIALS = 'User name or password/PIN is wrong';

export class AuthService {
  #decoy: Promise<string> | null = null;
  /** Runs on every signed-in call (role check), so it is prepared once. */
  readonly #userById;
  /** Admins' second sign-in step (codes from a phone, recovery codes, admin reset). */
  readonly secondFactor: SecondFactorService;

  constructor(private readonly deps: AuthDeps) {
    this.#userById = deps.db
      .select()
      .from(users)
      .where(eq(users.id, sql.placeholder('id')))
      .prepare();
    this.secondFactor = new SecondFactorService({
      db: deps.db,
      audit: deps.audit,
      now: deps.now,
      sessions: deps.sessions,
      sealer: new TotpSealer(deps.secrets),
      stationName: () => deps.settings.get().stationName,
      // Wrong codes count in the same per-user throttle as wrong passwords.
      gate: {
        assertNotThrottled: (key) => this.assertNotThrottled(key),
        recordFailure: (key, row, session, action) => this.recordFailure(key, row, session, action),
        clearFailures: (key) => this.clearFailures(key),
        signIn: (session, row) => this.signIn(session, row),
      },
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
    const key = input.username;
    this.secondFactor.forget(session);
    this.assertNotThrottled(key);
    const row = this.deps.db.select().from(users).where(eq(users.username, key)).get();
    const ok = row ? await this.matches(row, input.secret) : await this.burnDecoy(input.secret);
    if (!row || !ok) {
      this.recordFailure(key, row ?? null, session, 'auth.login_failed');
      throw new DomainError('unauthenticated', WRONG_CREDENTIALS);
    }
    if (row.disabled) {
      this.audit(row, session, { action: 'auth.login_refused', detail: 'account disabled' });
      throw new DomainError('forbidden', 'This account is disabled. Ask an admin.');
    }
    if (this.secondFactor.required(row)) {
      // Half signed in. Wrong tries stay counted until the code is right too: typing the
      // password again must not buy more guesses at the code.
      this.secondFactor.begin(session, row);
      return this.info(session);
    }
    this.clearFailures(key);
    this.signIn(session, row);
    return this.info(session);
  }

  logout(session: Session): SessionInfo {
    const row = session.userId === null ? undefined : this.userById(session.userId);
    if (row) this.audit(row, session, { action: 'auth.logout' });
    this.secondFactor.forget(session);
    session.userId = null;
    session.locked = false;
    return this.info(session);
  }

  /**
   * Unlocking asks the same person's password or PIN, never the second factor: the window gave it
   * at sign-in and has been this person's ever since; a different person signs out and in.
   */
  async unlock(session: Session, input: { secret: string }): Promise<SessionInfo> {
    const row = session.userId === null ? undefined : this.userById(session.userId);
    if (!row) throw new DomainError('unauthenticated', 'Sign in first');
    this.assertNotThrottled(row.username);
    if (!(await this.matches(row, input.secret))) {
      this.recordFailure(row.username, row, session, 'auth.unlock_failed');
      throw new DomainError('unauthenticated', 'Password or PIN is wrong');
    }
    this.clearFailures(row.username);
    session.locked = false;
    session.lastActivityAt = this.deps.now();
    this.audit(row, session, { action: 'auth.unlocked' });
    return this.info(session);
  }

  async changePassword(session: Session, input: { current: string; next: string }): Promise<null> {
    const row = session.userId === null ? undefined : this.userById(session.userId);
    if (!row) throw new DomainError('unauthenticated', 'Sign in first');
    this.assertNotThrottled(row.username);
    if (!row.passwordHash || !(await verifySecret(input.current, row.passwordHash))) {
      this.recordFailure(row.username, row, session, 'auth.password_change_failed');
      throw new DomainError('unauthenticated', 'Current password is wrong', { issues: [{ path: 'current', message: 'Current password is wrong' }] });
    }
    const passwordHash = await hashSecret(input.next, this.deps.kdf);
    this.deps.db.transaction((tx) => {
      tx.update(users).set({ passwordHash, updatedAt: this.deps.now() }).where(eq(users.id, row.id)).run();
      recordAudit(this.deps.db, this.deps.audit, actorOf(row), { action: 'auth.password_changed', entity: 'user', entityId: row.id });
    });
    return null;
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

  /** Called by the idle timer and the router; audits each lock. */
  lockIdleSessions(): Session[] {
    const idleMs = this.deps.settings.get().idleLockMinutes * 60_000;
    const locked = this.deps.sessions.lockIdle(idleMs);
    for (const s of locked) {
      const row = s.userId === null ? undefined : this.userById(s.userId);
      if (row) this.audit(row, s, { action: 'auth.locked', detail: 'idle' });
      s.push('session/changed', this.info(s));
    }
    return locked;
  }

  private signIn(session: Session, row: UserRow): void {
    session.userId = row.id;
    session.locked = false;
    session.lastActivityAt = this.deps.now();
    this.deps.db.update(users).set({ lastLoginAt: this.deps.now() }).where(eq(users.id, row.id)).run();
    this.audit(row, session, { action: 'auth.login' });
  }

  private async matches(row: UserRow, secret: string): Promise<boolean> {
    if (row.passwordHash && (await verifySecret(secret, row.passwordHash))) return true;
    if (row.pinHash && /^\d{4,8}$/.test(secret) && (await verifySecret(secret, row.pinHash))) return true;
    return false;
  }

  private async burnDecoy(secret: string): Promise<false> {
    this.#decoy ??= decoyHash(this.deps.kdf);
    await verifySecret(secret, await this.#decoy);
    return false;
  }

  private assertNotThrottled(key: string): void {
    const row = this.deps.db.select().from(loginThrottle).where(eq(loginThrottle.key, key)).get();
    const wait = row ? row.lockedUntil - this.deps.now() : 0;
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      throw new DomainError('rate_limited', `Too many wrong tries. Try again in ${seconds} s.`, { retryAfterMs: wait });
    }
  }

  private recordFailure(key: string, row: UserRow | null, session: Session, action: string): void {
    const now = this.deps.now();
    this.deps.db.transaction((tx) => {
      const prev = tx.select().from(loginThrottle).where(eq(loginThrottle.key, key)).get();
      const stale = prev && now - prev.lastFailureAt > THROTTLE.forgetAfterMs;
      const failures = (prev && !stale ? prev.failures : 0) + 1;
      const pause = pauseAfter(failures);
      const values = { failures, lastFailureAt: now, lockedUntil: pause ? now + pause : 0 };
      tx.insert(loginThrottle)
        .values({ key, ...values })
        .onConflictDoUpdate({ target: loginThrottle.key, set: values })
        .run();
      recordAudit(this.deps.db, this.deps.audit, row ? actorOf(row) : { userId: null, username: key }, {
        action,
        entity: 'user',
        entityId: row?.id ?? key,
        detail: `${session.peer}; failure ${failures}${pause ? `; paused ${pause / 1000} s` : ''}`,
      });
    });
    this.deps.log.warn({ username: key, peer: session.peer, action }, 'failed sign-in');
  }

  private clearFailures(key: string): void {
    this.deps.db.delete(loginThrottle).where(eq(loginThrottle.key, key)).run();
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

export function actorOf(row: Pick<UserRow, 'id' | 'username'>): AuditActor {
  return { userId: row.id, username: row.username };
}
