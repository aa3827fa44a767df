import { z } from 'zod';
import { ERP_ORGS, type ErpOpenOrder, type ErpOrg, type OpenOrders } from '../../../shared/contract/erp';
import type { EtaNameKind, EtaOrder } from '../../../shared/contract/eta';
import type { UpstreamStatus } from '../../../shared/contract/sync';
import { DomainError } from '../../../shared/envelope';
import type { Logger } from '../../platform/logger';
import type { ReadCache } from '../read-cache';
import { CachedUpstreamRead } from '../status';
import { odataString, type ODataClient } from './odata';

/** OData numbers: Edm.Decimal arrives as a string ("10.250") by default, Int32 as a number. */
const NUMERIC = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;
const odataNumber = z.union([z.number(), z.string().regex(NUMERIC).transform(Number)]);
/** Edm.Date is YYYY-MM-DD; a DateTimeOffset is cut to its date. */
const odataDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}/)
  .transform((s) => s.slice(0, 10));

const orderRow = z.object({
  OrderNo: z.string().min(1),
  OrderRev: odataNumber.pipe(z.number().int()),
  Customer: z.string().nullable().optional(),
  OrderStatus: z.string().nullable().optional(),
  ProductionStatus: z.string().nullable().optional(),
  DateScheduled: odataDate.nullable().optional(),
  EtaDate: odataDate.nullable().optional(),
  Qty: odataNumber.nullable().optional(),
});
type OrderRow = z.infer<typeof orderRow>;
const etaRow = orderRow.extend({ CustomerGroup: z.string().nullable().optional(), Supplier: z.string().nullable().optional() });
type EtaRow = z.infer<typeof etaRow>;

/** Only the columns the station needs: sensitive ones (Descn, Notes, BarcodeNo) are never fetched. */
const SELECT = ['OrderNo', 'OrderRev', 'Customer', 'OrderStatus', 'ProductionStatus', 'DateScheduled', 'EtaDate', 'Qty'];
const KEY = ['OrderNo', 'OrderRev'];
export const CLOSED_STATUSES = ['Completed', 'Cancelled'];
/** The ERP field a customer name or a customer group is matched on. */
export const ETA_FILTER_FIELD: Record<EtaNameKind, string> = { name: 'Customer', group: 'CustomerGroup' };
const ETA_SELECT = [...SELECT, 'CustomerGroup', 'Supplier'];

/** A customer's open orders in one instance, as ETA reports read them. */
export interface EtaRead {
  value: EtaOrder[];
  fetchedAt: number;
  fromCache: boolean;
  ageSeconds: number;
  warning: string | null;
}

/**
 * Open orders: per order, its latest revision — and only if that revision is open. Closed rows
 * cannot simply be filtered out first: an order whose newest revision is Cancelled would then show
 * an older, open revision. So: (1) the open revisions; (2) for those orders, their closed
 * revisions (few columns); (3) keep an order when its newest open revision is newer than any
 * closed one. This reads far less than every revision of every order ever placed.
 */
export class ErpService {
  readonly #reads = new Map<ErpOrg, CachedUpstreamRead<ErpOpenOrder[]>>();

  constructor(private readonly deps: { odata: ODataClient | null; cache: ReadCache; now: () => number; log: Logger }) {
    const odata = deps.odata;
    if (odata)
      for (const org of ERP_ORGS)
        this.#reads.set(
          org,
          new CachedUpstreamRead({
            cache: deps.cache,
            key: `erp:${org}:open-orders`,
            upstream: `erp-${org}`,
            breaker: () => odata.breaker(org),
            now: deps.now,
          }),
        );
  }

  async openOrders(org: ErpOrg, refresh = false): Promise<OpenOrders> {
    const odata = this.deps.odata;
    const read = this.#reads.get(org);
    if (!odata || !read) throw new DomainError('unavailable', 'No ERP is configured for this station');
    const r = await read.read(() => this.fetchOpenOrders(odata, org), refresh);
    return { org, orders: r.value, fetchedAt: r.fetchedAt, fromCache: r.fromCache, ageSeconds: r.ageSeconds, warning: r.warning };
  }

  private async fetchOpenOrders(odata: ODataClient, org: ErpOrg): Promise<ErpOpenOrder[]> {
    const open = this.validRows(
      org,
      await odata.query(
        org,
        'SalesOrders',
        { filter: CLOSED_STATUSES.map((s) => `OrderStatus ne ${odataString(s)}`).join(' and '), select: SELECT },
        KEY,
      ),
    );
    const newestOpen = new Map<string, OrderRow>();
    for (const r of open) if ((newestOpen.get(r.OrderNo)?.OrderRev ?? -Infinity) < r.OrderRev) newestOpen.set(r.OrderNo, r);

    const closed = this.validRows(
      org,
      await odata.query(
        org,
        'SalesOrders',
        {
          filter: CLOSED_STATUSES.map((s) => `OrderStatus eq ${odataString(s)}`).join(' or '),
          select: ['OrderNo', 'OrderRev', 'OrderStatus'],
          anyOf: { field: 'OrderNo', values: [...newestOpen.keys()] },
        },
        KEY,
      ),
    );
    const newestClosed = new Map<string, number>();
    for (const r of closed) newestClosed.set(r.OrderNo, Math.max(newestClosed.get(r.OrderNo) ?? -Infinity, r.OrderRev));

    return [...newestOpen.values()]
      .filter((r) => r.OrderRev > (newestClosed.get(r.OrderNo) ?? -Infinity))
      .map((r): ErpOpenOrder => ({
        orderNo: r.OrderNo,
        orderRev: r.OrderRev,
        customer: r.Customer ?? '',
        orderStatus: r.OrderStatus ?? '',
        // Some ERP rows carry the text 'null' for "no production status".
        productionStatus: r.ProductionStatus === 'null' || r.ProductionStatus === undefined ? null : r.ProductionStatus,
        dateScheduled: r.DateScheduled ?? null,
        etaDate: r.EtaDate ?? null,
        qty: r.Qty ?? null,
      }))
      .sort((a, b) => (a.dateScheduled ?? '9999').localeCompare(b.dateScheduled ?? '9999') || a.orderNo.localeCompare(b.orderNo));
  }

  /**
   * One customer's open orders in one instance, for ETA reports, through the station cache (a
   * copy per customer name or group): the ERP down, timing out or sending garbage gives the last
   * copy with its age and the reason; `refresh` asks the ERP even when the copy is fresh.
   * Open means as in openOrders: the order's newest revision is open.
   */
  async etaOrders(
    org: ErpOrg,
    by: { kind: EtaNameKind; name: string },
    options: { refresh?: boolean; onPage?: (rowsSoFar: number) => void } = {},
  ): Promise<EtaRead> {
    const odata = this.deps.odata;
    if (!odata) throw new DomainError('unavailable', 'No ERP is configured for this station');
    const read = new CachedUpstreamRead<EtaOrder[]>({
      cache: this.deps.cache,
      key: `erp:${org}:eta:${by.kind}:${by.name}`,
      upstream: `erp-${org}`,
      breaker: odata.breaker(org),
      now: this.deps.now,
    });
    const r = await read.read(() => this.fetchEtaOrders(odata, org, by, options.onPage), options.refresh ?? false);
    return { value: r.value, fetchedAt: r.fetchedAt, fromCache: r.fromCache, ageSeconds: r.ageSeconds, warning: r.warning };
  }

  /**
   * One read: every revision of the customer's (or group's) orders, whatever its status; per order
   * the newest revision, kept when it is open. Unlike openOrders (every customer, so closed rows
   * are looked up by order number), the customer filter keeps this small enough to read whole, and
   * needs no list of order numbers in the URL. It assumes an order's revisions keep its customer
   * and group, as in every ERP data set seen (the simulator, the CAP fixture).
   */
  private async fetchEtaOrders(
    odata: ODataClient,
    org: ErpOrg,
    by: { kind: EtaNameKind; name: string },
    onPage?: (rowsSoFar: number) => void,
  ): Promise<EtaOrder[]> {
    const rows = this.validRows(
      org,
      await odata.query(
        org,
        'SalesOrders',
        { filter: `${ETA_FILTER_FIELD[by.kind]} eq ${odataString(by.name)}`, select: ETA_SELECT, pageSize: 100, onPage },
        KEY,
      ),
      etaRow,
    );
    const newest = new Map<string, EtaRow>();
    for (const r of rows) if ((newest.get(r.OrderNo)?.OrderRev ?? -Infinity) < r.OrderRev) newest.set(r.OrderNo, r);
    return [...newest.values()]
      .filter((r) => !CLOSED_STATUSES.includes(r.OrderStatus ?? ''))
      .map((r): EtaOrder => ({
        org,
        orderNo: r.OrderNo,
        orderRev: r.OrderRev,
        customer: r.Customer ?? '',
        customerGroup: r.CustomerGroup ?? '',
        supplier: r.Supplier ?? '',
        dateScheduled: r.DateScheduled ?? null,
        etaDate: r.EtaDate ?? null,
        productionStatus: r.ProductionStatus === 'null' || r.ProductionStatus === undefined ? null : r.ProductionStatus,
        qty: r.Qty ?? null,
      }));
  }

  /** Rows in the shape we read; one odd row is skipped and logged rather than hiding the rest. */
  private validRows<S extends z.ZodType = typeof orderRow>(org: ErpOrg, rows: Record<string, unknown>[], schema?: S): z.infer<S>[] {
    const out: z.infer<S>[] = [];
    let skipped = 0;
    for (const raw of rows) {
      const r = (schema ?? orderRow).safeParse(raw) as z.ZodSafeParseResult<z.infer<S>>;
      if (r.success) out.push(r.data);
      else skipped++;
    }
    if (skipped) this.deps.log.warn({ org, skipped }, 'skipped ERP rows of unexpected shape');
    return out;
  }

  /** Each ERP instance for the Sync screen: breaker state, last success, age of what is cached. */
  status(): UpstreamStatus[] {
    return [...this.#reads.values()].map((r) => r.status());
  }

  configured(): boolean {
    return this.deps.odata !== null;
  }
}
