import type { TripExecutionView } from '../../../shared/contract/trip-execution';
import { on } from './client';

/**
 * The last trip execution this window heard of (main pushes them to the person who started it
 * and to admins), so the rail shows its progress on every screen and says when it ended.
 */
export const tripRuns = $state({ latest: null as TripExecutionView | null });

export const isRunning = (v: TripExecutionView) => v.status === 'pending' || v.status === 'processing';

/** A short word for the rail: "2 of 3", "Done", "Failed". */
export function railNote(v: TripExecutionView | null): string | null {
  if (!v) return null;
  if (isRunning(v)) return `${v.stopsDone} of ${v.stopsTotal}`;
  return v.status === 'completed' ? 'Done' : 'Failed';
}

export function trackTripRuns(): () => void {
  const stop = on('trip/progress', (v) => {
    tripRuns.latest = v;
  });
  return () => {
    stop();
    tripRuns.latest = null;
  };
}
