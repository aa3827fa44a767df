import { actorFromUser } from '../ipc/actor';
import type { HandlerRegistry } from '../ipc/handlers';
import type { ScannerService } from './service';

export function registerScannerHandlers(r: HandlerRegistry, scanners: ScannerService): void {
  r.add('scanners/status', () => scanners.overview())
    .add('scanners/devices', () => scanners.devices())
    .add('scanners/pair-start', (_req, ctx) => scanners.startPairing(actorFromUser(ctx)))
    .add('scanners/pair-cancel', () => scanners.cancelPairing())
    .add('scanners/update', (req, ctx) => scanners.update(req.id, req, actorFromUser(ctx)))
    .add('scanners/remove', (req, ctx) => scanners.remove(req.id, actorFromUser(ctx)));
}
