import type { WholesaleOrder, WholesaleOrders } from '../../../shared/contract/leaftrade';
import type { UpstreamStatus } from '../../../shared/contract/sync';
import { DomainError } from '../../../shared/envelope';
import type { ReadCache } from '../read-cache';
import { CachedUpstreamRead } from '../status';
import type { LeafTradeClient } from './client';

/** Approved orders through the station cache, and LeafTrade's state for the Sync screen. */
export class LeafTradeService {
  readonly #read: CachedUpstreamRead<WholesaleOrder[]> | null;

  constructor(private readonly deps: { client: LeafTradeClient | null; cache: ReadCache; now: () => number }) {
    this.#read = deps.client
      ? new CachedUpstreamRead({
          cache: deps.cache,
          key: 'leaftrade:approved-orders',
          upstream: 'leaftrade',
          breaker: deps.client.http.breaker,
          now: deps.now,
        })
      : null;
  }

  async orders(refresh = false): Promise<WholesaleOrders> {
    const client = this.deps.client;
    if (!client || !this.#read) throw new DomainError('unavailable', 'LeafTrade is not configured for this station');
    const { value, ...copy } = await this.#read.read(
      async () =>
        (await client.approvedOrders()).map((o): WholesaleOrder => ({
          id: o.id,
          invoice: o.invoice_id,
          deliveryDate: o.delivery_date,
          totalGross: o.total_gross === null ? null : String(o.total_gross),
          store: o.dispensary_location?.dispensary?.name ?? o.dispensary_location?.name ?? null,
          city: o.dispensary_location?.address?.city ?? null,
        })),
      refresh,
    );
    return { orders: value, ...copy };
  }

  configured(): boolean {
    return this.deps.client !== null;
  }

  status(): UpstreamStatus[] {
    return this.#read ? [this.#read.status()] : [];
  }
}
