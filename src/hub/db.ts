import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';

/** drizzle-kit's SQL migrations (drizzle.hub.config.ts), next to this file. */
export const HUB_MIGRATIONS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/** Any fixed number: every hub process of a site takes the same lock to migrate. */
const MIGRATION_LOCK = 0x646f636b; // "dock"

export function openPool(databaseUrl: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 30_000 });
  // An idle client whose server went away (PostgreSQL restarted) emits here; the pool drops it and
  // makes a new one on the next query, so it is logged, not fatal.
  pool.on('error', (error) => console.error(`hub: an idle database connection failed: ${error.message}`));
  return pool;
}

/**
 * Applies the hub's migrations under a session advisory lock, so hub processes starting together
 * migrate one after another: the first applies, the others find nothing left to do.
 */
export async function migrateHub(pool: pg.Pool, migrationsFolder = HUB_MIGRATIONS): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await migrate(drizzle(client), { migrationsFolder });
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
}

/** Runs `work` in a transaction on one pooled client; rolls back on any throw. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    try {
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  } finally {
    client.release();
  }
}
