import { and, eq, inArray } from 'drizzle-orm';
import type { InventoryItem } from '../../shared/contract/biotrack';
import type { WholesaleOrder } from '../../shared/contract/leaftrade';
import type { PackResult, TripOrders, TripStatus, TripStopView, TripSummary, TripView } from '../../shared/contract/trips';
import { DomainError } from '../../shared/envelope';
import { recordAudit, type AuditActor, type AuditContext } from '../audit/record';
import type { Db } from '../db/open';
import { tripLines, tripPacks, trips, tripStops } from '../db/schema';
import type { BioTrackInventory } from '../upstreams/biotrack/inventory';
import type { LeafTradeService } from '../upstreams/leaftrade/service';

export interface TripServiceDeps {
  db: Db;
  audit: AuditContext;
  now: () => number;
  leaftrade: LeafTradeService;
  inventory: BioTrackInventory;
}

/** BioTrack inventory ids are 16 digits. */
export const INVENTORY_ID = /^\d{16}$/;
/** Trips whose packs still hold their items: another trip cannot count on the same quantity (a failed one is being fixed). */
const HOLDING: TripStatus[] = ['draft', 'executing', 'failed'];

/** Quantities are compared and shown with at most 3 decimals (grams of a kilo). */
const qty = (n: number) => Math.round(n * 1000) / 1000;

type TripRow = typeof trips.$inferSelect;
type StopRow = typeof tripStops.$inferSelect;
type LineRow = typeof tripLines.$inferSelect;

export interface TripEdit {
  name?: string;
  driverEmployeeId?: string;
  driverName?: string;
  vehicleId?: string;
  vehicleName?: string;
  stopOrder?: number[];
  stops?: { stopId: number; departureAt?: number | null; arrivalAt?: number | null; route?: string; vendorLicense?: string }[];
  addOrderIds?: number[];
  removeStopIds?: number[];
}

/**
 * Delivery trips before they are executed: approved LeafTrade orders become stops in route order,
 * each with the lines to fill, and BioTrack inventory ids are packed against those lines. Every
 * change is one transaction with its audit row; only a draft changes.
 */
export class TripService {
  constructor(private readonly deps: TripServiceDeps) {}

  private get db() {
    return this.deps.db;
  }

  private row(tripId: number): TripRow {
    const row = this.db.select().from(trips).where(eq(trips.id, tripId)).get();
    if (!row) throw new DomainError('not_found', `No trip with id ${tripId}`);
    return row;
  }

  private draft(tripId: number): TripRow {
    const row = this.row(tripId);
    if (row.status !== 'draft') throw new DomainError('conflict', `Trip ${row.number} has been executed: it can no longer change`);
    return row;
  }

  /**
   * A trip that may change: a draft, or one whose execution stopped with an error — that is fixed
   * here (a time, a route, a packed id), then Retry goes on from the refused stop.
   */
  private editable(tripId: number): TripRow {
    const row = this.row(tripId);
    if (row.status === 'executing') throw new DomainError('conflict', `Trip ${row.number} is being executed: wait until it has finished or stopped`);
    if (row.status !== 'draft' && row.status !== 'failed')
      throw new DomainError('conflict', `Trip ${row.number} has been executed: it can no longer change`);
    return row;
  }

  /** Stop numbers (route positions) of the trip that BioTrack already has a manifest for. */
  private manifested(tripId: number): Map<number, string> {
    const rows = this.db.$client
      .prepare(
        `SELECT m.stop_number AS n, m.manifest_id AS id FROM trip_manifests m JOIN trip_executions e ON e.id = m.execution_id
         WHERE e.trip_id = ? AND m.state = 'created'`,
      )
      .all(tripId) as { n: number; id: string }[];
    return new Map(rows.map((r) => [r.n, r.id]));
  }

  /** A stop with its manifest at BioTrack is what BioTrack has: it changes only after an admin voids that manifest. */
  private checkStopOpen(trip: TripRow, stop: StopRow): void {
    if (trip.status !== 'failed') return;
    const manifest = this.manifested(trip.id).get(stop.position);
    if (manifest)
      throw new DomainError(
        'conflict',
        `Stop ${stop.position} (${stop.dispensary}) already has BioTrack manifest ${manifest}: it cannot change unless an admin voids that manifest`,
      );
  }

  private creatorName(userId: number | null): string | null {
    if (userId === null) return null;
    const r = this.db.$client.prepare('SELECT username FROM users WHERE id = ?').get(userId) as { username: string } | undefined;
    return r?.username ?? null;
  }

  view(tripId: number): TripView {
    const trip = this.row(tripId);
    const stops = this.db.select().from(tripStops).where(eq(tripStops.tripId, tripId)).orderBy(tripStops.position).all();
    const stopIds = stops.map((s) => s.id);
    const lines = stopIds.length ? this.db.select().from(tripLines).where(inArray(tripLines.stopId, stopIds)).orderBy(tripLines.position).all() : [];
    const packs = this.db.select().from(tripPacks).where(eq(tripPacks.tripId, tripId)).orderBy(tripPacks.id).all();
    const stopViews = stops.map((s): TripStopView => {
      const myPacks = packs.filter((p) => p.stopId === s.id);
      const myLines = lines
        .filter((l) => l.stopId === s.id)
        .map((l) => {
          const packed = qty(myPacks.filter((p) => p.lineId === l.id).reduce((n, p) => n + p.quantity, 0));
          return { id: l.id, product: l.product, quantity: l.quantity, unit: l.unit, packed, missing: qty(Math.max(0, l.quantity - packed)) };
        });
      return {
        id: s.id,
        position: s.position,
        orderId: s.orderId,
        invoice: s.invoice,
        deliveryDate: s.deliveryDate,
        dispensary: s.dispensary,
        address: s.address,
        vendorLicense: s.vendorLicense,
        departureAt: s.departureAt,
        arrivalAt: s.arrivalAt,
        route: s.route,
        lines: myLines,
        packs: myPacks.map((p) => ({ id: p.id, barcode: p.barcode, quantity: p.quantity, lineId: p.lineId, packedAt: p.packedAt })),
        complete: myLines.length ? myLines.every((l) => l.missing === 0) : myPacks.length > 0,
      };
    });
    return {
      id: trip.id,
      number: trip.number,
      name: trip.name,
      status: trip.status,
      executionStatus: trip.executionStatus,
      driverEmployeeId: trip.driverEmployeeId,
      driverName: trip.driverName,
      vehicleId: trip.vehicleId,
      vehicleName: trip.vehicleName,
      stopCount: stopViews.length,
      stopsPacked: stopViews.filter((s) => s.complete).length,
      createdAt: trip.createdAt,
      createdBy: this.creatorName(trip.createdBy),
      updatedAt: trip.updatedAt,
      stops: stopViews,
    };
  }

  list(q: { status?: TripStatus }): { rows: TripSummary[] } {
    const rows = this.db
      .select({ id: trips.id })
      .from(trips)
      .where(q.status ? eq(trips.status, q.status) : undefined)
      .orderBy(trips.id)
      .all()
      .reverse()
      .slice(0, 200);
    return {
      rows: rows.map(({ id }) => {
        const { stops: _stops, driverEmployeeId: _d, vehicleId: _v, ...summary } = this.view(id);
        return summary;
      }),
    };
  }

  /** Order id → number of the trip it is on. */
  private ordersOnTrips(): Map<number, string> {
    const rows = this.db.$client.prepare('SELECT s.order_id, t.number FROM trip_stops s JOIN trips t ON t.id = s.trip_id').all() as {
      order_id: number;
      number: string;
    }[];
    return new Map(rows.map((r) => [r.order_id, r.number]));
  }

  async orders(q: { deliveryDate?: string; dispensary?: string; refresh?: boolean }): Promise<TripOrders> {
    const { orders, ...copy } = await this.deps.leaftrade.orders(q.refresh ?? false);
    const onTrip = this.ordersOnTrips();
    const dispensaries = [...new Set(orders.map(dispensaryOf))].sort((a, b) => a.localeCompare(b));
    const picked = orders
      .filter((o) => !q.deliveryDate || o.deliveryDate === q.deliveryDate)
      .filter((o) => !q.dispensary || dispensaryOf(o) === q.dispensary)
      .map((o) => ({
        id: o.id,
        invoice: o.invoice,
        deliveryDate: o.deliveryDate,
        dispensary: dispensaryOf(o),
        address: o.address ?? null,
        vendorLicense: o.vendorLicense ?? null,
        // A copy cached before line items were read has none: such an order is packed freely.
        lines: o.lines ?? [],
        onTrip: onTrip.get(o.id) ?? null,
      }));
    return { ...copy, orders: picked, dispensaries };
  }

  /** The approved orders asked for, each checked: approved, not on a trip, asked once. */
  private async approved(orderIds: number[]): Promise<WholesaleOrder[]> {
    const { orders } = await this.deps.leaftrade.orders(false);
    const byId = new Map(orders.map((o) => [o.id, o]));
    const seen = new Set<number>();
    return orderIds.map((id) => {
      if (seen.has(id)) throw new DomainError('invalid', `Order ${id} is picked twice`);
      seen.add(id);
      const order = byId.get(id);
      if (!order) throw new DomainError('not_found', `Order ${id} is not an approved LeafTrade order`);
      return order;
    });
  }

  private checkNotOnTrip(orders: WholesaleOrder[]): void {
    const onTrip = this.ordersOnTrips();
    for (const o of orders) {
      const number = onTrip.get(o.id);
      if (number) throw new DomainError('conflict', `Order ${o.invoice ?? o.id} is already on trip ${number}`);
    }
  }

  private addStops(tripId: number, orders: WholesaleOrder[], firstPosition: number): void {
    orders.forEach((o, i) => {
      const stop = this.db
        .insert(tripStops)
        .values({
          tripId,
          position: firstPosition + i,
          orderId: o.id,
          invoice: o.invoice,
          deliveryDate: o.deliveryDate,
          dispensary: dispensaryOf(o),
          address: o.address ?? '',
          vendorLicense: o.vendorLicense ?? '',
        })
        .returning({ id: tripStops.id })
        .get();
      (o.lines ?? []).forEach((l, k) =>
        this.db
          .insert(tripLines)
          .values({ stopId: stop.id, position: k + 1, product: l.product, quantity: l.quantity, unit: l.unit })
          .run(),
      );
    });
  }

  async create(
    req: { orderIds: number[] } & Omit<TripEdit, 'stopOrder' | 'stops' | 'addOrderIds' | 'removeStopIds'>,
    actor: AuditActor,
  ): Promise<TripView> {
    const orders = await this.approved(req.orderIds);
    const now = this.deps.now();
    const id = this.db.transaction(
      () => {
        this.checkNotOnTrip(orders);
        // From AUTOINCREMENT's sequence, so a deleted trip's number is never given to another.
        const seq = this.db.$client.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'trips'").get() as { seq: number } | undefined;
        const next = (seq?.seq ?? 0) + 1;
        const number = `T-${String(next).padStart(6, '0')}`;
        const trip = this.db
          .insert(trips)
          .values({
            number,
            name: req.name || `Trip ${number}`,
            status: 'draft',
            driverEmployeeId: req.driverEmployeeId ?? '',
            driverName: req.driverName ?? '',
            vehicleId: req.vehicleId ?? '',
            vehicleName: req.vehicleName ?? '',
            createdBy: actor.userId,
            createdAt: now,
            updatedAt: now,
          })
          .returning({ id: trips.id })
          .get();
        this.addStops(trip.id, orders, 1);
        recordAudit(this.db, this.deps.audit, actor, {
          action: 'trips.created',
          entity: 'trip',
          entityId: number,
          after: { number, orders: orders.map((o) => o.id), driver: req.driverName ?? '', vehicle: req.vehicleName ?? '' },
        });
        return trip.id;
      },
      { behavior: 'immediate' },
    );
    return this.view(id);
  }

  async update(tripId: number, edit: TripEdit, actor: AuditActor): Promise<TripView> {
    const added = edit.addOrderIds?.length ? await this.approved(edit.addOrderIds) : [];
    const now = this.deps.now();
    this.db.transaction(
      () => {
        const trip = this.editable(tripId);
        const before = this.view(tripId);
        const stopOf = (stopId: number) => this.stopOn(trip, stopId);
        if (trip.status === 'failed') this.checkFailedEdit(trip, before, edit);
        for (const stopId of edit.removeStopIds ?? []) {
          stopOf(stopId);
          this.db.delete(tripStops).where(eq(tripStops.id, stopId)).run();
        }
        let ids = this.db
          .select({ id: tripStops.id })
          .from(tripStops)
          .where(eq(tripStops.tripId, tripId))
          .orderBy(tripStops.position)
          .all()
          .map((s) => s.id);
        if (edit.stopOrder) {
          const same =
            edit.stopOrder.length === ids.length && new Set(edit.stopOrder).size === ids.length && edit.stopOrder.every((s) => ids.includes(s));
          if (!same) throw new DomainError('invalid', 'The new route order must list each stop of the trip once');
          ids = edit.stopOrder;
        }
        ids.forEach((id, i) =>
          this.db
            .update(tripStops)
            .set({ position: i + 1 })
            .where(eq(tripStops.id, id))
            .run(),
        );
        if (added.length) {
          this.checkNotOnTrip(added);
          this.addStops(tripId, added, ids.length + 1);
        }
        for (const s of edit.stops ?? []) {
          const stop = stopOf(s.stopId);
          const departureAt = s.departureAt === undefined ? stop.departureAt : s.departureAt;
          const arrivalAt = s.arrivalAt === undefined ? stop.arrivalAt : s.arrivalAt;
          if (departureAt !== null && arrivalAt !== null && arrivalAt <= departureAt)
            throw new DomainError('invalid', `Stop ${stop.position} (${stop.dispensary}): the arrival must be after the departure`);
          this.db
            .update(tripStops)
            .set({ departureAt, arrivalAt, route: s.route ?? stop.route, vendorLicense: s.vendorLicense ?? stop.vendorLicense })
            .where(eq(tripStops.id, stop.id))
            .run();
        }
        this.db
          .update(trips)
          .set({
            name: edit.name || trip.name,
            driverEmployeeId: edit.driverEmployeeId ?? trip.driverEmployeeId,
            driverName: edit.driverName ?? trip.driverName,
            vehicleId: edit.vehicleId ?? trip.vehicleId,
            vehicleName: edit.vehicleName ?? trip.vehicleName,
            updatedAt: now,
          })
          .where(eq(trips.id, tripId))
          .run();
        recordAudit(this.db, this.deps.audit, actor, {
          action: 'trips.updated',
          entity: 'trip',
          entityId: trip.number,
          before: auditShape(before),
          after: auditShape(this.view(tripId)),
        });
      },
      { behavior: 'immediate' },
    );
    return this.view(tripId);
  }

  /**
   * What a failed trip may still change: the stops without a manifest (times, route, licence),
   * and driver and vehicle while no stop has one. Its stops stay as they are: the execution
   * numbers its manifests by them.
   */
  private checkFailedEdit(trip: TripRow, before: TripView, edit: TripEdit): void {
    const order = before.stops.map((s) => s.id);
    const reordered = edit.stopOrder && edit.stopOrder.join(',') !== order.join(',');
    if (edit.removeStopIds?.length || edit.addOrderIds?.length || reordered)
      throw new DomainError(
        'conflict',
        `Trip ${trip.number} has been executed in part: its stops cannot be added, taken off or put in another order`,
      );
    const manifested = this.manifested(trip.id);
    const people: [keyof TripEdit, keyof TripView][] = [
      ['driverEmployeeId', 'driverEmployeeId'],
      ['vehicleId', 'vehicleId'],
    ];
    if (manifested.size > 0 && people.some(([k, v]) => edit[k] !== undefined && edit[k] !== before[v]))
      throw new DomainError('conflict', `Stops of trip ${trip.number} already have their manifests with this driver and vehicle: they cannot change`);
    for (const s of edit.stops ?? []) {
      const stop = this.stopOn(trip, s.stopId);
      const changed =
        (s.departureAt !== undefined && s.departureAt !== stop.departureAt) ||
        (s.arrivalAt !== undefined && s.arrivalAt !== stop.arrivalAt) ||
        (s.route !== undefined && s.route !== stop.route) ||
        (s.vendorLicense !== undefined && s.vendorLicense !== stop.vendorLicense);
      if (changed) this.checkStopOpen(trip, stop);
    }
  }

  delete(tripId: number, actor: AuditActor): { deleted: true } {
    this.db.transaction(
      () => {
        const trip = this.draft(tripId);
        const before = auditShape(this.view(tripId));
        this.db.delete(trips).where(eq(trips.id, tripId)).run();
        recordAudit(this.db, this.deps.audit, actor, { action: 'trips.deleted', entity: 'trip', entityId: trip.number, before });
      },
      { behavior: 'immediate' },
    );
    return { deleted: true };
  }

  async pack(req: { tripId: number; stopId: number; lineId?: number; barcode: string; quantity?: number }, actor: AuditActor): Promise<PackResult> {
    const barcode = req.barcode.trim();
    if (!INVENTORY_ID.test(barcode)) throw new DomainError('invalid', `${barcode} is not a BioTrack inventory id: those are 16 digits`);
    this.checkPackable(req.tripId, req.stopId, barcode);
    // The inventory is read before the transaction (it may wait on BioTrack); everything is checked again inside it.
    const report = await this.deps.inventory.inventory(false);
    const item = report.items.find((i) => i.barcode === barcode);
    if (!item) throw new DomainError('not_found', `${barcode} is not in this location's BioTrack inventory`);
    let message = '';
    this.db.transaction(
      () => {
        const { trip, stop } = this.checkPackable(req.tripId, req.stopId, barcode);
        const line = this.lineFor(stop, item, req.lineId);
        const missing = line ? this.missingOn(line) : Infinity;
        const left = this.leftOf(item);
        if (left <= 0) throw new DomainError('conflict', `${barcode} has nothing left: it is all packed on other trips`);
        const quantity = req.quantity ?? Math.min(missing, left);
        if (quantity > left) throw new DomainError('conflict', `${barcode} has only ${qty(left)} left; ${qty(quantity)} is more than that`);
        if (line && quantity > missing)
          throw new DomainError(
            'conflict',
            `${line.product} needs only ${qty(missing)} ${line.unit} more on this stop; ${qty(quantity)} is too many`,
          );
        const now = this.deps.now();
        this.db
          .insert(tripPacks)
          .values({ tripId: trip.id, stopId: stop.id, lineId: line?.id ?? null, barcode, quantity, packedAt: now, packedBy: actor.userId })
          .run();
        this.db.update(trips).set({ updatedAt: now }).where(eq(trips.id, trip.id)).run();
        recordAudit(this.db, this.deps.audit, actor, {
          action: 'trips.packed',
          entity: 'trip',
          entityId: trip.number,
          after: { stop: stop.position, orderId: stop.orderId, line: line?.product ?? null, barcode, quantity },
        });
        message = `Packed ${qty(quantity)} of ${barcode} (${item.product || 'no product name'})${line ? ` for ${line.product}` : ''}, stop ${stop.position}`;
      },
      { behavior: 'immediate' },
    );
    return { trip: this.view(req.tripId), message };
  }

  unpack(tripId: number, packId: number, actor: AuditActor): TripView {
    this.db.transaction(
      () => {
        const trip = this.editable(tripId);
        const pack = this.db
          .select()
          .from(tripPacks)
          .where(and(eq(tripPacks.id, packId), eq(tripPacks.tripId, tripId)))
          .get();
        if (!pack) throw new DomainError('not_found', `That packed item is not on trip ${trip.number}`);
        this.checkStopOpen(trip, this.stopOn(trip, pack.stopId));
        this.db.delete(tripPacks).where(eq(tripPacks.id, packId)).run();
        this.db.update(trips).set({ updatedAt: this.deps.now() }).where(eq(trips.id, tripId)).run();
        recordAudit(this.db, this.deps.audit, actor, {
          action: 'trips.unpacked',
          entity: 'trip',
          entityId: trip.number,
          before: { barcode: pack.barcode, quantity: pack.quantity, stopId: pack.stopId },
        });
      },
      { behavior: 'immediate' },
    );
    return this.view(tripId);
  }

  private stopOn(trip: TripRow, stopId: number): StopRow {
    const stop = this.db
      .select()
      .from(tripStops)
      .where(and(eq(tripStops.id, stopId), eq(tripStops.tripId, trip.id)))
      .get();
    if (!stop) throw new DomainError('not_found', `That stop is not on trip ${trip.number}`);
    return stop;
  }

  /** The refusals that need no inventory: a draft trip, its stop, and the id not packed yet on this trip. */
  private checkPackable(tripId: number, stopId: number, barcode: string): { trip: TripRow; stop: StopRow } {
    const trip = this.editable(tripId);
    const stop = this.stopOn(trip, stopId);
    this.checkStopOpen(trip, stop);
    const packed = this.db
      .select({ stopId: tripPacks.stopId })
      .from(tripPacks)
      .where(and(eq(tripPacks.tripId, tripId), eq(tripPacks.barcode, barcode)))
      .get();
    if (packed?.stopId === stop.id) throw new DomainError('conflict', `${barcode} is already packed on this stop`);
    if (packed) {
      const other = this.db.select().from(tripStops).where(eq(tripStops.id, packed.stopId)).get();
      throw new DomainError('conflict', `${barcode} is already packed on stop ${other?.position} (${other?.dispensary}): one id goes to one stop`);
    }
    return { trip, stop };
  }

  /**
   * The line a scan fills: the one asked for, else the first of the item's product still missing.
   * An item of a product the stop did not order is refused unless its line is chosen: LeafTrade's
   * and BioTrack's names for one product can differ, and then the packer decides, not the station.
   */
  private lineFor(stop: StopRow, item: InventoryItem, lineId: number | undefined): LineRow | null {
    const lines = this.db.select().from(tripLines).where(eq(tripLines.stopId, stop.id)).orderBy(tripLines.position).all();
    if (lineId !== undefined) {
      const line = lines.find((l) => l.id === lineId);
      if (!line) throw new DomainError('not_found', `That line is not on stop ${stop.position}`);
      return line;
    }
    if (lines.length === 0) return null;
    const at = `Stop ${stop.position} (${stop.dispensary})`;
    if (lines.every((l) => this.missingOn(l) === 0)) throw new DomainError('conflict', `${at} has everything it ordered: nothing more to pack`);
    const product = sameProduct(item.product);
    const same = lines.filter((l) => sameProduct(l.product) === product);
    if (same.length === 0)
      throw new DomainError(
        'conflict',
        `${item.barcode} is ${item.product || 'an item without a product name'}: ${at} ordered none of it. Choose the line it fills, then scan it again`,
      );
    const open = same.find((l) => this.missingOn(l) > 0);
    if (!open) throw new DomainError('conflict', `${at} has all the ${same[0].product} it ordered`);
    return open;
  }

  private missingOn(line: LineRow): number {
    const r = this.db.$client.prepare('SELECT coalesce(sum(quantity), 0) AS n FROM trip_packs WHERE line_id = ?').get(line.id) as { n: number };
    return qty(Math.max(0, line.quantity - r.n));
  }

  /** What the item has left once every draft or executing trip's packs of it are taken off. */
  private leftOf(item: InventoryItem): number {
    if (item.quantity === null) return Infinity;
    const r = this.db.$client
      .prepare(
        `SELECT coalesce(sum(p.quantity), 0) AS n FROM trip_packs p JOIN trips t ON t.id = p.trip_id
         WHERE p.barcode = ? AND t.status IN (${HOLDING.map(() => '?').join(', ')})`,
      )
      .get(item.barcode, ...HOLDING) as { n: number };
    return qty(item.quantity - r.n);
  }
}

/** Product names compared without case or extra spaces. */
const sameProduct = (name: string) => name.trim().replace(/\s+/g, ' ').toLowerCase();

function dispensaryOf(o: WholesaleOrder): string {
  return o.store ?? `Order ${o.id}`;
}

/** What an audit row keeps of a trip: enough to see what changed, without the packs' detail. */
function auditShape(v: TripView) {
  return {
    name: v.name,
    driver: `${v.driverEmployeeId} ${v.driverName}`.trim(),
    vehicle: `${v.vehicleId} ${v.vehicleName}`.trim(),
    stops: v.stops.map((s) => ({
      orderId: s.orderId,
      departureAt: s.departureAt,
      arrivalAt: s.arrivalAt,
      route: s.route,
      vendorLicense: s.vendorLicense,
    })),
    packed: v.stops.reduce((n, s) => n + s.packs.length, 0),
  };
}
