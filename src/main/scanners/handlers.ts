import type { HandlerRegistry } from '../ipc/handlers';
import type { ScannerService } from './service';

export function registerScannerHandlers(r: HandlerRegistry, scanners: ScannerService): void {
  r.add('scanners/status', () => scanners.overview())
    .add('scanners/devices', () => scanners.devices())
    .add('scanners/pair-start', () => scanners.startPairing())
    .add('scanners/pair-cancel', () => scanners.cancelPairing())
    .add('scanners/update', (req) => scanners.update(req.id, req))
    .add('scanners/remove', (req) => scanners.remove(req.id));
}
