import { z } from 'zod';
import { channel } from './define';
import type { CachedCopy } from './sync';

export interface WholesaleOrder {
  id: number;
  invoice: string | null;
  deliveryDate: string | null;
  totalGross: string | null;
  store: string | null;
  city: string | null;
  /** Street, city, state and postal code on one line. */
  address: string | null;
  /** The receiving licence, when LeafTrade gives it. */
  vendorLicense: string | null;
  /** Empty when LeafTrade sent no line items (unconfirmed upstream): such an order is packed freely. */
  lines: OrderLine[];
}

export interface OrderLine {
  product: string;
  quantity: number;
  unit: string;
}

export interface WholesaleOrders extends CachedCopy {
  orders: WholesaleOrder[];
}

export const leafTradeChannels = {
  'leaftrade/orders': channel<WholesaleOrders>()({
    request: z.strictObject({ refresh: z.boolean().optional() }),
    access: 'signed-in',
    summary: 'Approved LeafTrade orders, from the station cache when LeafTrade is down.',
  }),
};
