import { DomainError } from '../../../shared/envelope';
import { UpstreamError } from '../http';
import type { Answer, BioTrackClient } from './client';

/**
 * Transfer manifests in BioTrack's 2014 API. Creating and voiding are not idempotent and this API
 * has no manifest lookup: a manifest's state (`deleted`, `fulfilled`) comes from `sync_manifest`.
 * So a create whose answer was lost is never simply sent again: the caller (the trip job) keeps
 * what it asked for, and `createManifestOnce` looks it up in sync_manifest before any new create.
 */
export interface ManifestStop {
  stopNumber: number;
  /** The receiving licensee. */
  vendorLicense: string;
  /** BioTrack inventory ids (16-digit strings). */
  barcodes: string[];
  /** Times in ms since the epoch; BioTrack gets Unix seconds. */
  departure: number;
  arrival: number;
  route: string;
}

export interface ManifestRequest {
  employeeId: string;
  vehicleId: string;
  /** The sending facility's 6-digit licence. */
  location: string;
  stops: ManifestStop[];
}

export interface ManifestState {
  manifestId: string;
  location: string;
  deleted: boolean;
  fulfilled: boolean;
  stops: { stopNumber: number; licenseNumber: string; items: string[] }[];
}

const ID = /^\d{1,20}$/;
const flag = (v: unknown) => v === 1 || v === '1' || v === true;
const list = (v: unknown): Answer[] => (Array.isArray(v) ? v.filter((r): r is Answer => typeof r === 'object' && r !== null) : []);

/** What is wrong with a manifest before it is sent, in words; empty when it can go. */
export function manifestProblems(m: ManifestRequest, now: number): string[] {
  const problems: string[] = [];
  if (!m.employeeId.trim()) problems.push('Choose the driver (employee)');
  if (!m.vehicleId.trim()) problems.push('Choose the vehicle');
  if (!/^\d{6}$/.test(m.location)) problems.push('The sending location must be the 6-digit facility licence');
  if (m.stops.length === 0) problems.push('A manifest needs at least one stop');
  const seen = new Set<string>();
  for (const s of m.stops) {
    const at = `Stop ${s.stopNumber}`;
    if (!Number.isFinite(s.departure)) problems.push(`${at}: the departure time is missing`);
    else if (s.departure <= now) problems.push(`${at}: the departure time is in the past`);
    if (!Number.isFinite(s.arrival)) problems.push(`${at}: the arrival time is missing`);
    else if (Number.isFinite(s.departure) && s.arrival <= s.departure) problems.push(`${at}: arrival must be after departure`);
    if (!s.route.trim()) problems.push(`${at}: describe the route`);
    if (!s.vendorLicense.trim()) problems.push(`${at}: the receiving licence is missing`);
    if (s.barcodes.length === 0) problems.push(`${at}: no items`);
    for (const b of s.barcodes) {
      if (!ID.test(b)) problems.push(`${at}: ${b} is not a BioTrack inventory id`);
      else if (seen.has(b)) problems.push(`${at}: ${b} is on the manifest twice`);
      seen.add(b);
    }
  }
  return problems;
}

/** Sends the manifest once. The id comes back as `barcode_id`, a 16-digit string. */
export async function createManifest(client: BioTrackClient, m: ManifestRequest, now: number): Promise<string> {
  const problems = manifestProblems(m, now);
  if (problems.length) throw new DomainError('invalid', problems.join('; '));
  const a = await client.call('inventory_manifest', {
    employee_id: m.employeeId,
    vehicle_id: m.vehicleId,
    location: m.location,
    stop_overview: m.stops.map((s) => ({
      stop_number: s.stopNumber,
      vendor_license: s.vendorLicense,
      approximate_departure: Math.floor(s.departure / 1000),
      approximate_arrival: Math.floor(s.arrival / 1000),
      approximate_route: s.route,
      barcodeid: s.barcodes,
    })),
  });
  // A 16-digit number would lose digits as a JSON number: only a string id can be trusted.
  if (typeof a.barcode_id !== 'string' || !ID.test(a.barcode_id)) {
    throw new UpstreamError('biotrack', 'malformed', 'BioTrack created a manifest but its id (barcode_id) is missing or not a string of digits');
  }
  return a.barcode_id;
}

/** Every manifest BioTrack lists for this company (sync_manifest: three flat lists joined on manifestid and stopnumber). */
export async function listManifests(client: BioTrackClient): Promise<ManifestState[]> {
  const a = await client.call('sync_manifest', { download: 1 });
  const byId = new Map<string, ManifestState>();
  for (const m of list(a.manifest)) {
    const id = String(m.manifestid ?? '');
    if (ID.test(id))
      byId.set(id, { manifestId: id, location: String(m.location ?? ''), deleted: flag(m.deleted), fulfilled: flag(m.fulfilled), stops: [] });
  }
  const stop = (m: ManifestState, n: number) => {
    let s = m.stops.find((x) => x.stopNumber === n);
    if (!s) m.stops.push((s = { stopNumber: n, licenseNumber: '', items: [] }));
    return s;
  };
  for (const d of list(a.manifest_stop_data)) {
    const m = byId.get(String(d.manifestid ?? ''));
    if (m && !flag(d.deleted)) stop(m, Number(d.stopnumber)).licenseNumber = String(d.license_number ?? '');
  }
  for (const item of list(a.manifest_stop_items)) {
    const m = byId.get(String(item.manifestid ?? ''));
    if (m && !flag(item.deleted)) stop(m, Number(item.stopnumber)).items.push(String(item.inventoryid ?? ''));
  }
  for (const m of byId.values()) m.stops.sort((x, y) => x.stopNumber - y.stopNumber);
  return [...byId.values()];
}

export async function manifestState(client: BioTrackClient, manifestId: string): Promise<ManifestState | null> {
  return (await listManifests(client)).find((m) => m.manifestId === manifestId) ?? null;
}

/** A live manifest from this location with exactly these stops and items: the one an ambiguous create made, if it did. */
export async function findManifest(client: BioTrackClient, m: ManifestRequest): Promise<ManifestState | null> {
  const want = m.stops
    .map((s) => `${s.stopNumber}|${s.vendorLicense}|${[...s.barcodes].sort().join(',')}`)
    .sort()
    .join(';');
  const matches = (await listManifests(client)).filter(
    (x) =>
      !x.deleted &&
      x.location === m.location &&
      x.stops
        .map((s) => `${s.stopNumber}|${s.licenseNumber}|${[...s.items].sort().join(',')}`)
        .sort()
        .join(';') === want,
  );
  return matches.at(-1) ?? null;
}

/**
 * Creates a manifest unless BioTrack already has it. `maybeSent`: an earlier try may have reached
 * BioTrack (the job crashed or lost the answer), so look before creating. After an ambiguous
 * failure of this try, look again: a manifest found is the one this try made.
 */
export async function createManifestOnce(
  client: BioTrackClient,
  m: ManifestRequest,
  now: number,
  maybeSent = false,
): Promise<{ manifestId: string; recovered: boolean }> {
  if (maybeSent) {
    const found = await findManifest(client, m);
    if (found) return { manifestId: found.manifestId, recovered: true };
  }
  try {
    return { manifestId: await createManifest(client, m, now), recovered: false };
  } catch (error) {
    if (!(error instanceof UpstreamError) || !error.ambiguous) throw error;
    const found = await findManifest(client, m);
    if (found) return { manifestId: found.manifestId, recovered: true };
    throw error;
  }
}

/** Voids a manifest; after an ambiguous failure, sync_manifest says whether it took. */
export async function voidManifest(client: BioTrackClient, manifestId: string): Promise<void> {
  try {
    await client.call('inventory_manifest_void', { manifest_id: manifestId });
  } catch (error) {
    if (!(error instanceof UpstreamError) || !error.ambiguous) throw error;
    const state = await manifestState(client, manifestId);
    if (!state?.deleted) throw error;
  }
}
