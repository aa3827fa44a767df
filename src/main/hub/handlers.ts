import { actorFromUser } from '../ipc/actor';
import type { HandlerRegistry } from '../ipc/handlers';
import type { SiteService } from './service';

export function registerSiteHandlers(r: HandlerRegistry, site: SiteService): void {
  r.add('site/status', () => site.status())
    .add('site/join', (req, ctx) => site.join(req, actorFromUser(ctx)))
    .add('site/leave', (_req, ctx) => site.leave(actorFromUser(ctx)))
    .add('site/conflicts', (req) => site.conflicts.list(req.status))
    .add('site/resolve', (req, ctx) => {
      const resolved = site.conflicts.resolve(req.id, req.action, actorFromUser(ctx));
      site.changed();
      return resolved;
    });
}
