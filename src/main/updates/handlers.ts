import { actorFromUser } from '../ipc/actor';
import type { HandlerRegistry } from '../ipc/handlers';
import type { UpdateService } from './service';

export function registerUpdateHandlers(r: HandlerRegistry, updates: UpdateService): void {
  r.add('updates/status', () => updates.status()).add('updates/check', (_req, ctx) => updates.check(actorFromUser(ctx)));
}
