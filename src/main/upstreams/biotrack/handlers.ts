import type { HandlerRegistry } from '../../ipc/handlers';
import type { BioTrackInventory } from './inventory';

export function registerBioTrackHandlers(r: HandlerRegistry, inventory: BioTrackInventory): void {
  r.add('biotrack/inventory', (req) => inventory.inventory(req.refresh ?? false))
    .add('biotrack/inventory-report', (req) => inventory.report(req))
    .add('biotrack/lab-lookup', (req) => inventory.labLookup(req.barcode));
}
