import type { HandlerRegistry } from '../ipc/handlers';
import type { ExportService } from './service';

export function registerExportHandlers(r: HandlerRegistry, exports: ExportService): void {
  r.add('exports/start', (req, ctx) => exports.start(req.what, req.format, ctx.user?.id ?? null)).add('exports/chunk', (req) =>
    exports.chunk(req.jobId, req.offset),
  );
}
