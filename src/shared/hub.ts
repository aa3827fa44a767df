import { z } from 'zod';
import { ROLES } from './roles';

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

/** `scrypt$log2N$r$p$salt$hash` as src/main/auth/passwords.ts hashSecret writes it (its storedKdf reads log2N up to 20). */
const scryptHash = z
  .string()
  .max(200, 'a credential hash is at most 200 characters')
  .regex(
    /^scrypt\$([1-9]|1\d|20)\$[1-9]\d{0,2}\$[1-9]\d{0,2}\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/,
    'not a scrypt hash (scrypt$log2N$r$p$salt$hash)',
  );

/**
 * A person as the whole site sees them (users, roles, credential hashes), sent whole on every change:
 * the newest version wins, by updatedAt and then station name. The TOTP secret travels opened
 * (each station seals it with its own key); `totp` left out means the sending station could not
 * open its copy, and everyone keeps theirs. Recovery codes never leave a station.
 */
const userSaved = z.object({
  username: z
    .string()
    .min(2, 'a user name has at least 2 characters')
    .max(32, 'a user name has at most 32 characters')
    .regex(/^[a-z0-9._-]+$/, 'a user name is lower case letters, digits, dot, dash and underscore'),
  displayName: z.string().trim().min(1, 'the name is required').max(64, 'a name is at most 64 characters'),
  role: z.enum(ROLES, `the role is one of ${ROLES.join(', ')}`),
  passwordHash: scryptHash.nullable(),
  pinHash: scryptHash.nullable(),
  disabled: z.boolean('disabled is true or false'),
  totp: z
    .object({
      secret: z.string().regex(/^[A-Z2-7]{16,128}$/, 'a TOTP secret is 16 to 128 base32 characters'),
      enrolledAt: at,
    })
    .nullable()
    .optional(),
  /** When this version was saved, ms since 1970: the newer one wins site-wide. */
  updatedAt: at,
  at,
  by,
  station: z.string().optional(),
});

/** A rack's id, e.g. "R1" (unique with its floor site-wide). */
export const rackIdSchema = z
  .string({ error: (i) => (i.input === undefined ? 'rackId is required (e.g. "R1")' : 'rackId is text (e.g. "R1")') })
  .trim()
  .min(1, 'rackId is required (e.g. "R1")')
  .max(64, 'rackId is at most 64 characters')
  .regex(/^[^/]*$/, 'rackId cannot contain "/"');
/** A floor's name, e.g. "Ground". */
export const floorSchema = z
  .string({ error: (i) => (i.input === undefined ? 'floor is required (e.g. "Ground")' : 'floor is text (e.g. "Ground")') })
  .trim()
  .min(1, 'floor is required (e.g. "Ground")')
  .max(64, 'floor is at most 64 characters')
  .regex(/^[^/]*$/, 'floor cannot contain "/"');
/** The lease resource of a rack: `rack:<floor>/<rackId>`. */
export const rackResource = (rack: { floor: string; rackId: string }) => `rack:${rack.floor}/${rack.rackId}`;

/**
 * A rack as the whole site sees it (the rack registry), sent whole on every change: the newest
 * version wins, by updatedAt and then station name, as for people (user_saved@1).
 */
const rackSaved = z.object({
  rackId: rackIdSchema,
  floor: floorSchema,
  name: z.string({ error: 'name is text' }).trim().max(200, 'a rack name is at most 200 characters').optional(),
  active: z.boolean('active is true or false'),
  updatedAt: at,
  at,
  by,
  station: z.string().optional(),
});

/**
 * Whether version `a` of a person beats `b` site-wide: the later updatedAt, then the greater station
 * name (code-unit order, the same in the hub and on every station).
 */
export function newerVersion(a: { updatedAt: number; station: string }, b: { updatedAt: number; station: string }): boolean {
  return a.updatedAt !== b.updatedAt ? a.updatedAt > b.updatedAt : a.station > b.station;
}

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
  'user_saved@1': userSaved,
  'rack_saved@1': rackSaved,
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

/**
 * Other events the hub puts on the feed itself (not pushable as ops): verification records it
 * accepted (POST /v1/verify/records, one entry a batch) and an admin's notice (POST /v1/notices).
 */
export interface HubEventPayloads {
  'verify_recorded@1': VerifyRecordedPayload;
  'notice@1': Notice;
}
export type HubEventName = keyof HubEventPayloads;
/** What a feed entry's op can be: a station's applied op, a lease event or a hub event. */
export type FeedOpName = HubOpName | LeaseEventName | HubEventName;

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
  /** Lease refusals: the hub's clock (PostgreSQL's now(), ISO) when it answered. */
  now?: string;
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
/**
 * Every lease answer carries `now`: the hub's clock (PostgreSQL's now(), ISO) when it answered, so a
 * station measures its clock's offset from the hub (offset ≈ now − the middle of the request) and
 * translates the times it stamps on records (VerifyRecord.hubMadeAt = madeAt + offset).
 */
export interface HubClock {
  now: string;
}
/** POST /v1/leases/claim and /renew. */
export interface LeaseResponse extends HubClock {
  lease: Lease;
}
/** POST /v1/leases/release. */
export interface LeaseReleaseResponse extends HubClock {
  released: Lease;
}
/** POST /v1/leases/break: the lease that was broken (its holder is the one to tell). */
export interface LeaseBreakResponse extends HubClock {
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

// Stock verification (issue 16): counted lines become records at a session's finalize; the station's
// outbox upstream `verify` POSTs them in batches of up to VERIFY_BATCH_MAX to /v1/verify/records.

export const VERIFY_BATCH_MAX = 100;
export const VERIFY_SERIALS_MAX = 1000;

const serialNumber = z
  .string({ error: 'a serial number is text' })
  .trim()
  .min(1, 'a serial number cannot be empty')
  .max(100, 'a serial number is at most 100 characters');
const quantity = (field: string) =>
  z
    .number({ error: `${field} is a number` })
    .int(`${field} is a whole number`)
    .nonnegative(`${field} is 0 or more`)
    .max(1_000_000, `${field} is at most 1,000,000`);
const msTime = (field: string) =>
  z
    .number({ error: `${field} is a time in ms since 1970` })
    .int(`${field} is a whole number of ms since 1970`)
    .positive(`${field} is a time in ms since 1970`);

/**
 * One counted line, as the station sends it. Shape is checked here (a bad one answers in errors[]
 * naming the field); damaged ≤ verified, the lease and serial uniqueness are the hub's rules
 * (answered in conflicts[]).
 */
export const verifyRecordSchema = z.object({
  /** The station's id for this line (a UUID): the idempotency key. */
  clientRecordId: z
    .string({ error: (i) => (i.input === undefined ? 'clientRecordId is required' : 'clientRecordId is a UUID') })
    .uuid('clientRecordId is a UUID'),
  sessionId: z
    .string({ error: (i) => (i.input === undefined ? 'sessionId is required' : 'sessionId is text') })
    .trim()
    .min(1, 'sessionId is required')
    .max(100, 'sessionId is at most 100 characters'),
  rack: z.object({ rackId: rackIdSchema, floor: floorSchema }, { error: 'rack is { rackId, floor }' }),
  itemCode: z
    .string({ error: (i) => (i.input === undefined ? 'itemCode is required' : 'itemCode is text') })
    .trim()
    .min(1, 'itemCode is required')
    .max(64, 'itemCode is at most 64 characters'),
  verified: quantity('verified'),
  damaged: quantity('damaged'),
  serials: z
    .array(serialNumber, { error: 'serials is a list of serial numbers' })
    .max(VERIFY_SERIALS_MAX, `a record has at most ${VERIFY_SERIALS_MAX} serials`)
    .superRefine((serials, ctx) => {
      const seen = new Set<string>();
      serials.forEach((s, i) => {
        if (seen.has(s)) ctx.addIssue({ code: 'custom', path: [i], message: `serial ${s} appears twice in this record` });
        seen.add(s);
      });
    }),
  /** When the line was made, ms since 1970, the station's clock. */
  madeAt: msTime('madeAt'),
  /** The lease the station held on the rack when the line was made; null: none. */
  leaseId: z.string({ error: 'leaseId is the lease id (a UUID) or null' }).uuid('leaseId is the lease id (a UUID) or null').nullable(),
  /** madeAt on the hub's clock (the offset measured from lease answers' `now`): checked against the lease. */
  hubMadeAt: msTime('hubMadeAt'),
  user: person('user'),
  /** The station's name, for people to read; the hub knows the station by its token. */
  station: z.string({ error: 'station is text' }).trim().max(64, 'station is at most 64 characters'),
});
export type VerifyRecord = z.infer<typeof verifyRecordSchema>;

/** The batch is checked for its size only; each record is checked on its own, so one bad record fails alone. */
export const verifyBatchSchema = z.object({
  records: z
    .array(z.unknown(), { error: 'records is a list of verification records' })
    .min(1, 'records is empty: send at least one')
    .max(VERIFY_BATCH_MAX, `a batch has at most ${VERIFY_BATCH_MAX} records: send the rest in another batch`),
});

export type VerifyConflictCode = 'serial_taken' | 'lease_lapsed' | 'damage_exceeds_verified';
export interface VerifyConflict {
  /** The record's clientRecordId. */
  id: string;
  code: VerifyConflictCode;
  /** In words, naming who/where/when. */
  reason: string;
  /** serial_taken: each serial already taken, where and by whom (`at` = its hubMadeAt, ms). */
  taken?: { serial: string; rack: { rackId: string; floor: string }; station: string; user: string; at: number; clientRecordId: string }[];
  /** lease_lapsed: the lease the record named (null: none or unknown), and who holds the rack now. */
  lease?: { leaseId: string; claimedAt: string; endedAt: string | null; endedHow: LeaseEndedHow | null } | null;
  holder?: LeaseHolder | null;
}
export type LeaseEndedHow = 'released' | 'broken' | 'expired';
export interface VerifyRecordError {
  /** The record's clientRecordId as sent, or `#<index in the batch>` when it had none. */
  id: string;
  message: string;
}
/**
 * POST /v1/verify/records answer. A record sent again (same clientRecordId, same station) answers as
 * it did the first time, in ok[] or conflicts[]; errors are not kept (nothing was kept: send again).
 */
export interface VerifyBatchResponse {
  ok: string[];
  conflicts: VerifyConflict[];
  errors: VerifyRecordError[];
  batch_id: string;
  processing_time_ms: number;
  total_records: number;
}

/** The feed's verify_recorded@1: the records one batch added (compact), so other stations know the serials and counts. */
export interface VerifyRecordedPayload {
  batchId: string;
  station: string;
  records: {
    id: string;
    sessionId: string;
    rackId: string;
    floor: string;
    itemCode: string;
    verified: number;
    damaged: number;
    serials: string[];
    user: string;
    hubMadeAt: number;
  }[];
}

// Global notices: an admin's message to every station (the station checks the role).
export const noticeSchema = z.object({
  text: z
    .string({ error: (i) => (i.input === undefined ? 'text is required' : 'text is text') })
    .trim()
    .min(1, 'text is required')
    .max(500, 'text is at most 500 characters'),
  by: person('by'),
});
export const noticeListQuery = z.object({
  since: z.coerce.number({ error: 'since is a notice id' }).int('since is a whole number').nonnegative('since is 0 or more').default(0),
});
export interface Notice {
  /** Increasing: GET /v1/notices?since=<the last one seen>. */
  id: number;
  text: string;
  by: string;
  station: string;
  /** PostgreSQL's clock, ISO. */
  postedAt: string;
}
/** POST /v1/notices answers { notice }, GET /v1/notices { notices } (oldest first, at most 500). */
export interface NoticeResponse {
  notice: Notice;
}
export interface NoticeListResponse {
  notices: Notice[];
}

/** Zod issues in words, with the path into the payload. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}
