import type { UserRecord } from '../../shared/contract/users';
import type { users } from '../db/schema';

export type UserRow = typeof users.$inferSelect;

/** What leaves main about a user: never the hashes. Also the audit snapshot. */
export function toUserRecord(row: UserRow): UserRecord {
  return {
    id: row.id,
    username: row.username,
    displayName: row.displayName,
    role: row.role,
    disabled: row.disabled,
    hasPassword: row.passwordHash !== null,
    hasPin: row.pinHash !== null,
    createdAt: row.createdAt,
    lastLoginAt: row.lastLoginAt,
    secondFactorSince: row.totpEnrolledAt,
  };
}
