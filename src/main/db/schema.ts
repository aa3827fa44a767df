import { sql } from 'drizzle-orm';
import { index, integer, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** Times are integer milliseconds since the epoch, from the station's injectable clock. */

export const users = sqliteTable('users', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  /** Stored lower case; the contract normalises input the same way. */
  username: text('username').notNull().unique(),
  displayName: text('display_name').notNull(),
  role: text('role', { enum: ['admin', 'biller', 'dispatcher'] }).notNull(),
  passwordHash: text('password_hash'),
  pinHash: text('pin_hash'),
  disabled: integer('disabled', { mode: 'boolean' }).notNull().default(false),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
  lastLoginAt: integer('last_login_at'),
  /**
   * Admins' second factor (RFC 6238 TOTP): the shared secret sealed with the station's key
   * (auth/totp-seal.ts), when it was confirmed, and the last time step a code was accepted for,
   * so the same code is never taken twice. Null until the person enrols; an admin reset clears them.
   */
  totpSecret: text('totp_secret'),
  totpEnrolledAt: integer('totp_enrolled_at'),
  totpLastStep: integer('totp_last_step'),
});

/**
 * One-time recovery codes for the second factor, as salted SHA-256 hashes (each code carries
 * ~59 random bits, so a fast hash is enough; see auth/recovery-codes.ts). Shown once at enrolment.
 */
export const recoveryCodes = sqliteTable(
  'recovery_codes',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull(),
    createdAt: integer('created_at').notNull(),
    usedAt: integer('used_at'),
  },
  (t) => [index('recovery_codes_user').on(t.userId)],
);

export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  /** JSON text, validated by the contract's settings schema on read. */
  value: text('value').notNull(),
  updatedAt: integer('updated_at').notNull(),
  updatedBy: integer('updated_by'),
});

export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull(),
    userId: integer('user_id'),
    username: text('username'),
    stationId: text('station_id').notNull(),
    /** Dotted verb such as 'users.created' or 'auth.login_failed'. */
    action: text('action').notNull(),
    entity: text('entity'),
    entityId: text('entity_id'),
    /** JSON snapshots of the entity before and after the change; never secrets. */
    before: text('before'),
    after: text('after'),
    detail: text('detail'),
  },
  (t) => [
    index('audit_at').on(t.at),
    index('audit_action_at').on(t.action, t.at),
    index('audit_user_at').on(t.userId, t.at),
    index('audit_entity').on(t.entity, t.entityId),
  ],
);

/** Failed sign-ins per user name, so brute force survives neither restarts nor reconnects. */
export const loginThrottle = sqliteTable('login_throttle', {
  key: text('key').primaryKey(),
  failures: integer('failures').notNull(),
  lastFailureAt: integer('last_failure_at').notNull(),
  lockedUntil: integer('locked_until').notNull(),
});

/**
 * Changes waiting to reach an upstream. Written in the same transaction as the change itself;
 * the sync engine drains it. `op` carries a version (`link_child@1`) so queued rows keep their
 * meaning when a payload changes shape.
 */
export const outbox = sqliteTable(
  'outbox',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    opId: text('op_id').notNull().unique(),
    op: text('op').notNull(),
    upstream: text('upstream').notNull(),
    payload: text('payload').notNull(),
    status: text('status', { enum: ['pending', 'done', 'conflict', 'error', 'discarded'] })
      .notNull()
      .default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    nextAttemptAt: integer('next_attempt_at').notNull().default(0),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  // Partial indexes, so the million acknowledged records a busy station holds until they are pruned
  // (src/main/outbox/prune.ts) are never read to find the few that wait: each hot query's WHERE
  // names the same status, which is what lets SQLite use these.
  (t) => [
    // The drainer's next batch per upstream in seq order, and `sync/status`'s queued count.
    index('outbox_pending')
      .on(t.upstream, t.seq)
      .where(sql`${t.status} = 'pending'`),
    // Admin → Sync's stuck list in seq order, and `sync/status`'s stuck count.
    index('outbox_stuck')
      .on(t.seq)
      .where(sql`${t.status} = 'error'`),
    // The prune: acknowledged records, oldest acknowledgement first.
    index('outbox_acknowledged')
      .on(t.updatedAt)
      .where(sql`${t.status} IN ('done', 'conflict')`),
  ],
);

/** Long work (trip execution, imports, exports) that survives a restart. */
export const jobs = sqliteTable(
  'jobs',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    kind: text('kind').notNull(),
    status: text('status', {
      enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled'],
    }).notNull(),
    params: text('params')
      .notNull()
      .default(sql`'{}'`),
    progress: real('progress').notNull().default(0),
    progressText: text('progress_text'),
    result: text('result'),
    error: text('error'),
    attempts: integer('attempts').notNull().default(0),
    createdBy: integer('created_by'),
    createdAt: integer('created_at').notNull(),
    startedAt: integer('started_at'),
    finishedAt: integer('finished_at'),
    heartbeatAt: integer('heartbeat_at'),
  },
  (t) => [
    index('jobs_status').on(t.status, t.createdAt),
    // The dashboard's imports and exports of today: one kind's jobs in a time range.
    index('jobs_kind_created').on(t.kind, t.createdAt),
  ],
);

export const jobLog = sqliteTable(
  'job_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    jobId: integer('job_id')
      .notNull()
      .references(() => jobs.id, { onDelete: 'cascade' }),
    at: integer('at').notNull(),
    level: text('level', { enum: ['info', 'warn', 'error'] }).notNull(),
    message: text('message').notNull(),
  },
  (t) => [index('job_log_job').on(t.jobId, t.id)],
);

/** Every bag ever scanned or imported, by the id printed on it (upper case). */
export const bags = sqliteTable(
  'bags',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    code: text('code').notNull().unique(),
    kind: text('kind', { enum: ['parent', 'child'] }).notNull(),
    createdAt: integer('created_at').notNull(),
    createdBy: integer('created_by'),
    stationId: text('station_id').notNull(),
    origin: text('origin', { enum: ['scan', 'import'] }).notNull(),
  },
  (t) => [index('bags_created').on(t.createdAt), index('bags_creator_created').on(t.createdBy, t.createdAt)],
);

/** A child's link to its parent. The child is the key, so a child has at most one parent. */
export const bagLinks = sqliteTable(
  'bag_links',
  {
    childId: integer('child_id')
      .primaryKey()
      .references(() => bags.id, { onDelete: 'cascade' }),
    parentId: integer('parent_id')
      .notNull()
      .references(() => bags.id, { onDelete: 'cascade' }),
    linkedAt: integer('linked_at').notNull(),
    linkedBy: integer('linked_by'),
    scanId: integer('scan_id'),
    /** The import job that made this link, if an import did: tells a file's own repeats from earlier data. */
    importJobId: integer('import_job_id'),
    /** Made at another station of the site (from the hub's feed): that station and person; null when made here. */
    siteStation: text('site_station'),
    siteUser: text('site_user'),
  },
  (t) => [index('bag_links_parent').on(t.parentId, t.linkedAt)],
);

export const bills = sqliteTable(
  'bills',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    number: text('number').notNull().unique(),
    status: text('status', { enum: ['draft', 'finalized'] }).notNull(),
    note: text('note'),
    /** Fixed at finalization; drafts use the station setting. */
    kgPerChild: real('kg_per_child'),
    totalChildren: integer('total_children'),
    createdAt: integer('created_at').notNull(),
    createdBy: integer('created_by'),
    finalizedAt: integer('finalized_at'),
    finalizedBy: integer('finalized_by'),
  },
  (t) => [
    index('bills_status').on(t.status, t.id),
    // The dashboard's bills started and finalized today, on a station with years of bills.
    index('bills_created').on(t.createdAt),
    index('bills_finalized').on(t.finalizedAt),
  ],
);

/** A parent bag on a bill. The parent is the key, so a parent is on at most one bill. */
export const billParents = sqliteTable(
  'bill_parents',
  {
    parentId: integer('parent_id')
      .primaryKey()
      .references(() => bags.id, { onDelete: 'cascade' }),
    billId: integer('bill_id')
      .notNull()
      .references(() => bills.id, { onDelete: 'cascade' }),
    addedAt: integer('added_at').notNull(),
    addedBy: integer('added_by'),
  },
  (t) => [index('bill_parents_bill').on(t.billId, t.addedAt)],
);

/** Every scan event, accepted or not, with who, where, from which device and what happened. */
export const scans = sqliteTable(
  'scans',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull(),
    userId: integer('user_id'),
    stationId: text('station_id').notNull(),
    source: text('source', { enum: ['wedge', 'manual', 'hid'] }).notNull(),
    device: text('device'),
    raw: text('raw').notNull(),
    code: text('code'),
    result: text('result').notNull(),
    message: text('message').notNull(),
    parentId: integer('parent_id'),
    childId: integer('child_id'),
    /** This scan created the child bag, so undoing it removes the bag too. */
    createdChild: integer('created_child', { mode: 'boolean' }).notNull().default(false),
    undoneAt: integer('undone_at'),
    undoneBy: integer('undone_by'),
  },
  (t) => [
    index('scans_user_at').on(t.userId, t.at),
    // The dock door's recent scans: one user's at one station, newest first, read without sorting them all.
    index('scans_user_station').on(t.userId, t.stationId, t.id),
    index('scans_code').on(t.code),
    index('scans_parent').on(t.parentId),
    // The dashboard's scans of today (per hour, door and person): a range of the day, not months of history.
    index('scans_at').on(t.at),
  ],
);

/** Upstream reads kept with their fetch time: served, with their age, when the upstream is down. */
export const upstreamCache = sqliteTable('upstream_cache', {
  key: text('key').primaryKey(),
  upstream: text('upstream').notNull(),
  fetchedAt: integer('fetched_at').notNull(),
  value: text('value').notNull(),
});

/**
 * A delivery trip: approved LeafTrade orders in route order, with the driver and vehicle BioTrack's
 * manifest needs. Editable while `draft`; the execution job (trips/execution) moves `status` on and
 * mirrors its own state into `execution_status`.
 */
export const trips = sqliteTable(
  'trips',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    number: text('number').notNull().unique(),
    name: text('name').notNull(),
    status: text('status', { enum: ['draft', 'executing', 'done', 'failed'] }).notNull(),
    executionStatus: text('execution_status'),
    driverEmployeeId: text('driver_employee_id').notNull().default(''),
    driverName: text('driver_name').notNull().default(''),
    vehicleId: text('vehicle_id').notNull().default(''),
    vehicleName: text('vehicle_name').notNull().default(''),
    createdBy: integer('created_by'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('trips_status').on(t.status, t.id)],
);

/** One LeafTrade order delivered at one stop; `position` is the route order, 1 first. */
export const tripStops = sqliteTable(
  'trip_stops',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    tripId: integer('trip_id')
      .notNull()
      .references(() => trips.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    orderId: integer('order_id').notNull(),
    invoice: text('invoice'),
    deliveryDate: text('delivery_date'),
    dispensary: text('dispensary').notNull(),
    address: text('address').notNull().default(''),
    /** The receiving licensee, BioTrack's `vendor_license`. */
    vendorLicense: text('vendor_license').notNull().default(''),
    departureAt: integer('departure_at'),
    arrivalAt: integer('arrival_at'),
    route: text('route').notNull().default(''),
  },
  (t) => [index('trip_stops_trip').on(t.tripId, t.position), index('trip_stops_order').on(t.orderId)],
);

/** An order line to fill at a stop. Orders without line items (unconfirmed upstream) have none. */
export const tripLines = sqliteTable(
  'trip_lines',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    stopId: integer('stop_id')
      .notNull()
      .references(() => tripStops.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    product: text('product').notNull(),
    quantity: real('quantity').notNull(),
    unit: text('unit').notNull(),
  },
  (t) => [index('trip_lines_stop').on(t.stopId, t.position)],
);

/**
 * A BioTrack inventory id packed for a stop (and the line it fills, when the order has lines).
 * Unique per trip: the same id cannot go to two stops of one manifest.
 */
export const tripPacks = sqliteTable(
  'trip_packs',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    tripId: integer('trip_id')
      .notNull()
      .references(() => trips.id, { onDelete: 'cascade' }),
    stopId: integer('stop_id')
      .notNull()
      .references(() => tripStops.id, { onDelete: 'cascade' }),
    lineId: integer('line_id').references(() => tripLines.id, { onDelete: 'cascade' }),
    barcode: text('barcode').notNull(),
    quantity: real('quantity').notNull(),
    packedAt: integer('packed_at').notNull(),
    packedBy: integer('packed_by'),
  },
  (t) => [
    uniqueIndex('trip_packs_trip_barcode').on(t.tripId, t.barcode),
    index('trip_packs_stop').on(t.stopId),
    index('trip_packs_barcode').on(t.barcode),
  ],
);

/**
 * Executing a delivery trip: one row per trip (no foreign key to trips, whose table comes with the
 * trips screens). `step` counts the recordings made, before and after each BioTrack call, so a
 * restart knows exactly how far it got; `failed_stop` is where a refusal stopped it.
 */
export const tripExecutions = sqliteTable('trip_executions', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  tripId: integer('trip_id').notNull().unique(),
  status: text('status', { enum: ['pending', 'processing', 'completed', 'failed'] }).notNull(),
  step: integer('step').notNull().default(0),
  stopsTotal: integer('stops_total').notNull().default(0),
  stopsDone: integer('stops_done').notNull().default(0),
  progressMessage: text('progress_message'),
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
  failedStop: integer('failed_stop'),
  /** Who started it: their windows (and admins') hear its progress. */
  startedBy: integer('started_by'),
  createdAt: integer('created_at').notNull(),
  startedAt: integer('started_at'),
  updatedAt: integer('updated_at').notNull(),
  finishedAt: integer('finished_at'),
});

/**
 * One row per stop of an execution: `intent` is written before the manifest is sent (with the
 * request and its fingerprint), `created` after its id came back. A row left at `intent` by a
 * crash or a lost answer is ambiguous: it is looked up in sync_manifest before any new create.
 */
export const tripManifests = sqliteTable(
  'trip_manifests',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    executionId: integer('execution_id')
      .notNull()
      .references(() => tripExecutions.id, { onDelete: 'cascade' }),
    stopNumber: integer('stop_number').notNull(),
    state: text('state', { enum: ['intent', 'created', 'refused', 'voided'] }).notNull(),
    /** SHA-256 of the request sent, so a changed plan is told apart from the one that was sent. */
    fingerprint: text('fingerprint').notNull(),
    request: text('request').notNull(),
    manifestId: text('manifest_id'),
    /** True when the id was found in sync_manifest after a lost answer or a crash. */
    recovered: integer('recovered', { mode: 'boolean' }).notNull().default(false),
    error: text('error'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [uniqueIndex('trip_manifests_stop').on(t.executionId, t.stopNumber)],
);

/**
 * ETA report customers: how each is known in each ERP instance (a customer name or a customer
 * group, which changes the OData filter), and a random report id that export file names carry
 * instead of the name.
 */
export const etaCustomers = sqliteTable(
  'eta_customers',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    reportId: text('report_id').notNull(),
    displayName: text('display_name').notNull(),
    ddName: text('dd_name'),
    ddKind: text('dd_kind', { enum: ['name', 'group'] }),
    cbrName: text('cbr_name'),
    cbrKind: text('cbr_kind', { enum: ['name', 'group'] }),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [uniqueIndex('eta_customers_report_id').on(t.reportId), uniqueIndex('eta_customers_display_name').on(t.displayName)],
);

/** ERP production statuses as ETA reports show them; inactive ones are hidden from reports but kept. */
export const etaStatuses = sqliteTable('eta_statuses', {
  status: text('status').primaryKey(),
  displayName: text('display_name').notNull(),
  active: integer('active', { mode: 'boolean' }).notNull().default(true),
  updatedAt: integer('updated_at').notNull(),
});

/**
 * Parents on a bill another station of the site finalized (from the hub's feed): like a local
 * finalized bill, they take no more children here.
 */
export const siteBillParents = sqliteTable('site_bill_parents', {
  parentCode: text('parent_code').primaryKey(),
  station: text('station').notNull(),
  billNumber: text('bill_number').notNull(),
  finalizedAt: integer('finalized_at').notNull(),
});

/**
 * A change of this station the site hub refused (another station got there first), as the hub
 * answered it: shown on the Scan screen until a dispatcher or admin resolves it (audited).
 */
export const siteConflicts = sqliteTable(
  'site_conflicts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** The refused outbox op; with `child`, unique (an import's op has one conflict per child it lost). */
    opId: text('op_id').notNull(),
    op: text('op').notNull(),
    /** The child bag the conflict is about; '' when it is about no child (a bill, a bag's kind). */
    child: text('child').notNull().default(''),
    parent: text('parent'),
    /** The hub's winner (JSON: child, parent, station, user, at, seq), or null. */
    winner: text('winner'),
    message: text('message').notNull(),
    by: text('by').notNull(),
    at: integer('at').notNull(),
    detectedAt: integer('detected_at').notNull(),
    status: text('status', { enum: ['open', 'accepted', 'moved'] })
      .notNull()
      .default('open'),
    resolvedBy: text('resolved_by'),
    resolvedAt: integer('resolved_at'),
  },
  (t) => [uniqueIndex('site_conflicts_op_child').on(t.opId, t.child), index('site_conflicts_open').on(t.status, t.id)],
);

// Stock verification (issue 16). Racks are site-wide (the hub's feed keeps them in step, rack_saved@1);
// items come from the ERP; sessions and lines are this station's counting, sent to the hub as records.

/** A rack of the site: rack id and floor, unique together. The newest version wins (updated_at, then station). */
export const racks = sqliteTable(
  'racks',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    rackId: text('rack_id').notNull(),
    floor: text('floor').notNull(),
    name: text('name'),
    active: integer('active', { mode: 'boolean' }).notNull().default(true),
    updatedAt: integer('updated_at').notNull(),
    updatedBy: text('updated_by').notNull(),
    /** The station whose version this is ('' before the station joined a site). */
    station: text('station').notNull().default(''),
  },
  (t) => [uniqueIndex('racks_rack_floor').on(t.rackId, t.floor)],
);

/** The ERP's item catalogue as last read (items_fts, a migration-made FTS5 table, follows it by triggers). */
export const items = sqliteTable(
  'items',
  {
    itemCode: text('item_code').primaryKey(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    barcode: text('barcode'),
    org: text('org').notNull(),
    fetchedAt: integer('fetched_at').notNull(),
  },
  (t) => [index('items_barcode').on(t.barcode)],
);

/** A person counting a claimed rack on this station. */
export const verifySessions = sqliteTable(
  'verify_sessions',
  {
    id: text('id').primaryKey(),
    rackId: text('rack_id').notNull(),
    floor: text('floor').notNull(),
    userId: integer('user_id').notNull(),
    username: text('username').notNull(),
    startedAt: integer('started_at').notNull(),
    /** The hub's lease (null: none held now, e.g. lost). */
    leaseId: text('lease_id'),
    /** When the lease runs out, on this station's clock (the hub's expiry less the measured offset). */
    leaseExpiresAt: integer('lease_expires_at'),
    /** When this station learnt the lease was gone (a refused renew, a break, an expiry): later lines are lapsed. */
    lapsedAt: integer('lapsed_at'),
    lapsedReason: text('lapsed_reason'),
    status: text('status', { enum: ['open', 'finalized', 'cancelled'] })
      .notNull()
      .default('open'),
    endedAt: integer('ended_at'),
  },
  (t) => [index('verify_sessions_status').on(t.status, t.userId)],
);

/** One counted line; at finalize it becomes a record for the hub (client_record_id). */
export const verifyLines = sqliteTable(
  'verify_lines',
  {
    clientRecordId: text('client_record_id').primaryKey(),
    sessionId: text('session_id').notNull(),
    itemCode: text('item_code').notNull(),
    verified: integer('verified').notNull(),
    damaged: integer('damaged').notNull(),
    /** JSON array of serial numbers. */
    serials: text('serials').notNull().default('[]'),
    floor: text('floor').notNull(),
    madeAt: integer('made_at').notNull(),
    /** made_at on the hub's clock (the offset measured from lease answers). */
    hubMadeAt: integer('hub_made_at').notNull(),
    leaseId: text('lease_id'),
    lapsed: integer('lapsed', { mode: 'boolean' }).notNull().default(false),
    status: text('status', { enum: ['draft', 'queued', 'ok', 'conflict', 'error', 'discarded', 'accepted'] })
      .notNull()
      .default('draft'),
    hubCode: text('hub_code'),
    hubReason: text('hub_reason'),
    updatedAt: integer('updated_at').notNull(),
    resolvedBy: text('resolved_by'),
    resolvedAt: integer('resolved_at'),
  },
  (t) => [index('verify_lines_session').on(t.sessionId), index('verify_lines_status').on(t.status)],
);

/** The site's current leases as the feed says (lease_* events). */
export const rackLeases = sqliteTable('rack_leases', {
  resource: text('resource').primaryKey(),
  leaseId: text('lease_id').notNull(),
  user: text('user').notNull(),
  station: text('station').notNull(),
  /** ms since 1970, the hub's clock. */
  since: integer('since').notNull(),
  expiresAt: integer('expires_at'),
  updatedAt: integer('updated_at').notNull(),
});

/**
 * Serials the site has recorded (verify_recorded@1 on the feed, and this station's own records the hub
 * took): a serial counted here again is refused naming where it is.
 */
export const siteSerials = sqliteTable('site_serials', {
  serial: text('serial').primaryKey(),
  clientRecordId: text('client_record_id').notNull(),
  rackId: text('rack_id').notNull(),
  floor: text('floor').notNull(),
  station: text('station').notNull(),
  user: text('user').notNull(),
  at: integer('at').notNull(),
});

/** Global notices an admin posted (notice@1 on the feed). */
export const notices = sqliteTable('notices', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  /** The feed entry's op id (a notice is kept once). */
  noticeId: text('notice_id').notNull().unique(),
  text: text('text').notNull(),
  by: text('by').notNull(),
  station: text('station').notNull(),
  at: integer('at').notNull(),
});

/**
 * Every verification record the site accepted (verify_recorded@1 on the feed, and this station's own
 * records the hub took, in the transaction that marks their line ok): what snapshots sum.
 */
export const siteVerifyRecords = sqliteTable(
  'site_verify_records',
  {
    clientRecordId: text('client_record_id').primaryKey(),
    sessionId: text('session_id').notNull(),
    rackId: text('rack_id').notNull(),
    floor: text('floor').notNull(),
    itemCode: text('item_code').notNull(),
    verified: integer('verified').notNull(),
    damaged: integer('damaged').notNull(),
    /** JSON array of serial numbers. */
    serials: text('serials').notNull().default('[]'),
    user: text('user').notNull(),
    station: text('station').notNull(),
    /** When it was counted, ms since 1970 on the hub's clock. */
    hubMadeAt: integer('hub_made_at').notNull(),
    /** The hub's batch that accepted it (null: recorded before batches were kept). */
    batchId: text('batch_id'),
  },
  (t) => [index('site_verify_records_rack').on(t.floor, t.rackId, t.itemCode)],
);

/** A snapshot of what the site recorded, per rack and item, at one moment (Reports → Verification). */
export const verifySnapshots = sqliteTable('verify_snapshots', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull(),
  /** Only this floor's racks; null: every floor. */
  floor: text('floor'),
  takenAt: integer('taken_at').notNull(),
  takenBy: text('taken_by').notNull(),
  /** Records summed and rows (rack, floor, item) made. */
  records: integer('records').notNull(),
  rows: integer('rows').notNull(),
});

/** One rack and item in a snapshot: the sums of the site's records. */
export const verifySnapshotRows = sqliteTable(
  'verify_snapshot_rows',
  {
    snapshotId: integer('snapshot_id')
      .notNull()
      .references(() => verifySnapshots.id, { onDelete: 'cascade' }),
    floor: text('floor').notNull(),
    rackId: text('rack_id').notNull(),
    itemCode: text('item_code').notNull(),
    counted: integer('counted').notNull(),
    damaged: integer('damaged').notNull(),
    /** JSON array, sorted, each serial once. */
    serials: text('serials').notNull(),
    records: integer('records').notNull(),
  },
  (t) => [uniqueIndex('verify_snapshot_rows_key').on(t.snapshotId, t.floor, t.rackId, t.itemCode)],
);

/** A compare job's differences (job_id: the compare's job), kept for the screen and exports. */
export const verifyCompareRows = sqliteTable(
  'verify_compare_rows',
  {
    jobId: integer('job_id').notNull(),
    floor: text('floor').notNull(),
    rackId: text('rack_id').notNull(),
    itemCode: text('item_code').notNull(),
    kind: text('kind', { enum: ['only_a', 'only_b', 'changed'] }).notNull(),
    countedA: integer('counted_a'),
    countedB: integer('counted_b'),
    damagedA: integer('damaged_a'),
    damagedB: integer('damaged_b'),
    /** JSON arrays: serials in B and not in A, and in A and not in B. */
    serialsAdded: text('serials_added').notNull(),
    serialsRemoved: text('serials_removed').notNull(),
  },
  (t) => [uniqueIndex('verify_compare_rows_key').on(t.jobId, t.floor, t.rackId, t.itemCode)],
);
