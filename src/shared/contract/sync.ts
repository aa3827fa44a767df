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

/** How fresh a read from an upstream is: every upstream report carries this. */
export interface CachedCopy {
  fetchedAt: number;
  /** Served from the station's cache (fresh enough, or the upstream could not be reached). */
  fromCache: boolean;
  ageSeconds: number;
  /** Why the cached copy is shown instead of fresh data, or null. */
  warning: string | null;
}

/** Names of the credentials the station keeps in its secret store. */
export const CREDENTIAL_NAMES = [
  'erp.DD.username',
  'erp.DD.password',
  'erp.CBR.username',
  'erp.CBR.password',
  'leaftrade.token',
  'biotrack.license',
  'biotrack.username',
  'biotrack.password',
] as const;
export type CredentialName = (typeof CREDENTIAL_NAMES)[number];

/*
 * What people call the upstreams, credentials and outbox changes on screen. The keys stay the
 * stable identifiers (in the database, logs, audit rows and tests); only the screen shows these.
 */
const UPSTREAM_LABELS: Record<string, string> = {
  bags: 'Site hub',
  'erp-DD': 'ERP DD',
  'erp-CBR': 'ERP CBR',
  leaftrade: 'LeafTrade',
  biotrack: 'BioTrack',
  mail: 'Mail',
};

/** An upstream's name for people ("ERP DD" for `erp-DD`); an unknown key is shown as it is. */
export function upstreamLabel(key: string): string {
  return UPSTREAM_LABELS[key] ?? key;
}

export const CREDENTIAL_LABELS: Record<CredentialName, string> = {
  'erp.DD.username': 'ERP DD — user name',
  'erp.DD.password': 'ERP DD — password',
  'erp.CBR.username': 'ERP CBR — user name',
  'erp.CBR.password': 'ERP CBR — password',
  'leaftrade.token': 'LeafTrade — token',
  'biotrack.license': 'BioTrack — company UBI',
  'biotrack.username': 'BioTrack — user name',
  'biotrack.password': 'BioTrack — password',
};

const CHANGE_LABELS: Record<string, string> = {
  bag_created: 'New bag',
  bag_deleted: 'Bag deleted',
  link_child: 'Child put on a parent',
  unlink_child: 'Child taken off a parent',
  import_links: 'Imported links',
  bill_finalized: 'Bill finalized',
  mail: 'Mail',
};

/** An outbox change for people ("New bag" for `bag_created@1`); an unknown one is shown as it is. */
export function changeLabel(op: string): string {
  return CHANGE_LABELS[op.replace(/@\d+$/, '')] ?? op;
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
  /** `source` is the upstream's key (erp-DD, leaftrade, biotrack), as in sync/status. */
  'sync/prewarm': channel<{ source: string; rows: number | null; error: string | null }[]>()({
    request: empty,
    access: ['admin'],
    summary: 'Fetch and cache now what every configured read upstream serves (ERP instances, LeafTrade, BioTrack).',
  }),
  'sync/credentials': channel<{ name: CredentialName; set: boolean }[]>()({
    request: empty,
    access: ['admin'],
    summary: 'Which upstream credentials are set (never their values).',
  }),
  'sync/credential-store': channel<{ problem: string | null }>()({
    request: empty,
    access: ['admin'],
    summary: 'Whether this station can lock credentials away; if not, why and what to do, in words for the admin.',
  }),
  'sync/set-credential': channel<{ name: CredentialName; set: boolean }[]>()({
    request: z.strictObject({ name: z.enum(CREDENTIAL_NAMES), value: z.string().max(500, 'At most 500 characters') }),
    access: ['admin'],
    summary: 'Set (or, with an empty value, clear) an upstream credential.',
  }),
};
