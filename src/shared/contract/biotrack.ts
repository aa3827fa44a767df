import { z } from 'zod';
import { channel } from './define';
import type { CachedCopy } from './sync';

export type LabResult = 'passed' | 'failed' | 'pending' | 'rejected';

export interface InventoryItem {
  /** BioTrack's 16-digit inventory id: a string, never a number. */
  barcode: string;
  /** The product name, or the strain when BioTrack has no product name. */
  product: string;
  strain: string | null;
  quantity: number | null;
  /** BioTrack's room id at this facility (room ids are per facility), or null when the item has no room. */
  roomId: string | null;
  /** The room's name, "Room 7" when BioTrack did not list the room, or null when the item has no room. */
  room: string | null;
  /** null: no lab data for this item. */
  labResult: LabResult | null;
  /** The lab sample the result belongs to. */
  sampleId: string | null;
  /** Potency, percent. */
  total: number | null;
  thca: number | null;
  thc: number | null;
  cbda: number | null;
  cbd: number | null;
}

export interface InventoryReport extends CachedCopy {
  /** The facility (6-digit BioTrack location) the items belong to. */
  location: string;
  items: InventoryItem[];
}

const byWords = new Intl.Collator('en', { numeric: true }).compare;

/**
 * The report's order, on screen and in files: by room name (items without a room last), product,
 * then id. One collator: localeCompare per pair is too slow for 50,000 items.
 */
export function inReportOrder(a: InventoryItem, b: InventoryItem): number {
  return (
    byWords(a.room ?? '\uffff', b.room ?? '\uffff') || byWords(a.product, b.product) || (a.barcode < b.barcode ? -1 : a.barcode > b.barcode ? 1 : 0)
  );
}

export interface InventoryTotal {
  items: number;
  /** Sum of the quantities BioTrack gave (items without a quantity count as 0). */
  quantity: number;
}

export const LAB_FILTERS = ['all', 'with', 'without'] as const;
export type LabFilter = (typeof LAB_FILTERS)[number];

/** One page of Reports → Inventory, computed from the station's copy of BioTrack's inventory. */
export interface InventoryReportPage extends CachedCopy {
  location: string;
  /** Every item of this facility, whatever the filters: all, with lab data, without. */
  totals: { all: InventoryTotal; withLab: InventoryTotal; withoutLab: InventoryTotal };
  /** Items the filters match, before paging. */
  matching: InventoryTotal;
  rows: InventoryItem[];
  offset: number;
  /** Rooms items are in, for the room filter: id and name. */
  rooms: { id: string; name: string }[];
}

export interface LabLookup {
  barcode: string;
  /** The item in the station's copy of the inventory, if it is there. */
  item: InventoryItem | null;
  /** The latest lab result, or null: no lab data for this item. */
  lab: Pick<InventoryItem, 'labResult' | 'sampleId' | 'total' | 'thca' | 'thc' | 'cbda' | 'cbd'> | null;
  /** BioTrack's words when it has no result (e.g. "Test results have not yet been filed."), else null. */
  noDataReason: string | null;
  /** From BioTrack now (false), or the station's copy because BioTrack could not be reached (true). */
  fromCache: boolean;
  /** When the cached copy was fetched, when `fromCache`. */
  fetchedAt: number | null;
  warning: string | null;
}

const inventoryId = z
  .string()
  .trim()
  .regex(/^\d{16}$/, 'A BioTrack barcode has 16 digits')
  .meta({ examples: ['2026100000000001'] });

export const bioTrackChannels = {
  'biotrack/inventory': channel<InventoryReport>()({
    request: z.strictObject({ refresh: z.boolean().optional() }),
    access: 'signed-in',
    summary: "This facility's BioTrack inventory with rooms and latest lab results (potency), from the cache when BioTrack is down.",
  }),
  'biotrack/inventory-report': channel<InventoryReportPage>()({
    request: z.strictObject({
      room: z.string().max(32).optional(),
      search: z.string().max(100).optional(),
      lab: z.enum(LAB_FILTERS).optional(),
      offset: z.number().int().min(0).max(10_000_000).optional(),
      limit: z.number().int().min(1).max(500).optional(),
      refresh: z.boolean().optional(),
    }),
    access: 'signed-in',
    summary: 'Reports → Inventory: one page of items (filtered by room, product or barcode, with/without lab data) and the totals, from the cache.',
  }),
  'biotrack/lab-lookup': channel<LabLookup>()({
    request: z.strictObject({ barcode: inventoryId }),
    access: 'signed-in',
    summary: "One barcode's latest lab result from BioTrack (inventory_qa_check), or the cached one when BioTrack is down; copes with no data.",
  }),
};
