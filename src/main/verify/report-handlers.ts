import { actorFromUser } from '../ipc/actor';
import type { CallContext, HandlerRegistry } from '../ipc/handlers';
import type { VerifyReports } from './reports';

function viewerOf(ctx: CallContext) {
  if (!ctx.user) throw new Error('verification report call without a user');
  return ctx.user;
}

export function registerVerifyReportHandlers(r: HandlerRegistry, reports: VerifyReports): void {
  const person = (ctx: CallContext) => ({ ...actorFromUser(ctx), username: viewerOf(ctx).username });
  r.add('verify/snapshot-take', (req, ctx) => reports.takeSnapshot(req, person(ctx)))
    .add('verify/snapshots', () => reports.snapshots())
    .add('verify/snapshot-rows', (req) => reports.snapshotRows(req.snapshotId, req.offset, req.limit))
    .add('verify/compare', (req, ctx) => reports.compare(req.a, req.b, person(ctx), viewerOf(ctx)))
    .add('verify/compare-cancel', (req, ctx) => reports.cancel(req.jobId, viewerOf(ctx)))
    .add('verify/compare-view', (req, ctx) => reports.view(req.jobId, req.offset, req.limit, viewerOf(ctx)))
    .add('verify/compare-export', (req, ctx) => reports.exportCompare(req.jobId, req.format, viewerOf(ctx)));
}
