import type { HandlerRegistry } from '../ipc/handlers';
import type { ExportService } from './service';

const viewerOf = (user: { id: number; role: string } | null) => {
  if (!user) throw new Error('export call without a user');
  return user;
};

export function registerExportHandlers(r: HandlerRegistry, exports: ExportService): void {
  r.add('exports/start', (req, ctx) => exports.start(req.what, req.format, viewerOf(ctx.user))).add('exports/chunk', (req, ctx) =>
    exports.chunk(req.jobId, req.offset, viewerOf(ctx.user)),
  );
}
