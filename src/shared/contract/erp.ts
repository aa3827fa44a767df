import { z } from 'zod';
import { channel } from './define';
import type { CachedCopy } from './sync';

export const ERP_ORGS = ['DD', 'CBR'] as const;
export type ErpOrg = (typeof ERP_ORGS)[number];

/** The latest revision of an ERP sales order that is neither Completed nor Cancelled. */
export interface ErpOpenOrder {
  orderNo: string;
  orderRev: number;
  customer: string;
  orderStatus: string;
  productionStatus: string | null;
  /** YYYY-MM-DD */
  dateScheduled: string | null;
  /** YYYY-MM-DD */
  etaDate: string | null;
  qty: number | null;
}

export interface OpenOrders extends CachedCopy {
  org: ErpOrg;
  orders: ErpOpenOrder[];
}

export const erpChannels = {
  'erp/open-orders': channel<OpenOrders>()({
    request: z.strictObject({ org: z.enum(ERP_ORGS), refresh: z.boolean().optional() }),
    access: 'signed-in',
    summary: 'Open orders from one ERP instance, from the station cache when the ERP is down.',
  }),
};
