import type { HandlerRegistry } from '../ipc/handlers';
import type { SettingsService } from '../settings/service';
import { provisioningStatus } from './apply';

export function registerProvisioningHandlers(r: HandlerRegistry, settings: SettingsService): void {
  r.add('provisioning/status', () => provisioningStatus(settings));
}
