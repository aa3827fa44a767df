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

export const bioTrackChannels = {
  'biotrack/inventory': channel<InventoryReport>()({
    request: z.strictObject({ refresh: z.boolean().optional() }),
    access: 'signed-in',
    summary: "This facility's BioTrack inventory with rooms and latest lab results (potency), from the cache when BioTrack is down.",
  }),
};
