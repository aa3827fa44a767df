import { eq } from 'drizzle-orm';
import { DomainError } from '../../shared/envelope';
import type { Db } from '../db/open';
import { settings, tripPacks, trips, tripStops } from '../db/schema';
import type { TripExecutionStatus } from '../../shared/contract/trip-execution';
import type { ManifestRequest, ManifestStop } from '../upstreams/biotrack/manifests';

export interface PlannedStop extends ManifestStop {
  stopId: number;
  orderId: number;
  dispensary: string;
}

/** A trip as BioTrack's manifest wants it, with the trip's own ids kept beside each stop. */
export interface TripPlan extends ManifestRequest {
  tripId: number;
  tripNumber: string;
  driverName: string;
  vehicleName: string;
  stops: PlannedStop[];
}

/**
 * The manifest a trip asks for: driver, vehicle, this station's BioTrack location and, per stop in
 * route order, the receiving licence, the packed inventory ids and the times and route. A time
 * not set yet is NaN, so `manifestProblems` names it rather than BioTrack refusing it.
 */
export function loadPlan(db: Db, tripId: number): TripPlan {
  const trip = db.select().from(trips).where(eq(trips.id, tripId)).get();
  if (!trip) throw new DomainError('not_found', `No trip with id ${tripId}`);
  const stops = db.select().from(tripStops).where(eq(tripStops.tripId, tripId)).orderBy(tripStops.position).all();
  const packs = db.select().from(tripPacks).where(eq(tripPacks.tripId, tripId)).orderBy(tripPacks.id).all();
  return {
    tripId,
    tripNumber: trip.number,
    driverName: trip.driverName,
    vehicleName: trip.vehicleName,
    employeeId: trip.driverEmployeeId,
    vehicleId: trip.vehicleId,
    location: stationLocation(db),
    stops: stops.map((s) => ({
      stopId: s.id,
      orderId: s.orderId,
      dispensary: s.dispensary,
      stopNumber: s.position,
      vendorLicense: s.vendorLicense,
      barcodes: packs.filter((p) => p.stopId === s.id).map((p) => p.barcode),
      departure: s.departureAt ?? Number.NaN,
      arrival: s.arrivalAt ?? Number.NaN,
      route: s.route,
    })),
  };
}

/** The facility's 6-digit BioTrack licence from the station settings (Admin → Sync); '' when not set. */
function stationLocation(db: Db): string {
  const row = db.select().from(settings).where(eq(settings.key, 'station')).get();
  if (!row) return '';
  const value = JSON.parse(row.value) as { biotrackLocation?: unknown };
  return typeof value.biotrackLocation === 'string' ? value.biotrackLocation : '';
}

/**
 * The execution job's state, mirrored on its trip: `execution_status` as the job has it, and the
 * trip's own status (executing while the job runs, done or failed after), so the trip is no longer
 * edited or packed as a draft once it is being executed.
 */
export function mirrorExecutionStatus(db: Db, tripId: number, status: TripExecutionStatus, now: number): void {
  const tripStatus = status === 'completed' ? 'done' : status === 'failed' ? 'failed' : 'executing';
  db.update(trips).set({ executionStatus: status, status: tripStatus, updatedAt: now }).where(eq(trips.id, tripId)).run();
}
