import type { ManifestRequest } from '../../src/main/upstreams/biotrack/manifests';
import type { BioTrackSimulator } from '../../src/simulators/biotrack';
import type { TestWindow } from './station';

export const HOUR = 3_600_000;

/** Live items of the simulator's facility, in order. */
export const liveItems = (sim: BioTrackSimulator) =>
  sim.inventory.filter((i) => i.location === sim.credentials.location && String(i.deleted) !== '1').map((i) => i.id);

/**
 * A trip's plan over the simulator's inventory: `stops` stops of `perStop` items each, leaving
 * (by the real clock, as BioTrack checks) `hoursAhead` hours from now, an hour apart.
 */
export function tripPlan(sim: BioTrackSimulator, stops: number, { perStop = 2, hoursAhead = 2, from = Date.now() } = {}): ManifestRequest {
  const items = liveItems(sim);
  if (items.length < stops * perStop) throw new Error(`the simulator has ${items.length} items, the plan needs ${stops * perStop}`);
  return {
    employeeId: '001',
    vehicleId: 'V7',
    location: sim.credentials.location,
    stops: Array.from({ length: stops }, (_, i) => {
      const departure = from + hoursAhead * HOUR + i * HOUR;
      return {
        stopNumber: i + 1,
        vendorLicense: String(412300 + i),
        barcodes: items.slice(i * perStop, (i + 1) * perStop),
        departure,
        arrival: departure + HOUR / 2,
        route: `Route to stop ${i + 1}`,
      };
    }),
  };
}

/** How many manifests BioTrack holds for each stop of the plan (voided ones counted too). */
export const manifestsPerStop = (sim: BioTrackSimulator, plan: ManifestRequest) => plan.stops.map((s) => sim.manifestsFor(s.barcodes).length);

/** An admin's window points the station at the simulator: this facility's location and BioTrack's credentials. */
export async function connectBioTrack(admin: Pick<TestWindow, 'ok'>, credentials: BioTrackSimulator['credentials']): Promise<void> {
  await admin.ok('settings/update', { idleLockMinutes: 240, biotrackLocation: credentials.location });
  await admin.ok('sync/set-credential', { name: 'biotrack.license', value: credentials.license });
  await admin.ok('sync/set-credential', { name: 'biotrack.username', value: credentials.username });
  await admin.ok('sync/set-credential', { name: 'biotrack.password', value: credentials.password });
}
