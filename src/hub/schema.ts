import { bigint, bigserial, boolean, index, integer, jsonb, pgTable, primaryKey, serial, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** A station enrolled in the site. Only the token's SHA-256 is kept. */
export const stations = pgTable('stations', {
  id: serial('id').primaryKey(),
  name: text('name').notNull().unique(),
  tokenHash: text('token_hash').notNull().unique(),
  enrolledAt: timestamp('enrolled_at', { withTimezone: true }).notNull().defaultNow(),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});

/** One-time enrolment codes made by a hub admin; only the hash is kept, used once, until expiry. */
export const enrolmentCodes = pgTable('enrolment_codes', {
  id: serial('id').primaryKey(),
  codeHash: text('code_hash').notNull().unique(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  usedAt: timestamp('used_at', { withTimezone: true }),
  stationId: integer('station_id').references(() => stations.id),
});

/**
 * Every op id the hub has answered ok or conflict, with that answer: the idempotency key. Its
 * primary key is what makes two hubs receiving the same op at once apply it once (the second
 * insert waits for the first transaction and then finds the row). "error" answers are not kept:
 * nothing was applied, so the op may be sent again.
 */
export const receivedOps = pgTable('received_ops', {
  opId: text('op_id').primaryKey(),
  stationId: integer('station_id')
    .notNull()
    .references(() => stations.id),
  op: text('op').notNull(),
  /** ok | conflict */
  status: text('status').notNull(),
  answer: jsonb('answer').notNull(),
  receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * The change feed: one row per applied op. seq is taken under a transaction advisory lock held to
 * commit (src/hub/apply.ts), so seqs become visible in order and a reader of `since=N` never skips one.
 */
export const feed = pgTable('feed', {
  seq: bigserial('seq', { mode: 'number' }).primaryKey(),
  opId: text('op_id').notNull().unique(),
  op: text('op').notNull(),
  payload: jsonb('payload').notNull(),
  stationId: integer('station_id')
    .notNull()
    .references(() => stations.id),
  userName: text('user_name').notNull(),
  at: bigint('at', { mode: 'number' }).notNull(),
  appliedAt: timestamp('applied_at', { withTimezone: true }).notNull().defaultNow(),
});

export const bags = pgTable('bags', {
  code: text('code').primaryKey(),
  kind: text('kind').notNull(),
  stationId: integer('station_id')
    .notNull()
    .references(() => stations.id),
  userName: text('user_name').notNull(),
  at: bigint('at', { mode: 'number' }).notNull(),
});

/** A child on one parent site-wide: the primary key on child_code is the rule, not a check before the insert. */
export const bagLinks = pgTable(
  'bag_links',
  {
    childCode: text('child_code')
      .primaryKey()
      .references(() => bags.code, { onDelete: 'cascade' }),
    parentCode: text('parent_code')
      .notNull()
      .references(() => bags.code, { onDelete: 'cascade' }),
    stationId: integer('station_id')
      .notNull()
      .references(() => stations.id),
    userName: text('user_name').notNull(),
    at: bigint('at', { mode: 'number' }).notNull(),
    /** The op that made the link; its feed row has the seq. */
    opId: text('op_id').notNull(),
  },
  (t) => [index('bag_links_parent').on(t.parentCode)],
);

/** Finalized bills, per station (a station numbers its own bills). */
export const bills = pgTable(
  'bills',
  {
    stationId: integer('station_id')
      .notNull()
      .references(() => stations.id),
    number: text('number').notNull(),
    summary: jsonb('summary').notNull(),
    userName: text('user_name').notNull(),
    at: bigint('at', { mode: 'number' }).notNull(),
    opId: text('op_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.stationId, t.number] })],
);

/** A parent is on one finalized bill site-wide (unique), and a parent on one is read-only. */
export const billParents = pgTable(
  'bill_parents',
  {
    parentCode: text('parent_code').primaryKey(),
    stationId: integer('station_id').notNull(),
    billNumber: text('bill_number').notNull(),
  },
  (t) => [index('bill_parents_bill').on(t.stationId, t.billNumber)],
);

/**
 * Who holds a resource ("rack:Ground/R1") now: one row a resource, the primary key is the rule. Times
 * are PostgreSQL's clock (now()), one clock for every hub process. A row past expires_at is held by no
 * one; the claim that takes it over, or a hub's sweeper, deletes it and puts lease_expired@1 on the feed.
 */
export const leases = pgTable(
  'leases',
  {
    resource: text('resource').primaryKey(),
    /** New at each claim (kept by renewals): renew and release name it, so a lapsed holder cannot touch the next one's lease. */
    leaseId: uuid('lease_id').notNull(),
    holderUser: text('holder_user').notNull(),
    holderStationId: integer('holder_station_id')
      .notNull()
      .references(() => stations.id),
    claimedAt: timestamp('claimed_at', { withTimezone: true }).notNull(),
    renewedAt: timestamp('renewed_at', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    ttlMs: integer('ttl_ms').notNull(),
  },
  (t) => [index('leases_expires').on(t.expiresAt)],
);

/** A person's heartbeat from a station; a row past expires_at is not present (the sweeper deletes it). */
export const presence = pgTable(
  'presence',
  {
    userName: text('user_name').notNull(),
    stationId: integer('station_id')
      .notNull()
      .references(() => stations.id),
    lastSeen: timestamp('last_seen', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.userName, t.stationId] }), index('presence_expires').on(t.expiresAt)],
);

/**
 * People, site-wide: the newest version of each user (src/hub/apply.ts, user_saved@1). Credential
 * hashes as the stations keep them; the second factor's secret in the clear, as the central
 * database of the apps Dockside replaces kept it (each station seals its copy with its own key).
 * Recovery codes stay on the station that made them.
 */
export const users = pgTable('users', {
  username: text('username').primaryKey(),
  displayName: text('display_name').notNull(),
  role: text('role').notNull(),
  passwordHash: text('password_hash'),
  pinHash: text('pin_hash'),
  disabled: boolean('disabled').notNull().default(false),
  totpSecret: text('totp_secret'),
  totpEnrolledAt: bigint('totp_enrolled_at', { mode: 'number' }),
  /** The version: the newer (then the greater station name) wins. */
  updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  stationId: integer('station_id')
    .notNull()
    .references(() => stations.id),
  /** Who saved this version (the op's `by`). */
  userName: text('user_name').notNull(),
  opId: text('op_id').notNull(),
});

/**
 * Every lease ever claimed, kept by src/hub/leases.ts in the transactions that claim, release, break
 * and expire it: a verification record names the lease it was made under, and the hub checks the
 * record's time against [claimed_at, ended_at]. ended_at null: still held (or lapsed and not yet
 * swept: its leases row still has expires_at). An expired lease ended at its expiry, not its sweep.
 */
export const leaseHistory = pgTable(
  'lease_history',
  {
    leaseId: uuid('lease_id').primaryKey(),
    resource: text('resource').notNull(),
    holderUser: text('holder_user').notNull(),
    stationId: integer('station_id')
      .notNull()
      .references(() => stations.id),
    claimedAt: timestamp('claimed_at', { withTimezone: true }).notNull(),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    /** released | broken | expired; null while held. */
    endedHow: text('ended_how'),
  },
  (t) => [index('lease_history_resource').on(t.resource, t.claimedAt)],
);

/** The rack registry, site-wide: the newest version of each rack (rack_saved@1, as users for user_saved@1). */
export const racks = pgTable(
  'racks',
  {
    floor: text('floor').notNull(),
    rackId: text('rack_id').notNull(),
    name: text('name'),
    active: boolean('active').notNull(),
    /** The version: the newer (then the greater station name) wins. */
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
    stationId: integer('station_id')
      .notNull()
      .references(() => stations.id),
    userName: text('user_name').notNull(),
    opId: text('op_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.floor, t.rackId] })],
);

/**
 * Every verification record the hub answered ok or conflict, with that answer (the idempotency key,
 * as received_ops for ops). A record answered `error` is not kept: it may be sent again.
 */
export const verifyRecords = pgTable(
  'verify_records',
  {
    clientRecordId: uuid('client_record_id').primaryKey(),
    stationId: integer('station_id')
      .notNull()
      .references(() => stations.id),
    /** ok | conflict */
    status: text('status').notNull(),
    answer: jsonb('answer').notNull(),
    sessionId: text('session_id').notNull(),
    floor: text('floor').notNull(),
    rackId: text('rack_id').notNull(),
    itemCode: text('item_code').notNull(),
    verified: integer('verified').notNull(),
    damaged: integer('damaged').notNull(),
    serialCount: integer('serial_count').notNull(),
    madeAt: bigint('made_at', { mode: 'number' }).notNull(),
    hubMadeAt: bigint('hub_made_at', { mode: 'number' }).notNull(),
    leaseId: uuid('lease_id'),
    userName: text('user_name').notNull(),
    batchId: uuid('batch_id').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('verify_records_rack').on(t.floor, t.rackId, t.itemCode)],
);

/** A serial is on one accepted record site-wide: the primary key is the rule, not a check before the insert. */
export const verifySerials = pgTable(
  'verify_serials',
  {
    serial: text('serial').primaryKey(),
    clientRecordId: uuid('client_record_id')
      .notNull()
      .references(() => verifyRecords.clientRecordId),
  },
  (t) => [index('verify_serials_record').on(t.clientRecordId)],
);

/** An admin's global notice (POST /v1/notices), also on the feed as notice@1. */
export const notices = pgTable('notices', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  text: text('text').notNull(),
  byUser: text('by_user').notNull(),
  stationId: integer('station_id')
    .notNull()
    .references(() => stations.id),
  postedAt: timestamp('posted_at', { withTimezone: true }).notNull().defaultNow(),
});
