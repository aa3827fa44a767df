import type { HandlerRegistry } from '../ipc/handlers';
import type { AuthService } from './service';

export function registerAuthHandlers(r: HandlerRegistry, auth: AuthService): void {
  r.add('session/status', (_req, { session }) => auth.info(session))
    .add('setup/create-admin', (req, { session }) => auth.setup(session, req))
    .add('auth/login', (req, { session }) => auth.login(session, req))
    .add('auth/logout', (_req, { session }) => auth.logout(session))
    .add('auth/unlock', (req, { session }) => auth.unlock(session, req))
    .add('auth/activity', (_req, { session }) => auth.touch(session))
    .add('auth/change-password', (req, { session }) => auth.changePassword(session, req));
}
