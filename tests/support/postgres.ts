import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { onRelease } from './cleanup';

const run = promisify(execFile);

/** A throwaway PostgreSQL server for one test file: a real server, never an imitation. */
export interface TestPostgres {
  /** postgres://dockside@127.0.0.1:PORT/NAME of a database made for the caller. */
  url: string;
  port: number;
  dataDir: string;
  /** Another empty database on the same server. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server with `mode` (fast: clean; immediate: like a crash) and starts it again on the same port. */
  restart(mode?: 'fast' | 'immediate'): Promise<void>;
  stop(): Promise<void>;
}

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
      'PostgreSQL server binaries were not found under /usr/lib/postgresql/*/bin: install them with `apt-get install -y postgresql` (.ci/run does), or set PG_BIN to the folder holding initdb and pg_ctl',
    );
  }
  return path.join(root, versions[0], 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * PostgreSQL refuses to run as root, and tests run as root on CI and here: as root the server runs
 * as the `postgres` user (Debian's package creates it) in a folder that user owns.
 */
function asServerUser(file: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
}

async function exec(file: string, args: string[], what: string): Promise<void> {
  const [cmd, argv] = asServerUser(file, args);
  try {
    await run(cmd, argv, { timeout: 120_000 });
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${what} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: error });
  }
}

/** Asks until the server answers a query (pg_ctl -w already waits; this also covers a slow socket). */
async function waitUntilReady(port: number): Promise<void> {
  let last: unknown = null;
  for (let i = 0; i < 600; i++) {
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'dockside', database: 'postgres', connectionTimeoutMillis: 5_000 });
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

/**
 * Starts a PostgreSQL server on 127.0.0.1 (a free port, a temp folder, trust auth for the
 * `dockside` user), creates a database and answers its URL. The server is stopped and its folder
 * removed when the test's resources are released (`releaseAll`), or by `stop()`.
 */
export async function startPostgres(database = 'hub'): Promise<TestPostgres> {
  const bin = findPostgresBin();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dockside-pg-'));
  const dataDir = path.join(dir, 'data');
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']).catch(() => {
      throw new Error('Running as root, PostgreSQL needs the `postgres` system user (Debian’s postgresql package creates it)');
    });
    const uid = Number(stdout.trim());
    fs.chownSync(dir, uid, uid);
  }
  fs.chmodSync(dir, 0o700);
  const port = await freePort();
  await exec(path.join(bin, 'initdb'), ['-D', dataDir, '-U', 'dockside', '--auth=trust', '-E', 'UTF8', '--no-sync', '--locale=C'], 'initdb');
  const start = () =>
    exec(
      path.join(bin, 'pg_ctl'),
      // fsync off: a test server's data need not survive a power cut, and fsync is what a busy disk makes slow.
      [
        '-D',
        dataDir,
        '-o',
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
        '-l',
        path.join(dir, 'log'),
        '-w',
        '-t',
        '120',
        'start',
      ],
      `pg_ctl start (log: ${path.join(dir, 'log')})`,
    );
  const stopServer = (mode: 'fast' | 'immediate') =>
    exec(path.join(bin, 'pg_ctl'), ['-D', dataDir, '-m', mode, '-w', '-t', '120', 'stop'], 'pg_ctl stop');
  await start();
  let running = true;
  await waitUntilReady(port);

  const url = (name: string) => `postgres://dockside@127.0.0.1:${port}/${name}`;
  const createDatabase = async (name: string) => {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`Not a plain database name: ${name}`);
    const client = new pg.Client({ connectionString: url('postgres') });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${name}`);
    } finally {
      await client.end();
    }
    return url(name);
  };
  const stop = async () => {
    if (running) {
      running = false;
      await stopServer('fast').catch(() => stopServer('immediate'));
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  onRelease(stop);
  return {
    url: await createDatabase(database),
    port,
    dataDir,
    createDatabase,
    restart: async (mode = 'fast') => {
      await stopServer(mode);
      await start();
      await waitUntilReady(port);
    },
    stop,
  };
}
