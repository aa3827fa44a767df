import { randomBytes } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import { ERP_ORGS, type ErpOrg } from '../../shared/contract/erp';
import {
  DEFAULT_SENSITIVE_COLUMNS,
  ETA_STALL_MS,
  type EtaCustomer,
  type EtaFilters,
  type EtaJobView,
  type EtaNameKind,
  type EtaOrder,
  type EtaReportPage,
  type EtaReportSummary,
  type EtaSort,
  type EtaSource,
  type EtaStatus,
} from '../../shared/contract/eta';
import { DomainError } from '../../shared/envelope';
import { recordAudit, type AuditActor, type AuditContext } from '../audit/record';
import type { Db } from '../db/open';
import { etaCustomers, etaStatuses } from '../db/schema';
import type { JobContext, JobService } from '../jobs/service';
import type { Logger } from '../platform/logger';
import type { SettingsService } from '../settings/service';
import type { ErpService } from '../upstreams/erp/service';

export const SENSITIVE_COLUMNS_KEY = 'eta.sensitiveColumns';
const JOB_KIND = 'eta-report';
/** Finished reports kept in memory for paging, filtering and export (the newest ones). */
const KEEP_REPORTS = 8;

type CustomerRow = typeof etaCustomers.$inferSelect;
const customerView = (r: CustomerRow): EtaCustomer => ({
  id: r.id,
  reportId: r.reportId,
  displayName: r.displayName,
  dd: r.ddName && r.ddKind ? { name: r.ddName, kind: r.ddKind } : null,
  cbr: r.cbrName && r.cbrKind ? { name: r.cbrName, kind: r.cbrKind } : null,
});

interface Report {
  summary: EtaReportSummary;
  rows: EtaOrder[];
}

/** The report's rows in the order asked (then order number, revision, instance: a stable order). */
function compare(sort: EtaSort | undefined, labels: (s: string | null) => string) {
  const column = sort?.column ?? 'dateScheduled';
  const sign = sort?.direction === 'desc' ? -1 : 1;
  const value = (r: EtaOrder): string | number | null => (column === 'productionStatus' ? labels(r.productionStatus) : r[column]);
  return (a: EtaOrder, b: EtaOrder) => {
    const x = value(a);
    const y = value(b);
    // Empty values last, whichever the direction.
    const c =
      x === null || y === null
        ? x === y
          ? 0
          : x === null
            ? 1
            : -1
        : sign * (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y)));
    return c || a.orderNo.localeCompare(b.orderNo) || a.orderRev - b.orderRev || a.org.localeCompare(b.org);
  };
}

/**
 * ETA reports: customers and the status mapping (admin), the report as a job (each instance where
 * the customer has a name, through the station cache, merged), and its filtered, sorted pages.
 */
export class EtaService {
  readonly #reports = new Map<number, Report>();

  constructor(
    private readonly deps: {
      db: Db;
      audit: AuditContext;
      now: () => number;
      jobs: JobService;
      erp: ErpService;
      settings: SettingsService;
      log: Logger;
    },
  ) {}

  // ---- customers ---------------------------------------------------------------------------

  customers(): EtaCustomer[] {
    return this.deps.db.select().from(etaCustomers).orderBy(asc(etaCustomers.displayName)).all().map(customerView);
  }

  customer(id: number): EtaCustomer {
    const row = this.deps.db.select().from(etaCustomers).where(eq(etaCustomers.id, id)).get();
    if (!row) throw new DomainError('not_found', 'No such customer: it may have been removed. Pick another.');
    return customerView(row);
  }

  saveCustomer(
    input: { id?: number; displayName: string; dd: { name: string; kind: EtaNameKind } | null; cbr: { name: string; kind: EtaNameKind } | null },
    actor: AuditActor,
  ): EtaCustomer {
    if (!input.dd && !input.cbr)
      throw new DomainError('invalid', 'Give the customer a name in DD, in CBR or in both: the report reads only where it has one', {
        issues: [{ path: 'dd', message: 'Enter a DD name or a CBR name' }],
      });
    const { db, now } = this.deps;
    return db.transaction((tx) => {
      const clash = tx.select().from(etaCustomers).where(eq(etaCustomers.displayName, input.displayName)).get();
      if (clash && clash.id !== input.id)
        throw new DomainError('conflict', `There is already a customer named “${input.displayName}”`, {
          issues: [{ path: 'displayName', message: 'This name is taken' }],
        });
      const values = {
        displayName: input.displayName,
        ddName: input.dd?.name ?? null,
        ddKind: input.dd?.kind ?? null,
        cbrName: input.cbr?.name ?? null,
        cbrKind: input.cbr?.kind ?? null,
        updatedAt: now(),
      };
      let row: CustomerRow;
      if (input.id !== undefined) {
        const before = tx.select().from(etaCustomers).where(eq(etaCustomers.id, input.id)).get();
        if (!before) throw new DomainError('not_found', 'No such customer: it may have been removed');
        row = tx.update(etaCustomers).set(values).where(eq(etaCustomers.id, input.id)).returning().get();
        recordAudit(this.deps.db, this.deps.audit, actor, {
          action: 'eta.customer_updated',
          entity: 'eta_customer',
          entityId: row.id,
          before: customerView(before),
          after: customerView(row),
        });
      } else {
        // Random, not derived from the name: file names say which report without saying whose.
        const reportId = `eta_${randomBytes(9).toString('base64url')}`;
        row = tx
          .insert(etaCustomers)
          .values({ ...values, reportId, createdAt: now() })
          .returning()
          .get();
        recordAudit(this.deps.db, this.deps.audit, actor, {
          action: 'eta.customer_created',
          entity: 'eta_customer',
          entityId: row.id,
          after: customerView(row),
        });
      }
      return customerView(row);
    });
  }

  deleteCustomer(id: number, actor: AuditActor): { deleted: number } {
    return this.deps.db.transaction((tx) => {
      const before = tx.select().from(etaCustomers).where(eq(etaCustomers.id, id)).get();
      if (!before) throw new DomainError('not_found', 'No such customer: it may have been removed already');
      tx.delete(etaCustomers).where(eq(etaCustomers.id, id)).run();
      recordAudit(this.deps.db, this.deps.audit, actor, {
        action: 'eta.customer_deleted',
        entity: 'eta_customer',
        entityId: id,
        before: customerView(before),
      });
      return { deleted: id };
    });
  }

  // ---- status mapping ----------------------------------------------------------------------

  statuses(): EtaStatus[] {
    return this.deps.db
      .select()
      .from(etaStatuses)
      .orderBy(asc(etaStatuses.status))
      .all()
      .map((r) => ({ status: r.status, displayName: r.displayName, active: r.active }));
  }

  saveStatus(input: EtaStatus, actor: AuditActor): EtaStatus[] {
    this.deps.db.transaction((tx) => {
      const before = tx.select().from(etaStatuses).where(eq(etaStatuses.status, input.status)).get();
      tx.insert(etaStatuses)
        .values({ ...input, updatedAt: this.deps.now() })
        .onConflictDoUpdate({ target: etaStatuses.status, set: { displayName: input.displayName, active: input.active, updatedAt: this.deps.now() } })
        .run();
      recordAudit(this.deps.db, this.deps.audit, actor, {
        action: 'eta.status_mapped',
        entity: 'eta_status',
        entityId: input.status,
        before: before ? { displayName: before.displayName, active: before.active } : undefined,
        after: { displayName: input.displayName, active: input.active },
      });
    });
    return this.statuses();
  }

  /** Adds every production status the instances' open orders use now (from the cache when an ERP is down). */
  async refreshStatuses(actor: AuditActor): Promise<{ statuses: EtaStatus[]; added: string[]; sources: { org: ErpOrg; warning: string | null }[] }> {
    const used = new Set<string>();
    const sources: { org: ErpOrg; warning: string | null }[] = [];
    for (const org of ERP_ORGS) {
      try {
        const r = await this.deps.erp.openOrders(org, true);
        for (const o of r.orders) if (o.productionStatus) used.add(o.productionStatus);
        sources.push({ org, warning: r.warning });
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        sources.push({ org, warning: error.message });
      }
    }
    if (sources.every((s) => s.warning !== null && !used.size))
      throw new DomainError('unavailable', `No statuses could be read: ${sources.map((s) => `${s.org}: ${s.warning}`).join('; ')}`);
    const known = new Set(this.statuses().map((s) => s.status));
    const added = [...used].filter((s) => !known.has(s)).sort();
    this.deps.db.transaction((tx) => {
      for (const status of added) tx.insert(etaStatuses).values({ status, displayName: status, active: true, updatedAt: this.deps.now() }).run();
      recordAudit(this.deps.db, this.deps.audit, actor, { action: 'eta.statuses_refreshed', entity: 'eta_status', after: { added } });
    });
    return { statuses: this.statuses(), added, sources };
  }

  // ---- sensitive columns -------------------------------------------------------------------

  sensitiveColumns(): string[] {
    return this.deps.settings.readKey<string[]>(SENSITIVE_COLUMNS_KEY, DEFAULT_SENSITIVE_COLUMNS);
  }

  saveSensitiveColumns(columns: string[], actor: AuditActor): string[] {
    const list = [...new Set(columns)];
    this.deps.settings.writeKey(SENSITIVE_COLUMNS_KEY, list, actor, this.deps.audit, {
      action: 'eta.sensitive_columns_set',
      entityId: SENSITIVE_COLUMNS_KEY,
      after: list,
    });
    return list;
  }

  // ---- the report as a job -----------------------------------------------------------------

  run(customerId: number, refresh: boolean, viewer: { id: number; role: string }): EtaJobView {
    const customer = this.customer(customerId);
    const job = this.deps.jobs.start(JOB_KIND, { customerId, refresh }, viewer.id, (ctx) => this.work(ctx, customer, refresh));
    return this.jobView(job.id, viewer);
  }

  jobView(jobId: number, viewer: { id: number; role: string }): EtaJobView {
    const job = this.deps.jobs.getFor(jobId, viewer);
    if (job.kind !== JOB_KIND) throw new DomainError('not_found', `No ETA report ${jobId}`);
    const heartbeatAt = this.deps.jobs.heartbeatAt(jobId) ?? job.startedAt;
    const running = job.status === 'running' || job.status === 'queued';
    return {
      job,
      customerId: this.deps.jobs.params<{ customerId: number }>(jobId).customerId,
      log: this.deps.jobs.logLines(jobId),
      heartbeatAt,
      stalled: running && heartbeatAt !== null && this.deps.now() - heartbeatAt > ETA_STALL_MS,
    };
  }

  /** A stalled or failed report again, with the same customer; the stalled one is told to stop. */
  retry(jobId: number, viewer: { id: number; role: string }): EtaJobView {
    const view = this.jobView(jobId, viewer);
    if (view.job.status === 'succeeded') throw new DomainError('conflict', 'This report finished: run it again with Run report instead');
    if ((view.job.status === 'running' || view.job.status === 'queued') && !view.stalled)
      throw new DomainError('conflict', 'This report is still running and not stalled: wait for it, or retry once it shows as stalled');
    if (view.job.status === 'running') {
      try {
        this.deps.jobs.cancel(jobId);
      } catch {
        // It ended meanwhile: nothing to stop.
      }
    }
    const { refresh } = this.deps.jobs.params<{ customerId: number; refresh: boolean }>(jobId);
    return this.run(view.customerId, refresh, viewer);
  }

  private async work(ctx: JobContext, customer: EtaCustomer, refresh: boolean): Promise<EtaReportSummary> {
    const wanted = ERP_ORGS.flatMap((org) => {
      const n = org === 'DD' ? customer.dd : customer.cbr;
      return n ? [{ org, ...n }] : [];
    });
    // Per instance one paged read; the bar moves with its pages (the total is not known ahead).
    const parts = new Map<ErpOrg, number>();
    const beat = (org: ErpOrg, part: number, text: string) => {
      parts.set(org, part);
      const sum = [...parts.values()].reduce((a, b) => a + b, 0);
      ctx.progress({ rowsDone: Math.min(999, Math.round((sum / wanted.length) * 1000)), rowsTotal: 1000, text });
    };
    ctx.log(
      'info',
      `Report for ${customer.displayName}: ${wanted.map((w) => `${w.org} ${w.kind === 'group' ? 'group' : 'customer'} “${w.name}”`).join(', ')}${refresh ? ' (force refresh)' : ''}`,
    );
    ctx.progress({ rowsDone: 0, rowsTotal: 1000, text: 'Starting' });
    const reads = await Promise.allSettled(
      wanted.map(async (w) => {
        let lastLine = -Infinity;
        const r = await this.deps.erp.etaOrders(w.org, w, {
          refresh,
          onPage: (n) => {
            // A page is a heartbeat; a log line at most every 2 s of the station's clock.
            const text = `${w.org}: ${n.toLocaleString('en-US')} rows read`;
            beat(w.org, Math.min(0.95, n / (n + 1000)), text);
            if (this.deps.now() - lastLine >= 2_000) {
              lastLine = this.deps.now();
              ctx.log('info', text);
            }
          },
        });
        beat(w.org, 1, `${w.org}: ${r.value.length.toLocaleString('en-US')} open orders`);
        if (r.fromCache && r.warning) ctx.log('warn', `${w.org}: ${r.warning}; showing the copy from ${Math.round(r.ageSeconds / 60)} min ago`);
        else if (r.fromCache)
          ctx.log('info', `${w.org}: ${r.value.length.toLocaleString('en-US')} open orders from the station's copy (${r.ageSeconds} s old)`);
        else ctx.log('info', `${w.org}: ${r.value.length.toLocaleString('en-US')} open orders read from the ERP`);
        return { w, r };
      }),
    );
    // One instance down with nothing saved: the report shows the other, and says so. Both: it fails.
    const failedReads = reads.flatMap((read, i) => (read.status === 'rejected' ? [{ w: wanted[i], error: read.reason as unknown }] : []));
    const unexpected = failedReads.find((f) => !(f.error instanceof DomainError));
    if (unexpected) throw unexpected.error;
    if (failedReads.length === wanted.length) throw failedReads[0].error;
    for (const f of failedReads) ctx.log('error', `${f.w.org}: ${(f.error as Error).message}`);
    const done = reads.flatMap((read) => (read.status === 'fulfilled' ? [read.value] : []));
    const rows = done.flatMap(({ r }) => r.value);
    const sources: EtaSource[] = wanted.map((w) => {
      const read = done.find((d) => d.w === w);
      if (!read) {
        const error = failedReads.find((f) => f.w === w)!.error as Error;
        return { org: w.org, name: w.name, kind: w.kind, rows: 0, fetchedAt: null, fromCache: false, ageSeconds: null, warning: error.message };
      }
      const { r } = read;
      return {
        org: w.org,
        name: w.name,
        kind: w.kind,
        rows: r.value.length,
        fetchedAt: r.fetchedAt,
        fromCache: r.fromCache,
        ageSeconds: r.ageSeconds,
        warning: r.warning,
      };
    });
    const summary: EtaReportSummary = {
      customerId: customer.id,
      reportId: customer.reportId,
      displayName: customer.displayName,
      rows: rows.length,
      sources,
      finishedAt: this.deps.now(),
    };
    if (ctx.cancelled()) return summary;
    this.#reports.set(ctx.id, { summary, rows });
    while (this.#reports.size > KEEP_REPORTS) this.#reports.delete(this.#reports.keys().next().value!);
    ctx.log('info', `Done: ${rows.length.toLocaleString('en-US')} open orders`);
    ctx.progress({ rowsDone: 1000, rowsTotal: 1000, text: `${rows.length.toLocaleString('en-US')} open orders` });
    return summary;
  }

  /** A finished report's rows with the mapping applied (inactive statuses hidden), filtered and sorted. */
  filtered(jobId: number, viewer: { id: number; role: string }, filters: EtaFilters = {}, sort?: EtaSort) {
    const view = this.jobView(jobId, viewer);
    if (view.job.status !== 'succeeded') throw new DomainError('conflict', 'The report has not finished: wait for it, or retry it');
    const report = this.#reports.get(jobId);
    if (!report) throw new DomainError('not_found', 'This report is no longer kept on the station: run it again');
    const mapping = new Map(this.statuses().map((s) => [s.status, s]));
    const label = (s: string | null) => (s === null ? '—' : (mapping.get(s)?.displayName ?? s));
    const shown = report.rows.filter((r) => r.productionStatus === null || mapping.get(r.productionStatus)?.active !== false);
    const statuses = new Set(filters.statuses ?? []);
    const groups = new Set(filters.groups ?? []);
    const suppliers = new Set(filters.suppliers ?? []);
    const matching = shown
      .filter(
        (r) =>
          (!statuses.size || statuses.has(r.productionStatus ?? '')) &&
          (!groups.size || groups.has(r.customerGroup)) &&
          (!suppliers.size || suppliers.has(r.supplier)),
      )
      .sort(compare(sort, label));
    return { summary: report.summary, shown, matching, label };
  }

  page(
    req: { jobId: number; offset: number; limit: number; filters?: EtaFilters; sort?: EtaSort },
    viewer: { id: number; role: string },
  ): EtaReportPage {
    const { summary, shown, matching, label } = this.filtered(req.jobId, viewer, req.filters, req.sort);
    const distinct = (f: (r: EtaOrder) => string) => [...new Set(shown.map(f))].sort((a, b) => a.localeCompare(b));
    return {
      summary,
      total: shown.length,
      matching: matching.length,
      offset: req.offset,
      rows: matching.slice(req.offset, req.offset + req.limit).map((r) => ({ ...r, statusLabel: label(r.productionStatus) })),
      options: {
        statuses: distinct((r) => r.productionStatus ?? '').map((value) => ({ value, label: label(value === '' ? null : value) })),
        groups: distinct((r) => r.customerGroup),
        suppliers: distinct((r) => r.supplier),
      },
    };
  }
}
