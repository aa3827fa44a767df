import type { HandlerRegistry } from '../ipc/handlers';
import type { SettingsService } from '../settings/service';
import { dataFolderUsage } from './usage';

export function registerFilesHandlers(r: HandlerRegistry, opts: { filesDir: string; dbName: string; settings: SettingsService }): void {
  r.add('files/usage', () => dataFolderUsage(opts.filesDir, opts.dbName, opts.settings.get().filesKeepDays));
}
