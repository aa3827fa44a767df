import { and, eq, isNull, sql } from 'drizzle-orm';
import QRCode from 'qrcode';
import type { SecondFactorEnrolment, SecondFactorStep, SessionUser, UserRecord } from '../../shared/contract';
import { DomainError, type AppError } from '../../shared/envelope';
import { recordAudit, type AuditActor, type AuditContext } from '../audit/record';
import type { Db } from '../db/open';
import { recoveryCodes, users } from '../db/schema';
import { toUserRecord, type UserRow } from '../users/records';
import { enqueueUserSaved, nextVersion } from '../users/site-sync';
import { hashRecoveryCode, newRecoveryCode, RECOVERY_CODE_COUNT, recoveryCodeMatches } from './recovery-codes';
import type { Session, SessionRegistry } from './sessions';
import { matchingStep, newTotpSecret, totpUri, type TotpSealer } from './totp';

/** What the second factor borrows from sign-in: the per-user throttle (shared with passwords) and signing in. */
export interface SignInGate {
  assertNotThrottled(key: string): void;
  recordFailure(key: string, row: UserRow | null, session: Session, action: string): void;
  clearFailures(key: string): void;
  /** The person is who they say: the window is theirs (user, last sign-in time, audit). */
  signIn(session: Session, row: UserRow): void;
}

export interface SecondFactorDeps {
  db: Db;
  audit: AuditContext;
  now: () => number;
  sessions: SessionRegistry;
  sealer: TotpSealer;
  /** Shown in the authenticator app next to the user name, so a person with two stations tells them apart. */
  stationName: () => string;
  gate: SignInGate;
  /** Signs the person out of every window (audited, each told why). */
  endSessionsOf: (userId: number) => void;
  /** A window's sign-in state changed outside its own call (reset by an admin, made admin): tell it. */
  changed: (session: Session) => void;
}

/** A sign-in waits this long for its second factor, counted from its last step; then the password is asked again. */
export const PENDING_SIGN_IN_MS = 15 * 60_000;

interface Pending {
  userId: number;
  stage: 'verify' | 'enrol';
  afterRecoveryCode: boolean;
  touchedAt: number;
  /** The secret being set up, kept here (not in the database) until a code from the phone confirms it. */
  enrolSecret: string | null;
}

const wrongCode = (message: string) => new DomainError('unauthenticated', message, { issues: [{ path: 'code', message }] });

/**
 * Admins' second factor: RFC 6238 codes from a phone, with one-time recovery codes. An admin whose
 * password is right is only half signed in: the window has no user (`session.userId` stays null,
 * so nothing that checks it can mistake the window for a signed-in one) and may call only the
 * 'second-factor' channels, until a code from the phone — or, the first time, setting the phone
 * up — finishes the sign-in.
 */
export class SecondFactorService {
  /** Per window: the sign-in waiting for its second factor. */
  readonly #pending = new WeakMap<Session, Pending>();
  /**
   * Per window: whose second factor it passed. Keyed to the user, so a window that passed for one
   * person never counts for another, and a person made admin while signed in is asked for it.
   */
  readonly #passed = new WeakMap<Session, number>();

  constructor(private readonly deps: SecondFactorDeps) {}

  required(row: UserRow): boolean {
    return row.role === 'admin';
  }

  /** The password (or PIN) was right: the window now waits for the code, or for the phone to be set up. */
  begin(session: Session, row: UserRow): void {
    session.userId = null;
    session.locked = false;
    this.#passed.delete(session);
    const stage = row.totpSecret ? 'verify' : 'enrol';
    this.#pending.set(session, { userId: row.id, stage, afterRecoveryCode: false, touchedAt: this.deps.now(), enrolSecret: null });
    this.audit(row, session, 'auth.second_factor_asked', stage === 'verify' ? 'password right; code next' : 'password right; phone to set up');
  }

  /** Leaves the second step (sign out, cancel, a new sign-in in the same window). */
  forget(session: Session): void {
    this.#pending.delete(session);
    this.#passed.delete(session);
  }

  step(session: Session): SecondFactorStep | null {
    const p = this.live(session);
    const row = p && this.user(p.userId);
    if (!p || !row) return null;
    return { stage: p.stage, username: row.username, displayName: row.displayName, afterRecoveryCode: p.afterRecoveryCode };
  }

  /** For the router: the person a window's second step is for, or why the call is refused. */
  authorise(session: Session): SessionUser | AppError {
    if (session.userId !== null) return { code: 'conflict', message: 'You are already signed in.' };
    const p = this.live(session);
    if (!p) return { code: 'unauthenticated', message: 'Sign in with your user name and password first.' };
    const row = this.user(p.userId);
    if (!row || row.disabled) {
      this.forget(session);
      return { code: 'unauthenticated', message: 'Your account was disabled or removed. Sign in again.' };
    }
    return { id: row.id, username: row.username, displayName: row.displayName, role: row.role };
  }

  /**
   * For the router, on every signed-in call: a window of an admin that has not passed the second
   * factor (a person made admin while signed in) goes to the second step instead.
   */
  demand(session: Session, row: UserRow): AppError | null {
    if (row.disabled || !this.required(row) || this.#passed.get(session) === row.id) return null;
    this.begin(session, row);
    this.deps.changed(session);
    return { code: 'unauthenticated', message: 'Admins sign in with a code from their phone as well. Enter it to go on.' };
  }

  /** The second step: a code from the phone signs in; a recovery code leads to setting up a new phone. */
  verify(session: Session, input: string): void {
    const { row, pending } = this.waiting(session, 'verify');
    this.deps.gate.assertNotThrottled(row.username);
    const code = input.replace(/\s/g, '');
    if (/^\d{6}$/.test(code)) this.checkCode(session, row, code);
    else this.useRecoveryCode(session, row, pending, code);
  }

  /** The secret to set up, as a QR code and as text; the same one until a code confirms it. */
  async enrolment(session: Session): Promise<SecondFactorEnrolment> {
    const { row, pending } = this.waiting(session, 'enrol');
    const secret = (pending.enrolSecret ??= newTotpSecret());
    const uri = totpUri(secret, `${row.username} (${this.deps.stationName()})`);
    const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return { secret, uri, qrDataUrl: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` };
  }

  /** A code from the newly set-up phone: keeps the secret, signs in, and answers new recovery codes (once). */
  enrol(session: Session, code: string): string[] {
    const { row, pending } = this.waiting(session, 'enrol');
    if (!pending.enrolSecret) throw new DomainError('conflict', 'Show the QR code first, then type the code your phone shows.');
    this.deps.gate.assertNotThrottled(row.username);
    const now = this.deps.now();
    const step = matchingStep(pending.enrolSecret, code, now);
    if (step === null) {
      this.deps.gate.recordFailure(row.username, row, session, 'auth.second_factor_setup_failed');
      throw wrongCode('That code does not match. Check that the time on your phone is right, then type the newest code.');
    }
    // Sealed before the transaction: the first seal writes the station's key to its SecretStore.
    const sealed = this.deps.sealer.seal(pending.enrolSecret, row.id);
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    this.deps.db.transaction((tx) => {
      const after = tx
        .update(users)
        .set({ totpSecret: sealed, totpEnrolledAt: now, totpLastStep: step, updatedAt: nextVersion(row, now) })
        .where(eq(users.id, row.id))
        .returning()
        .get();
      tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, row.id)).run();
      tx.insert(recoveryCodes)
        .values(codes.map((c) => ({ userId: row.id, codeHash: hashRecoveryCode(c), createdAt: now })))
        .run();
      recordAudit(this.deps.db, this.deps.audit, actorOf(row), {
        action: 'auth.second_factor_set_up',
        entity: 'user',
        entityId: row.id,
        before: toUserRecord(row),
        after: toUserRecord(after),
        detail: `${session.peer}; ${pending.afterRecoveryCode ? 'new phone after a recovery code' : 'phone set up'}; ${RECOVERY_CODE_COUNT} new recovery codes`,
      });
      enqueueUserSaved(this.deps.db, now, row.id, row.username, this.deps.sealer);
    });
    this.finish(session, row);
    return codes;
  }

  /**
   * An admin clears another admin's second factor (phone and recovery codes lost): their windows
   * are signed out, and they set up a phone at their next sign-in.
   */
  reset(id: number, actor: AuditActor): UserRecord {
    const record = this.deps.db.transaction((tx) => {
      const before = tx.select().from(users).where(eq(users.id, id)).get();
      if (!before) throw new DomainError('not_found', `No user with id ${id}`);
      if (before.id === actor.userId) {
        throw new DomainError('conflict', 'You cannot reset your own second factor. For a new phone, sign out and sign in with a recovery code.');
      }
      if (!before.totpSecret)
        throw new DomainError('conflict', `${before.displayName} has no second factor to reset: they set one up at their next sign-in.`);
      const after = tx
        .update(users)
        .set({ totpSecret: null, totpEnrolledAt: null, totpLastStep: null, updatedAt: nextVersion(before, this.deps.now()) })
        .where(eq(users.id, id))
        .returning()
        .get();
      tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, id)).run();
      recordAudit(this.deps.db, this.deps.audit, actor, {
        action: 'users.second_factor_reset',
        entity: 'user',
        entityId: id,
        before: toUserRecord(before),
        after: toUserRecord(after),
        detail: 'recovery codes deleted; signed out everywhere; sets up a phone at the next sign-in',
      });
      enqueueUserSaved(this.deps.db, this.deps.now(), id, actor.username, this.deps.sealer);
      return toUserRecord(after);
    });
    this.deps.endSessionsOf(record.id);
    return record;
  }

  private checkCode(session: Session, row: UserRow, code: string): void {
    const secret = row.totpSecret && this.deps.sealer.open(row.totpSecret, row.id);
    if (!secret) {
      throw new DomainError('conflict', 'This station cannot read your second factor. Use a recovery code, or ask another admin to reset it.');
    }
    const step = matchingStep(secret, code, this.deps.now());
    if (step === null) {
      this.deps.gate.recordFailure(row.username, row, session, 'auth.second_factor_failed');
      throw wrongCode('That code is wrong. Type the newest code your phone shows.');
    }
    // Each time step's code works once: one seen over a shoulder, or typed twice, is refused.
    const taken = this.deps.db
      .update(users)
      .set({ totpLastStep: step })
      .where(and(eq(users.id, row.id), sql`coalesce(${users.totpLastStep}, -1) < ${step}`))
      .run();
    if (taken.changes === 0) {
      this.deps.gate.recordFailure(row.username, row, session, 'auth.second_factor_reused');
      throw wrongCode('That code was already used. Wait for the next code on your phone.');
    }
    this.finish(session, row);
  }

  private useRecoveryCode(session: Session, row: UserRow, pending: Pending, code: string): void {
    const unused = this.deps.db
      .select()
      .from(recoveryCodes)
      .where(and(eq(recoveryCodes.userId, row.id), isNull(recoveryCodes.usedAt)))
      .all();
    const hit = unused.find((c) => recoveryCodeMatches(code, c.codeHash));
    if (!hit) {
      this.deps.gate.recordFailure(row.username, row, session, 'auth.recovery_code_failed');
      throw wrongCode('That recovery code is wrong, or it was used before.');
    }
    this.deps.db.transaction((tx) => {
      tx.update(recoveryCodes).set({ usedAt: this.deps.now() }).where(eq(recoveryCodes.id, hit.id)).run();
      recordAudit(this.deps.db, this.deps.audit, actorOf(row), {
        action: 'auth.recovery_code_used',
        entity: 'user',
        entityId: row.id,
        detail: `${session.peer}; ${unused.length - 1} left; a new phone is set up next`,
      });
    });
    this.deps.gate.clearFailures(row.username);
    // A recovery code means the phone is gone: the person sets up a new one before the window is
    // theirs, and that replaces the old secret. Until it does, the old phone's codes still count,
    // so leaving half way never leaves the account without a second factor.
    Object.assign(pending, { stage: 'enrol', afterRecoveryCode: true, enrolSecret: null, touchedAt: this.deps.now() });
  }

  private finish(session: Session, row: UserRow): void {
    this.deps.gate.clearFailures(row.username);
    this.#pending.delete(session);
    this.deps.gate.signIn(session, row);
    this.#passed.set(session, row.id);
  }

  /** The window's second step, checked against the database again: the user may have changed meanwhile. */
  private waiting(session: Session, stage: Pending['stage']): { row: UserRow; pending: Pending } {
    const pending = this.live(session);
    const row = pending && this.user(pending.userId);
    if (!pending || !row || row.disabled) {
      this.forget(session);
      throw new DomainError('unauthenticated', 'Sign in with your user name and password first.');
    }
    if (pending.stage === 'verify' && !row.totpSecret) {
      this.forget(session);
      throw new DomainError('unauthenticated', 'An admin reset your second factor. Sign in again to set up your phone.');
    }
    if (pending.stage !== stage) {
      throw new DomainError(
        'conflict',
        stage === 'enrol' ? 'Type the code your phone shows. For a new phone, use a recovery code first.' : 'Set up your phone first.',
      );
    }
    pending.touchedAt = this.deps.now();
    return { row, pending };
  }

  private live(session: Session): Pending | null {
    const p = this.#pending.get(session);
    if (!p) return null;
    if (this.deps.now() - p.touchedAt > PENDING_SIGN_IN_MS) {
      this.#pending.delete(session);
      return null;
    }
    return p;
  }

  private user(id: number): UserRow | undefined {
    return this.deps.db.select().from(users).where(eq(users.id, id)).get();
  }

  private audit(row: UserRow, session: Session, action: string, detail: string): void {
    recordAudit(this.deps.db, this.deps.audit, actorOf(row), { action, entity: 'user', entityId: row.id, detail: `${session.peer}; ${detail}` });
  }
}

function actorOf(row: Pick<UserRow, 'id' | 'username'>): AuditActor {
  return { userId: row.id, username: row.username };
}
