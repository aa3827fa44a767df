import type { TripExecutionView } from '../../shared/contract/trip-execution';
import type { MailMessage } from '../mail/service';
import type { TripPlan } from './plan';

/** The same end of the same run is one mail; a Retry that ends again is a new one. */
export function tripMailKey(view: TripExecutionView): string {
  return `trip:${view.tripId}:${view.status}:${view.attempts}`;
}

/** Station-local date and minute, as the trip screen shows them. */
function at(ms: number): string {
  if (!Number.isFinite(ms)) return 'not set';
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

const named = (name: string, id: string) => (name && id ? `${name} (${id})` : name || id || 'not set');

/**
 * The mail sent when a trip's execution ends: the subject says done or failed (and where), the
 * body lists each stop in route order with its manifest id or what went wrong, so the reader
 * needs no station to know what to do next.
 */
export function tripEndedMail(view: TripExecutionView, plan: TripPlan, stationName: string): MailMessage {
  const trip = plan.tripNumber;
  const failed = view.status === 'failed';
  const subject = failed
    ? `Trip ${trip} stopped${view.failedStop ? ` at stop ${view.failedStop}` : ''}: it needs a fix and Retry`
    : `Trip ${trip} executed: ${view.stopsDone} BioTrack ${view.stopsDone === 1 ? 'manifest' : 'manifests'} created`;
  const lines = plan.stops.map((s) => {
    const m = view.stops.find((x) => x.stopNumber === s.stopNumber);
    const state =
      m?.state === 'created'
        ? `manifest ${m.manifestId}`
        : m?.state === 'refused'
          ? `refused: ${m.error ?? 'no reason given'}`
          : m?.state === 'voided'
            ? `manifest ${m.manifestId} voided`
            : 'no manifest yet';
    return `${s.stopNumber}. ${s.dispensary} (licence ${s.vendorLicense || 'not set'}), leaves ${at(s.departure)}, arrives ${at(s.arrival)}: ${state}`;
  });
  const text = [
    failed
      ? `The execution of trip ${trip} stopped: ${view.lastError ?? 'no reason given'}.`
      : `All ${view.stopsDone} manifests of trip ${trip} were created at BioTrack.`,
    '',
    `Driver: ${named(plan.driverName, plan.employeeId)} · Vehicle: ${named(plan.vehicleName, plan.vehicleId)}`,
    '',
    ...lines,
    '',
    failed
      ? 'Open the trip on the station, correct it (times, route, packed items), then press Retry: it goes on from the stop that stopped.'
      : 'The manifest PDF is on the trip’s page at the station.',
    '',
    `Sent by the Dockside station "${stationName}".`,
  ].join('\n');
  return { subject, text };
}
