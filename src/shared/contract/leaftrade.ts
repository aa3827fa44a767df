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
