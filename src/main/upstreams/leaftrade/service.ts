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
          address: oneLineAddress(o.dispensary_location?.address),
          vendorLicense: o.dispensary_location?.license_number == null ? null : String(o.dispensary_location.license_number),
          lines: o.line_items,
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

function oneLineAddress(a: { street_address_1?: string; city?: string; state?: string; postal_code?: string } | null | undefined): string | null {
  if (!a) return null;
  const place = [a.city, [a.state, a.postal_code].filter(Boolean).join(' ')].filter(Boolean).join(', ');
  return [a.street_address_1, place].filter(Boolean).join(', ') || null;
}
