import { z } from 'zod';
import type { WholesaleOrder, WholesaleOrders } from '../../shared/contract/erp';
import type { UpstreamStatus } from '../../shared/contract/sync';
import { DomainError } from '../../shared/envelope';
import type { ReadCache } from './cache';
import type { Logger } from '../app/logger';
import { readUpstreamStatus, UpstreamError, UpstreamHttp } from './http';
import type { SecretStore } from './secrets';

/** What Dockside reads of a LeafTrade order (line items are unconfirmed and not read). */
const orderSchema = z.object({
  id: z.number(),
  invoice_id: z.string().nullable(),
  delivery_date: z.string().nullable(),
  total_gross: z.union([z.string(), z.number()]).nullable(),
  dispensary_location: z
    .object({
      name: z.string(),
      address: z.object({ city: z.string().optional(), state: z.string().optional() }).partial().optional(),
      dispensary: z.object({ name: z.string() }).optional(),
    })
    .nullable()
    .optional(),
});
const pageSchema = z.object({ next: z.string().nullable(), results: z.array(z.unknown()) });

export type LeafTradeOrder = z.infer<typeof orderSchema>;

const MAX_PAGES = 500;

/** LeafTrade's REST API: token auth, Django paging followed through `next` until null. */
export class LeafTradeClient {
  readonly http: UpstreamHttp;

  constructor(private readonly deps: { baseUrl: string; secrets: SecretStore; now: () => number; log: Logger; readTimeoutMs?: number }) {
    this.http = new UpstreamHttp({ name: 'leaftrade', baseUrl: deps.baseUrl, now: deps.now, log: deps.log, readTimeoutMs: deps.readTimeoutMs });
  }

  private auth(): Record<string, string> {
    const token = this.deps.secrets.get('leaftrade.token');
    if (!token) throw new UpstreamError('leaftrade', 'http', 'No LeafTrade token: enter it in Admin → Sync');
    return { authorization: `Token ${token}` };
  }

  async approvedOrders(): Promise<LeafTradeOrder[]> {
    const headers = this.auth();
    const byId = new Map<number, LeafTradeOrder>();
    let next: string | null = 'api/v1/orders/?status=approved';
    for (let page = 0; next && page < MAX_PAGES; page++) {
      const body = pageSchema.safeParse(await this.http.getJson<unknown>(next, undefined, headers));
      if (!body.success) throw new UpstreamError('leaftrade', 'malformed', 'LeafTrade answered a page in an unexpected shape');
      for (const raw of body.data.results) {
        const order = orderSchema.safeParse(raw);
        // One odd order should not hide the others: it is skipped and logged.
        if (order.success) byId.set(order.data.id, order.data);
        else this.deps.log.warn({ issues: order.error.issues.map((i) => i.path.join('.')) }, 'skipped a LeafTrade order of unexpected shape');
      }
      next = body.data.next;
    }
    return [...byId.values()];
  }
}

/** Approved orders through the station cache, and LeafTrade's state for the Sync screen. */
export class LeafTradeService {
  constructor(private readonly deps: { client: LeafTradeClient | null; cache: ReadCache; now: () => number }) {}

  async orders(refresh = false): Promise<WholesaleOrders> {
    const client = this.deps.client;
    if (!client) throw new DomainError('unavailable', 'LeafTrade is not configured for this station');
    const read = await this.deps.cache.read(
      'leaftrade:approved-orders',
      'leaftrade',
      async () =>
        (await client.approvedOrders()).map(
          (o): WholesaleOrder => ({
            id: o.id,
            invoice: o.invoice_id,
            deliveryDate: o.delivery_date,
            totalGross: o.total_gross === null ? null : String(o.total_gross),
            store: o.dispensary_location?.dispensary?.name ?? o.dispensary_location?.name ?? null,
            city: o.dispensary_location?.address?.city ?? null,
          }),
        ),
      { refresh },
    );
    return { orders: read.value, fetchedAt: read.fetchedAt, fromCache: read.fromCache, ageSeconds: Math.round((this.deps.now() - read.fetchedAt) / 1000), warning: read.warning };
  }

  configured(): boolean {
    return this.deps.client !== null;
  }

  status(): UpstreamStatus[] {
    const client = this.deps.client;
    if (!client) return [];
    return [readUpstreamStatus('leaftrade', client.http.breaker, this.deps.now(), this.deps.cache.fetchedAt('leaftrade:approved-orders'))];
  }
}
