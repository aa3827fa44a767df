import { z } from 'zod';
import { channel } from './define';
import { id } from './fields';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobView {
  id: number;
  kind: string;
  status: JobStatus;
  /** 0..1 */
  progress: number;
  /** One line for the progress bar: "12,000 of 80,000 rows · 95,000 rows/s · 1 s left". */
  progressText: string | null;
  rowsDone: number;
  rowsTotal: number | null;
  rowsPerSecond: number | null;
  secondsLeft: number | null;
  result: unknown;
  error: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export const jobChannels = {
  'jobs/get': channel<JobView>()({
    request: z.strictObject({ jobId: id }),
    access: 'signed-in',
    summary: 'A background job’s state and result.',
  }),
  'jobs/cancel': channel<JobView>()({
    request: z.strictObject({ jobId: id }),
    access: ['admin', 'biller'],
    summary: 'Ask a running job to stop after its current batch.',
  }),
};
