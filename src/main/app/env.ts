import fs from 'node:fs';
import { username as usernameField } from '../../shared/contract/fields';

/**
 * Unattended installs create the first admin from DOCKSIDE_ADMIN_USERNAME and
 * DOCKSIDE_ADMIN_PASSWORD (or DOCKSIDE_ADMIN_PASSWORD_FILE, so the secret need not sit in the
 * environment). Both the Electron shell and the browser host read it.
 */
export function initialAdminFromEnv(env: NodeJS.ProcessEnv): { username: string; password: string } | undefined {
  const username = env.DOCKSIDE_ADMIN_USERNAME?.trim();
  const file = env.DOCKSIDE_ADMIN_PASSWORD_FILE;
  const password = file ? fs.readFileSync(file, 'utf8').trim() : env.DOCKSIDE_ADMIN_PASSWORD;
  if (!username || !password) return undefined;
  const parsed = usernameField.safeParse(username);
  if (!parsed.success) throw new Error(`DOCKSIDE_ADMIN_USERNAME: ${parsed.error.issues[0].message}`);
  if (password.length < 8) throw new Error('DOCKSIDE_ADMIN_PASSWORD needs at least 8 characters');
  return { username: parsed.data, password };
}
