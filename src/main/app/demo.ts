import type { AuthService } from '../auth/service';
import type { UserService } from '../users/service';
import type { Logger } from './logger';

/** Sign-ins for the demo, printed by the host and listed in README; only ever seeded in demo mode. */
export const DEMO_USERS = [
  { username: 'admin', displayName: 'Demo Admin', role: 'admin', password: 'dockside-admin' },
  { username: 'billing', displayName: 'Demo Biller', role: 'biller', password: 'dockside-billing' },
  { username: 'dock1', displayName: 'Dock Door 1', role: 'dispatcher', password: 'dockside-dock1', pin: '1234' },
] as const;

export async function seedDemoData(deps: { users: UserService; auth: AuthService; logger: Logger }): Promise<void> {
  const [admin, ...rest] = DEMO_USERS;
  const adminRow = await deps.auth.createFirstAdmin(admin);
  const actor = { userId: adminRow.id, username: adminRow.username };
  for (const u of rest) await deps.users.create({ ...u }, actor);
  deps.logger.info({ users: DEMO_USERS.map((u) => u.username) }, 'seeded demo users');
}
