import type { HandlerRegistry } from '../ipc/handlers';
import { actorFromUser } from '../ipc/actor';
import type { UserService } from './service';

export function registerUserHandlers(r: HandlerRegistry, users: UserService): void {
  r.add('users/list', () => users.list())
    .add('users/create', (req, ctx) => users.create(req, actorFromUser(ctx)))
    .add('users/update', (req, ctx) => users.update(req, actorFromUser(ctx)))
    .add('users/reset-credentials', (req, ctx) => users.resetCredentials(req, actorFromUser(ctx), ctx.session));
}
