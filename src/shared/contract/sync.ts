import { z } from 'zod';
import { channel } from './define';
import { empty, id } from './fields';

export interface UpstreamStatus {
  upstream: string;
  online: boolean;
  queued: number;
  stuck: number;
  lastSuccessAt: number | null;
  lastError: string | null;
  restingUntil: number | null;
  /** Read upstreams: when the oldest cached copy was fetched (null: nothing cached). */
  cachedAt?: number | null;
}

export interface StuckRecord {
  seq: number;
  upstream: string;
  op: string;
  attempts: number;
  lastError: string | null;
  createdAt: number;
}

export const syncChannels = {
  'sync/status': channel<UpstreamStatus[]>()({
    request: empty,
    access: 'signed-in',
    summary: 'Per upstream: online or not, records waiting, records stuck, last success.',
  }),
  'sync/stuck': channel<StuckRecord[]>()({
    request: empty,
    access: ['admin'],
    summary: 'Records that kept failing and wait for an admin.',
  }),
  'sync/retry': channel<null>()({
    request: z.strictObject({ seq: id }),
    access: ['admin'],
    summary: 'Send a stuck record again.',
  }),
  'sync/discard': channel<null>()({
    request: z.strictObject({ seq: id, reason: z.string().trim().min(3, 'Say why (3+ characters)').max(200) }),
    access: ['admin'],
    summary: 'Give up on a stuck record; it is kept, marked discarded, and audited.',
  }),
  'sync/drain-now': channel<null>()({
    request: empty,
    access: ['admin'],
    summary: 'Try every upstream now instead of waiting for the next round.',
  }),
};
