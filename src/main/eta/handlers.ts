import { DomainError } from '../../shared/envelope';
import type { ExportService } from '../exports/service';
import { actorFromUser } from '../ipc/actor';
import type { CallContext, HandlerRegistry } from '../ipc/handlers';
import { etaExportTable } from './export';
import type { EtaService } from './service';

const viewerOf = (ctx: CallContext) => {
  if (!ctx.user) throw new Error('ETA call without a user');
  return ctx.user;
};

export function registerEtaHandlers(r: HandlerRegistry, eta: EtaService, exports: ExportService): void {
  r.add('eta/customers', () => eta.customers())
    .add('eta/customer-save', (req, ctx) => eta.saveCustomer(req, actorFromUser(ctx)))
    .add('eta/customer-delete', (req, ctx) => eta.deleteCustomer(req.id, actorFromUser(ctx)))
    .add('eta/statuses', () => eta.statuses())
    .add('eta/status-save', (req, ctx) => eta.saveStatus(req, actorFromUser(ctx)))
    .add('eta/statuses-refresh', (_req, ctx) => eta.refreshStatuses(actorFromUser(ctx)))
    .add('eta/sensitive-columns', () => eta.sensitiveColumns())
    .add('eta/sensitive-columns-save', (req, ctx) => eta.saveSensitiveColumns(req.columns, actorFromUser(ctx)))
    .add('eta/run', (req, ctx) => eta.run(req.customerId, req.refresh ?? false, viewerOf(ctx)))
    .add('eta/job', (req, ctx) => eta.jobView(req.jobId, viewerOf(ctx)))
    .add('eta/retry', (req, ctx) => eta.retry(req.jobId, viewerOf(ctx)))
    .add('eta/report-view', (req, ctx) => eta.page(req, viewerOf(ctx)))
    .add('eta/export', (req, ctx) => {
      const viewer = viewerOf(ctx);
      const { summary, matching, label } = eta.filtered(req.jobId, viewer, req.filters, req.sort);
      if (matching.length === 0) throw new DomainError('invalid', 'No orders match the filters: there is nothing to export');
      const table = etaExportTable(
        matching.map((o) => ({ ...o, statusLabel: label(o.productionStatus) })),
        eta.sensitiveColumns(),
      );
      return exports.start('eta', req.format, viewer, undefined, { baseName: summary.reportId, table });
    });
}
