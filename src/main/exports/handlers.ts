import type { HandlerRegistry } from '../ipc/handlers';
import type { BioTrackInventory } from '../upstreams/biotrack/inventory';
import type { ExportService } from './service';

const viewerOf = (user: { id: number; role: string } | null) => {
  if (!user) throw new Error('export call without a user');
  return user;
};

export function registerExportHandlers(r: HandlerRegistry, exports: ExportService, inventory: BioTrackInventory): void {
  r.add('exports/start', async (req, ctx) => {
    if (req.what !== 'inventory') return exports.start(req.what, req.format, viewerOf(ctx.user));
    // The file is the report as the screen shows it: the cached copy, fetched first only when old or missing.
    await inventory.inventory();
    return exports.start(req.what, req.format, viewerOf(ctx.user), inventory.cacheKey());
  }).add('exports/chunk', (req, ctx) => exports.chunk(req.jobId, req.offset, viewerOf(ctx.user)));
}
