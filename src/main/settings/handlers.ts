import type { AuditContext } from '../audit/record';
import type { HandlerRegistry } from '../ipc/handlers';
import { actorFromUser } from '../ipc/actor';
import type { SettingsService } from './service';

export function registerSettingsHandlers(r: HandlerRegistry, settings: SettingsService, audit: AuditContext): void {
  r.add('settings/get', () => settings.get()).add('settings/update', (req, ctx) => settings.update(req, actorFromUser(ctx), audit));
}
