import { z } from 'zod';

/**
 * The site hub's HTTP API, shared by the hub and (next) the station's hub client.
 * Every call but /v1/enrol carries `Authorization: Bearer <station token>`.
 *
 * The ops are the station outbox's own records (src/main/outbox, `op@version` names and payloads as
 * the station writes them), so the station sends what it already queues.
 */

const code = z.string().trim().min(1, 'a bag id is required').max(64, 'a bag id is at most 64 characters');
const at = z.number().int('at is a time in ms since 1970').nonnegative();
const by = z.string().trim().min(1, 'by (the person) is required').max(64);

/** Payloads by op name, as src/main writes them (bags/dock-door.ts, bags/lookup.ts, bills/service.ts, imports/commit.ts). */
export const HUB_OP_PAYLOADS = {
  'bag_created@1': z.object({ code, kind: z.enum(['parent', 'child']), at, by, station: z.string().optional() }),
  'link_child@1': z.object({ child: code, parent: code, at, by, station: z.string().optional() }),
  'unlink_child@1': z.object({ child: code, parent: code, at, by, deleteChild: z.boolean().optional() }),
  'bag_deleted@1': z.object({ code, at, by, reason: z.string().max(500).optional() }),
  'import_links@1': z.object({
    file: z.string().max(500).optional(),
    job: z.number().optional(),
    links: z.array(z.tuple([code, code])).max(10_000, 'an import op carries at most 10,000 links'),
    at,
    by,
    station: z.string().optional(),
  }),
  /** A dispatcher's resolution of a conflict: the child goes from the parent the site has it on to this station's. */
  'move_child@1': z.object({ child: code, from: code, to: code, at, by, station: z.string().optional() }),
  'bill_finalized@1': z.object({
    number: z.string().trim().min(1).max(64),
    parents: z.array(z.object({ code, children: z.number().int().nonnegative() })).max(10_000),
    childCount: z.number().int().nonnegative(),
    weightKg: z.number().nonnegative(),
    kgPerChild: z.number().nonnegative(),
    at,
    by,
    station: z.string().optional(),
  }),
} as const;
export type HubOpName = keyof typeof HUB_OP_PAYLOADS;
export type HubOpPayload<N extends HubOpName> = z.infer<(typeof HUB_OP_PAYLOADS)[N]>;

/** One op as pushed. `at` and `user` default to the payload's own `at` and `by`. */
export const hubOpSchema = z.object({
  opId: z.string().min(8, 'opId must be a unique id (a UUID)').max(100),
  op: z.string().min(1).max(64),
  payload: z.unknown(),
  at: at.optional(),
  user: by.optional(),
});
export type HubOp = z.infer<typeof hubOpSchema>;

/** A batch is checked for shape only; each op is checked on its own so one bad op fails alone. */
export const pushRequestSchema = z.object({
  station: z.string().optional(),
  ops: z.array(z.unknown()).max(1000, 'at most 1,000 ops a batch'),
});

/** Who holds what the op wanted: the answer to a conflict. */
export interface HubWinner {
  child?: string;
  parent?: string;
  station: string;
  user: string;
  /** When the winner did it, ms since 1970 (the station's clock). */
  at: number;
  seq: number | null;
}

export interface HubOpResult {
  opId: string;
  status: 'ok' | 'conflict' | 'error';
  message?: string;
  /** Site-wide sequence number of the applied op (ok; conflict when part of it was applied). */
  seq?: number;
  winner?: HubWinner;
  /** An import whose links partly lost: every child that was on another parent. */
  winners?: HubWinner[];
  /** This op id was answered before: this is that first answer again, and nothing was applied now. */
  duplicate?: boolean;
}

export interface PushResponse {
  results: HubOpResult[];
}

export const enrolRequestSchema = z.object({
  code: z.string().trim().min(1, 'the enrolment code is required').max(64),
  stationName: z.string().trim().min(1, 'the station name is required').max(64, 'a station name is at most 64 characters'),
});
export interface EnrolResponse {
  stationId: number;
  stationName: string;
  /** Shown once: the hub keeps only its hash. */
  token: string;
}

/**
 * Lease events the hub itself puts on the feed (src/hub/leases.ts). They are not ops: a station
 * cannot push them (POST /v1/ops applies HUB_OP_PAYLOADS only), it claims and releases through
 * /v1/leases. Times are ISO strings of PostgreSQL's clock.
 */
export interface LeaseEventPayloads {
  'lease_claimed@1': { resource: string; leaseId: string; user: string; station: string; claimedAt: string; expiresAt: string; ttlMs: number };
  'lease_released@1': { resource: string; leaseId: string; user: string; station: string; claimedAt: string; releasedAt: string };
  /** `user` and `station` are the holder's; `by`, `byStation` and `reason` the admin's. */
  'lease_broken@1': {
    resource: string;
    leaseId: string;
    user: string;
    station: string;
    claimedAt: string;
    by: string;
    byStation: string;
    reason: string;
    brokenAt: string;
  };
  'lease_expired@1': { resource: string; leaseId: string; user: string; station: string; claimedAt: string; expiredAt: string };
}
export type LeaseEventName = keyof LeaseEventPayloads;
export const LEASE_EVENTS: readonly LeaseEventName[] = ['lease_claimed@1', 'lease_released@1', 'lease_broken@1', 'lease_expired@1'];
/** What a feed entry's op can be: a station's applied op or a lease event. */
export type FeedOpName = HubOpName | LeaseEventName;

export interface FeedEntry {
  seq: number;
  opId: string;
  op: FeedOpName;
  payload: unknown;
  station: string;
  user: string;
  at: number;
  appliedAt: string;
}
export interface FeedResponse {
  entries: FeedEntry[];
  /** The last seq in this page (or `since` when empty): the next call's `since`. */
  next: number;
  /** More entries wait after this page. */
  more: boolean;
}

/** A refusal of a whole request (not of one op). */
export interface HubErrorBody {
  error: {
    code: 'invalid' | 'unauthenticated' | 'not_found' | 'too_large' | 'internal' | LeaseRefusalCode;
    message: string;
    issues?: { path: string; message: string }[];
  };
  /** Lease refusals: who holds the resource now (null: no one). */
  holder?: LeaseHolder | null;
}

// Leases (src/hub/leases.ts): a resource such as "rack:Ground/R1" held by one person at one station
// until expiresAt (PostgreSQL's clock); renewed by its holder, released by its holder, broken by an admin.

export const LEASE_TTL_MS = { default: 60_000, min: 5_000, max: 600_000 } as const;
export const PRESENCE_TTL_MS = { default: 90_000, min: 5_000, max: 600_000 } as const;

const resource = z
  .string({ error: (i) => (i.input === undefined ? 'resource is required (e.g. "rack:Ground/R1")' : 'resource is text (e.g. "rack:Ground/R1")') })
  .trim()
  .min(1, 'resource is required (e.g. "rack:Ground/R1")')
  .max(200, 'resource is at most 200 characters');
const person = (field: string) =>
  z
    .string({ error: (i) => (i.input === undefined ? `${field} (the person) is required` : `${field} is a user name`) })
    .trim()
    .min(1, `${field} (the person) is required`)
    .max(64, `${field} is at most 64 characters`);
const leaseId = z
  .string({ error: (i) => (i.input === undefined ? 'leaseId (from the claim) is required' : 'leaseId is the id the claim answered (a UUID)') })
  .uuid('leaseId is the id the claim answered (a UUID)');
const ttl = (field: string, limits: { default: number; min: number; max: number }) =>
  z
    .number({ error: `${field} is a number of milliseconds` })
    .int(`${field} is a whole number of milliseconds`)
    .min(limits.min, `${field} is at least ${limits.min} (${limits.min / 1000} s)`)
    .max(limits.max, `${field} is at most ${limits.max} (${limits.max / 60_000} minutes)`)
    .default(limits.default);

export const leaseClaimSchema = z.object({ resource, user: person('user'), ttlMs: ttl('ttlMs', LEASE_TTL_MS) });
export const leaseRenewSchema = z.object({ resource, leaseId });
export const leaseReleaseSchema = z.object({ resource, leaseId });
export const leaseBreakSchema = z.object({
  resource,
  by: person('by'),
  reason: z
    .string({ error: (i) => (i.input === undefined ? 'reason is required: the holder is told why' : 'reason is text') })
    .trim()
    .min(1, 'reason is required: the holder is told why')
    .max(500, 'reason is at most 500 characters'),
  /** Break only this lease (the one the admin saw); without it, whichever lease holds the resource. */
  leaseId: leaseId.optional(),
});
export const leaseListQuery = z.object({ prefix: z.string({ error: 'prefix is text' }).max(200, 'prefix is at most 200 characters').default('') });
export const presenceSchema = z.object({ user: person('user'), ttlMs: ttl('ttlMs', PRESENCE_TTL_MS) });

export type LeaseRefusalCode = 'held' | 'lost' | 'not_holder' | 'not_held';

export interface Lease {
  resource: string;
  leaseId: string;
  user: string;
  station: string;
  claimedAt: string;
  expiresAt: string;
  ttlMs: number;
}
/** Who holds a resource, as a refusal names them. */
export interface LeaseHolder {
  user: string;
  station: string;
  since: string;
  expiresAt: string;
}
/** POST /v1/leases/claim and /renew. */
export interface LeaseResponse {
  lease: Lease;
}
/** POST /v1/leases/release. */
export interface LeaseReleaseResponse {
  released: Lease;
}
/** POST /v1/leases/break: the lease that was broken (its holder is the one to tell). */
export interface LeaseBreakResponse {
  broken: Lease;
  by: string;
  reason: string;
}
export interface LeaseListResponse {
  leases: Lease[];
}
export interface Presence {
  user: string;
  station: string;
  lastSeen: string;
  expiresAt: string;
}
export interface PresenceListResponse {
  presence: Presence[];
}

/** Zod issues in words, with the path into the payload. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}
