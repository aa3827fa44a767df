import { z } from 'zod';
import { channel } from './define';
import { id } from './fields';
import type { OrderLine } from './leaftrade';
import type { CachedCopy } from './sync';

export type TripStatus = 'draft' | 'executing' | 'done' | 'failed';

export interface TripSummary {
  id: number;
  number: string;
  name: string;
  status: TripStatus;
  /** The execution job's own state, mirrored; null before execution. */
  executionStatus: string | null;
  driverName: string;
  vehicleName: string;
  stopCount: number;
  /** Stops whose lines are all packed (a stop without lines: something packed). */
  stopsPacked: number;
  createdAt: number;
  createdBy: string | null;
  updatedAt: number;
}

export interface TripPackView {
  id: number;
  barcode: string;
  quantity: number;
  lineId: number | null;
  packedAt: number;
}

export interface TripLineView extends OrderLine {
  id: number;
  packed: number;
  /** What is still missing: quantity − packed, never below 0. */
  missing: number;
}

export interface TripStopView {
  id: number;
  /** Route order, 1 first. */
  position: number;
  orderId: number;
  invoice: string | null;
  deliveryDate: string | null;
  dispensary: string;
  address: string;
  vendorLicense: string;
  departureAt: number | null;
  arrivalAt: number | null;
  route: string;
  /** Empty when LeafTrade sent no line items: anything packed fills the stop. */
  lines: TripLineView[];
  packs: TripPackView[];
  complete: boolean;
}

export interface TripView extends TripSummary {
  driverEmployeeId: string;
  vehicleId: string;
  stops: TripStopView[];
}

export interface TripOrder {
  id: number;
  invoice: string | null;
  deliveryDate: string | null;
  dispensary: string;
  address: string | null;
  vendorLicense: string | null;
  lines: OrderLine[];
  /** The trip this order is already on, if any (it cannot go on a second one). */
  onTrip: string | null;
}

export interface TripOrders extends CachedCopy {
  orders: TripOrder[];
  /** Every dispensary among the approved orders, for the filter. */
  dispensaries: string[];
}

export interface PackResult {
  trip: TripView;
  /** What was packed, in words for the screen. */
  message: string;
}

const tripId = z.strictObject({ tripId: id });
const shortText = (max: number) => z.string().trim().max(max, `At most ${max} characters`);
/** Times are ms since the epoch; null clears one. */
const time = z
  .number()
  .int()
  .nonnegative()
  .nullable()
  .meta({ examples: [1_796_000_000_000] });
const barcode = z.string().trim().min(1, 'Scan or type an inventory id').max(64, 'At most 64 characters');
const quantity = z.number().positive('The quantity must be more than 0').max(1_000_000, 'That quantity is too large');
const ROLES_THAT_PLAN = ['admin', 'dispatcher'] as const;
const ROLES_THAT_READ = ['admin', 'dispatcher', 'biller'] as const;

const people = {
  name: shortText(80).optional(),
  driverEmployeeId: shortText(32).optional(),
  driverName: shortText(80).optional(),
  vehicleId: shortText(32).optional(),
  vehicleName: shortText(80).optional(),
};

export const tripChannels = {
  'trips/list': channel<{ rows: TripSummary[] }>()({
    request: z.strictObject({ status: z.enum(['draft', 'executing', 'done', 'failed']).optional() }),
    access: ROLES_THAT_READ,
    summary: 'Trips, newest first.',
  }),
  'trips/get': channel<TripView>()({
    request: tripId,
    access: ROLES_THAT_READ,
    summary: 'A trip with its stops in route order, their lines and what is packed.',
  }),
  'trips/orders': channel<TripOrders>()({
    request: z.strictObject({
      deliveryDate: z
        .string()
        .regex(/^\d{4}-\d{2}-\d{2}$/, 'A date like 2026-12-01')
        .meta({ examples: ['2026-12-01'] })
        .optional(),
      dispensary: shortText(120).optional(),
      refresh: z.boolean().optional(),
    }),
    access: ROLES_THAT_PLAN,
    summary: 'Approved LeafTrade orders to put on a trip, filtered by delivery date and dispensary.',
  }),
  'trips/create': channel<TripView>()({
    request: z.strictObject({ ...people, orderIds: z.array(id).min(1, 'Pick at least one order').max(200, 'At most 200 stops') }),
    access: ROLES_THAT_PLAN,
    summary: 'A draft trip with one stop per picked order, in the order given.',
  }),
  'trips/update': channel<TripView>()({
    request: z.strictObject({
      tripId: id,
      ...people,
      /** Every stop id of the trip in the new route order. */
      stopOrder: z.array(id).max(200).optional(),
      stops: z
        .array(
          z.strictObject({
            stopId: id,
            departureAt: time.optional(),
            arrivalAt: time.optional(),
            route: shortText(500).optional(),
            vendorLicense: shortText(32).optional(),
          }),
        )
        .max(200)
        .optional(),
      addOrderIds: z.array(id).max(200).optional(),
      removeStopIds: z.array(id).max(200).optional(),
    }),
    access: ROLES_THAT_PLAN,
    summary:
      'Change a draft trip, or fix a failed one before Retry: name, driver, vehicle, route order, per-stop times and route, stops added or taken off.',
  }),
  'trips/delete': channel<{ deleted: true }>()({
    request: tripId,
    access: ROLES_THAT_PLAN,
    summary: 'Delete a draft trip.',
  }),
  'trips/pack': channel<PackResult>()({
    request: z.strictObject({ tripId: id, stopId: id, lineId: id.optional(), barcode, quantity: quantity.optional() }),
    access: ROLES_THAT_PLAN,
    summary: 'Pack a BioTrack inventory id for a stop; without a quantity, what the line still needs (at most what the item has left).',
  }),
  'trips/unpack': channel<TripView>()({
    request: z.strictObject({ tripId: id, packId: id }),
    access: ROLES_THAT_PLAN,
    summary: 'Take a packed inventory id off a draft trip.',
  }),
};
