import type { HandlerRegistry } from '../ipc/handlers';
import { actorFromUser } from '../ipc/actor';
import type { ImportService } from './service';

export function registerImportHandlers(r: HandlerRegistry, imports: ImportService): void {
  // The preview's row count lets the job show time left; remembered per upload.
  const totals = new Map<string, number>();
  r.add('imports/upload', (req) => imports.upload(req))
    .add('imports/preview', async (req) => {
      const { uploadId, ...options } = req;
      const p = await imports.preview(uploadId, options);
      totals.set(req.uploadId, p.totals.rows);
      return p;
    })
    .add('imports/start', (req, ctx) => {
      const { uploadId, ...options } = req;
      return imports.start(uploadId, options, actorFromUser(ctx), totals.get(uploadId) ?? null);
    })
    .add('imports/rejected-report', (req, ctx) => {
      if (!ctx.user) throw new Error('rejected-report call without a user');
      return imports.rejectedReport(req.jobId, ctx.user);
    });
}
