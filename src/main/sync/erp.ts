import type { ErpOpenOrder, OpenOrders } from '../../shared/contract/erp';
import { CREDENTIAL_NAMES } from '../../shared/contract/erp';
import { DomainError } from '../../shared/envelope';
import { recordAudit, type AuditActor, type AuditContext } from '../audit/record';
import type { Db } from '../db/open';
import type { HandlerRegistry } from '../ipc/handlers';
import { actorFromUser } from '../ipc/actor';
import type { ReadCache } from './cache';
import { readUpstreamStatus } from './http';
import { ERP_ORGS, odataString, type ErpOrg, type ODataClient } from './odata';
import type { BioTrackService } from './biotrack';
import type { LeafTradeService } from './leaftrade';
import type { SecretStore } from './secrets';

interface RawOrder extends Record<string, unknown> {
  OrderNo: string;
  OrderRev: number;
  Customer: string;
  OrderStatus: string;
  ProductionStatus: string | null;
  DateScheduled: string;
  EtaDate: string;
  Qty: number;
}

/** Only the columns the station needs: sensitive ones (Descn, Notes, BarcodeNo) are never fetched. */
const SELECT = ['OrderNo', 'OrderRev', 'Customer', 'OrderStatus', 'ProductionStatus', 'DateScheduled', 'EtaDate', 'Qty'];
const CLOSED = ['Completed', 'Cancelled'];

export class ErpService {
  constructor(
    private readonly deps: { odata: ODataClient | null; cache: ReadCache; now: () => number },
  ) {}

  async openOrders(org: ErpOrg, refresh = false): Promise<OpenOrders> {
    const odata = this.deps.odata;
    if (!odata) throw new DomainError('unavailable', 'No ERP is configured for this station');
    const read = await this.deps.cache.read(`erp:${org}:open-orders`, `erp-${org}`, async () => {
      const rows = await odata.query<RawOrder>(
        org,
        'SalesOrders',
        { filter: CLOSED.map((s) => `OrderStatus ne ${odataString(s)}`).join(' and '), select: SELECT, orderby: 'DateScheduled asc' },
        (r) => `${r.OrderNo}#${r.OrderRev}`,
      );
      // Orders have revisions: keep the latest of each.
      const latest = new Map<string, RawOrder>();
      for (const r of rows) if ((latest.get(r.OrderNo)?.OrderRev ?? -1) < r.OrderRev) latest.set(r.OrderNo, r);
      return [...latest.values()].map(
        (r): ErpOpenOrder => ({
          orderNo: r.OrderNo,
          orderRev: r.OrderRev,
          customer: r.Customer,
          orderStatus: r.OrderStatus,
          productionStatus: r.ProductionStatus === 'null' ? null : r.ProductionStatus,
          dateScheduled: r.DateScheduled,
          etaDate: r.EtaDate,
          qty: r.Qty,
        }),
      );
    }, { refresh });
    return { org, orders: read.value, fetchedAt: read.fetchedAt, fromCache: read.fromCache, ageSeconds: Math.round((this.deps.now() - read.fetchedAt) / 1000), warning: read.warning };
  }

  /** Each ERP instance for the Sync screen: breaker state, last success, age of what is cached. */
  status(cachedAt: (key: string) => number | null) {
    const odata = this.deps.odata;
    if (!odata) return [];
    return ERP_ORGS.map((org) => readUpstreamStatus(`erp-${org}`, odata.breaker(org), this.deps.now(), cachedAt(`erp:${org}:open-orders`)));
  }

  configured(): boolean {
    return this.deps.odata !== null;
  }
}

export function registerErpHandlers(r: HandlerRegistry, erp: ErpService, leaftrade: LeafTradeService, biotrack: BioTrackService, secrets: SecretStore, db: Db, audit: AuditContext): void {
  const credentials = () => CREDENTIAL_NAMES.map((name) => ({ name, set: secrets.get(name) !== null }));
  r.add('erp/open-orders', (req) => erp.openOrders(req.org, req.refresh ?? false))
    .add('leaftrade/orders', (req) => leaftrade.orders(req.refresh ?? false))
    .add('biotrack/inventory', (req) => biotrack.inventory(req.refresh ?? false))
    .add('erp/prewarm', async () => {
      // Every configured read upstream, one after another; each says how many rows it cached or why not.
      const sources: [string, () => Promise<{ rows: number; warning: string | null }>][] = [];
      if (erp.configured()) for (const org of ERP_ORGS) sources.push([org, async () => { const r = await erp.openOrders(org, true); return { rows: r.orders.length, warning: r.warning }; }]);
      if (leaftrade.configured()) sources.push(['LeafTrade', async () => { const r = await leaftrade.orders(true); return { rows: r.orders.length, warning: r.warning }; }]);
      if (biotrack.configured()) sources.push(['BioTrack', async () => { const r = await biotrack.inventory(true); return { rows: r.items.length, warning: r.warning }; }]);
      const out = [];
      for (const [source, run] of sources) {
        try {
          const r = await run();
          out.push({ source, rows: r.rows, error: r.warning });
        } catch (error) {
          out.push({ source, rows: null, error: (error as Error).message });
        }
      }
      return out;
    })
    .add('sync/credentials', () => credentials())
    .add('sync/set-credential', (req, ctx) => {
      const actor: AuditActor = actorFromUser(ctx);
      if (req.value === '') secrets.delete(req.name);
      else secrets.set(req.name, req.value);
      // The audit says which credential changed, never its value.
      recordAudit(db, audit, actor, { action: req.value === '' ? 'sync.credential_cleared' : 'sync.credential_set', entity: 'credential', entityId: req.name });
      return credentials();
    });
}
