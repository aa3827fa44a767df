import { eq } from 'drizzle-orm';
import { DomainError } from '../../shared/envelope';
import { users } from '../db/schema';
import type { Station } from './station';

/**
 * The way back in when the last admin has lost both their phone and their recovery codes: someone
 * with the station PC's own account (who can read the data folder anyway) resets that admin's
 * second factor from the console. The admin then sets up a phone at the next sign-in with their
 * password; the reset is audited under the OS account that ran it.
 *
 *   node out/main/host.js --data-dir DIR --reset-second-factor USER     (browser host)
 *   dockside --reset-second-factor=USER                                  (the installed app)
 */
export function resetSecondFactorFromConsole(station: Station, username: string, osUser: string): string {
  const row = station.database.db.select().from(users).where(eq(users.username, username)).get();
  if (!row) throw new DomainError('not_found', `No user named “${username}” on this station`);
  const after = station.auth.secondFactor.reset(row.id, { userId: null, username: `console (${osUser})` });
  return `${after.displayName} (${after.username}): second factor reset. They sign in with their password and set up a phone.`;
}
