import { sql } from 'drizzle-orm';
import { index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

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
});

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
  (t) => [index('outbox_due').on(t.status, t.nextAttemptAt, t.seq)],
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
    params: text('params').notNull().default(sql`'{}'`),
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
  (t) => [index('jobs_status').on(t.status, t.createdAt)],
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
