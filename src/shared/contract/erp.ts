import { z } from 'zod';
import { channel } from './define';
import { empty } from './fields';

export const ERP_ORGS = ['DD', 'CBR'] as const;

/** Names of the credentials the station keeps in its secret store. */
export const CREDENTIAL_NAMES = ['erp.DD.username', 'erp.DD.password', 'erp.CBR.username', 'erp.CBR.password', 'leaftrade.token', 'biotrack.license', 'biotrack.username', 'biotrack.password'] as const;

export interface ErpOpenOrder {
  orderNo: string;
  orderRev: number;
  customer: string;
  orderStatus: string;
  productionStatus: string | null;
  dateScheduled: string;
  etaDate: string;
  qty: number;
}

export interface OpenOrders {
  org: (typeof ERP_ORGS)[number];
  orders: ErpOpenOrder[];
  fetchedAt: number;
  fromCache: boolean;
  ageSeconds: number;
  warning: string | null;
}

export interface WholesaleOrder {
  id: number;
  invoice: string | null;
  deliveryDate: string | null;
  totalGross: string | null;
  store: string | null;
  city: string | null;
}

export interface WholesaleOrders {
  orders: WholesaleOrder[];
  fetchedAt: number;
  fromCache: boolean;
  ageSeconds: number;
  warning: string | null;
}

export interface InventoryItem {
  barcode: string;
  product: string;
  quantity: number | null;
  room: string | null;
  labResult: 'passed' | 'failed' | 'pending' | 'rejected' | null;
  /** Potency, percent. */
  total: number | null;
  thca: number | null;
  thc: number | null;
  cbda: number | null;
  cbd: number | null;
}

export interface InventoryReport {
  items: InventoryItem[];
  fetchedAt: number;
  fromCache: boolean;
  ageSeconds: number;
  warning: string | null;
}

export const erpChannels = {
  'biotrack/inventory': channel<InventoryReport>()({
    request: z.strictObject({ refresh: z.boolean().optional() }),
    access: 'signed-in',
    summary: 'BioTrack inventory with rooms and latest lab results (potency), from the cache when BioTrack is down.',
  }),
  'leaftrade/orders': channel<WholesaleOrders>()({
    request: z.strictObject({ refresh: z.boolean().optional() }),
    access: 'signed-in',
    summary: 'Approved LeafTrade orders, from the station cache when LeafTrade is down.',
  }),
  'erp/open-orders': channel<OpenOrders>()({
    request: z.strictObject({ org: z.enum(ERP_ORGS), refresh: z.boolean().optional() }),
    access: 'signed-in',
    summary: 'Open orders from one ERP instance, from the station cache when the ERP is down.',
  }),
  'erp/prewarm': channel<{ source: string; rows: number | null; error: string | null }[]>()({
    request: empty,
    access: ['admin'],
    summary: 'Fetch and cache now what every configured read upstream serves (ERP instances, LeafTrade, BioTrack).',
  }),
  'sync/credentials': channel<{ name: string; set: boolean }[]>()({
    request: empty,
    access: ['admin'],
    summary: 'Which upstream credentials are set (never their values).',
  }),
  'sync/set-credential': channel<{ name: string; set: boolean }[]>()({
    request: z.strictObject({ name: z.enum(CREDENTIAL_NAMES), value: z.string().max(500, 'At most 500 characters') }),
    access: ['admin'],
    summary: 'Set (or, with an empty value, clear) an upstream credential.',
  }),
};
