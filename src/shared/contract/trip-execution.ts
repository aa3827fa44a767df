import { z } from 'zod';
import { channel } from './define';
import { id } from './fields';

export type TripExecutionStatus = 'pending' | 'processing' | 'completed' | 'failed';

export interface TripStopManifest {
  stopNumber: number;
  state: 'intent' | 'created' | 'refused' | 'voided';
  /** BioTrack's 16-digit manifest id, once it came back (or was found after a lost answer). */
  manifestId: string | null;
  error: string | null;
}

/** A trip's execution: where it is, in words, and each stop's manifest. */
export interface TripExecutionView {
  tripId: number;
  /** The trip's number (T-000042) for progress shown away from the trip; null if the trip is gone. */
  tripNumber: string | null;
  status: TripExecutionStatus;
  /** Recordings made so far, before and after each BioTrack call. */
  step: number;
  stopsTotal: number;
  stopsDone: number;
  /** One line for the progress bar, e.g. "Creating the manifest for stop 2 of 3". */
  message: string | null;
  attempts: number;
  /** BioTrack's words when it refused, or why it could not be reached. */
  lastError: string | null;
  failedStop: number | null;
  stops: TripStopManifest[];
  createdAt: number;
  startedAt: number | null;
  updatedAt: number;
  finishedAt: number | null;
}

export const tripExecutionChannels = {
  'trips/execute': channel<TripExecutionView>()({
    request: z.strictObject({ tripId: id }),
    access: ['admin', 'dispatcher'],
    summary: 'Create the trip’s BioTrack manifests (one per stop) as a job that survives restarts.',
  }),
  'trips/retry': channel<TripExecutionView>()({
    request: z.strictObject({ tripId: id }),
    access: ['admin', 'dispatcher'],
    summary: 'Continue a failed execution from the stop where it stopped (after the trip was corrected).',
  }),
  'trips/void-stop': channel<TripExecutionView>()({
    request: z.strictObject({ tripId: id, stopNumber: z.number().int().min(1).max(1000) }),
    access: ['admin'],
    summary: 'Void the BioTrack manifest of one stop (audited).',
  }),
  'trips/execution': channel<TripExecutionView | null>()({
    request: z.strictObject({ tripId: id }),
    access: 'signed-in',
    summary: 'The execution of a trip, or null when it was never executed.',
  }),
};
