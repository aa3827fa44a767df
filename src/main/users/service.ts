import { and, asc, count, eq, ne } from 'drizzle-orm';
import { PIN_ROLE, PIN_ROLE_MESSAGE } from '../../shared/contract/fields';
import type { UserRecord } from '../../shared/contract/users';
import { DomainError } from '../../shared/envelope';
import type { Role } from '../../shared/roles';
import { recordAudit, type AuditActor, type AuditContext } from '../audit/record';
import { hashSecret, type KdfParams } from '../auth/passwords';
import type { Session } from '../auth/sessions';
import type { Db } from '../db/open';
import { users } from '../db/schema';
import type { TotpSealer } from '../auth/totp';
import { toUserRecord, type UserRow } from './records';
import { enqueueUserSaved, nextVersion } from './site-sync';

export interface UserServiceDeps {
  db: Db;
  audit: AuditContext;
  now: () => number;
  kdf: KdfParams;
  pinKdf: KdfParams;
  /** Opens second-factor secrets for the site hub (users/site-sync.ts): auth.totpSealer. */
  sealer: Pick<TotpSealer, 'open'>;
  /** A user's role or status changed: refresh or end their open sessions. */
  onUserChanged: (userId: number) => void;
  /** A user's password or PIN was set: end their sessions but `except` (the admin's own window) and clear their pause. */
  onCredentialsChanged: (userId: number, except?: Session) => void;
}

export interface NewUser {
  username: string;
  displayName: string;
  role: Role;
  password?: string;
  pin?: string;
}

export class UserService {
  constructor(private readonly deps: UserServiceDeps) {}

  list(): UserRecord[] {
    return this.deps.db.select().from(users).orderBy(asc(users.username)).all().map(toUserRecord);
  }

  async create(input: NewUser, actor: AuditActor): Promise<UserRecord> {
    if (input.pin !== undefined) this.assertMayHavePin(input.role);
    const [passwordHash, pinHash] = await this.hashCredentials(input);
    return this.deps.db.transaction((tx) => {
      if (tx.select({ id: users.id }).from(users).where(eq(users.username, input.username)).get()) {
        throw new DomainError('conflict', `User name “${input.username}” is taken`, {
          issues: [{ path: 'username', message: 'This user name is taken' }],
        });
      }
      const now = this.deps.now();
      const row = tx
        .insert(users)
        .values({
          username: input.username,
          displayName: input.displayName,
          role: input.role,
          passwordHash: passwordHash ?? null,
          pinHash: pinHash ?? null,
          createdAt: now,
          updatedAt: now,
        })
        .returning()
        .get();
      const after = toUserRecord(row);
      recordAudit(this.deps.db, this.deps.audit, actor, { action: 'users.created', entity: 'user', entityId: row.id, after });
      enqueueUserSaved(this.deps.db, now, row.id, actor.username, this.deps.sealer);
      return after;
    });
  }

  update(input: { id: number; displayName?: string; role?: Role; disabled?: boolean }, actor: AuditActor): UserRecord {
    const result = this.deps.db.transaction((tx) => {
      const before = this.find(tx, input.id);
      const losesAdmin = before.role === 'admin' && !before.disabled && ((input.role && input.role !== 'admin') || input.disabled === true);
      if (input.disabled === true && before.id === actor.userId) {
        throw new DomainError('conflict', 'You cannot disable your own account');
      }
      if (losesAdmin && this.otherActiveAdmins(tx, before.id) === 0) {
        throw new DomainError('conflict', 'Dockside needs at least one active admin: make another admin first');
      }
      // Their PIN stops working in any other role: without a password they could not sign in at all.
      if (input.role && input.role !== PIN_ROLE && !before.passwordHash) {
        throw new DomainError('conflict', `Give ${before.displayName} a password first: only dispatchers sign in with a PIN`);
      }
      const row = tx
        .update(users)
        .set({
          displayName: input.displayName ?? before.displayName,
          role: input.role ?? before.role,
          disabled: input.disabled ?? before.disabled,
          updatedAt: nextVersion(before, this.deps.now()),
        })
        .where(eq(users.id, input.id))
        .returning()
        .get();
      const after = toUserRecord(row);
      recordAudit(this.deps.db, this.deps.audit, actor, {
        action: 'users.updated',
        entity: 'user',
        entityId: row.id,
        before: toUserRecord(before),
        after,
      });
      enqueueUserSaved(this.deps.db, this.deps.now(), row.id, actor.username, this.deps.sealer);
      return after;
    });
    this.deps.onUserChanged(result.id);
    return result;
  }

  /** Ends the person's other sessions and clears their sign-in pause: whoever knew the old secret is out. */
  async resetCredentials(input: { id: number; password?: string; pin?: string }, actor: AuditActor, except?: Session): Promise<UserRecord> {
    if (input.pin !== undefined) this.assertMayHavePin(this.find(this.deps.db, input.id).role);
    const [passwordHash, pinHash] = await this.hashCredentials(input);
    const record = this.deps.db.transaction((tx) => {
      const before = this.find(tx, input.id);
      if (pinHash) this.assertMayHavePin(before.role);
      const row = tx
        .update(users)
        .set({
          ...(passwordHash ? { passwordHash } : {}),
          ...(pinHash ? { pinHash } : {}),
          updatedAt: nextVersion(before, this.deps.now()),
        })
        .where(eq(users.id, input.id))
        .returning()
        .get();
      const changed = [passwordHash && 'password', pinHash && 'PIN'].filter(Boolean).join(' and ');
      recordAudit(this.deps.db, this.deps.audit, actor, {
        action: 'users.credentials_reset',
        entity: 'user',
        entityId: row.id,
        before: toUserRecord(before),
        after: toUserRecord(row),
        detail: `${changed} set`,
      });
      enqueueUserSaved(this.deps.db, this.deps.now(), row.id, actor.username, this.deps.sealer);
      return toUserRecord(row);
    });
    this.deps.onCredentialsChanged(record.id, except);
    return record;
  }

  private assertMayHavePin(role: Role): void {
    if (role !== PIN_ROLE) throw new DomainError('invalid', PIN_ROLE_MESSAGE, { issues: [{ path: 'pin', message: PIN_ROLE_MESSAGE }] });
  }

  private find(tx: Pick<Db, 'select'>, id: number): UserRow {
    const row = tx.select().from(users).where(eq(users.id, id)).get();
    if (!row) throw new DomainError('not_found', `No user with id ${id}`);
    return row;
  }

  private otherActiveAdmins(tx: Pick<Db, 'select'>, exceptId: number): number {
    return (
      tx
        .select({ n: count() })
        .from(users)
        .where(and(eq(users.role, 'admin'), eq(users.disabled, false), ne(users.id, exceptId)))
        .get()?.n ?? 0
    );
  }

  private hashCredentials(input: { password?: string; pin?: string }): Promise<[string | undefined, string | undefined]> {
    return Promise.all([
      input.password === undefined ? undefined : hashSecret(input.password, this.deps.kdf),
      input.pin === undefined ? undefined : hashSecret(input.pin, this.deps.pinKdf),
    ]);
  }
}
