/**
 * The site hub's entry: `npm run hub` (serve) and its admin commands.
 *
 *   DATABASE_URL=postgres://… npm run hub [-- --port 5790 --host 127.0.0.1]
 *   DATABASE_URL=postgres://… npm run hub -- enrolment-code [--hours 24]
 *   DATABASE_URL=postgres://… npm run hub -- revoke <station name>
 *   DATABASE_URL=postgres://… npm run hub -- stations
 */
import { parseArgs } from 'node:util';
import { migrateHub, openPool } from './db';
import { createEnrolmentCode, listStations, revokeStation } from './enrolment';
import { startHubServer } from './server';

const USAGE = `usage: npm run hub -- [serve] [--port N] [--host ADDR] | enrolment-code [--hours N] | revoke NAME | stations   (DATABASE_URL must be set)`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { port: { type: 'string' }, host: { type: 'string' }, hours: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    // An embedded server for sites without a DBA is planned (issue 15); until then a URL is required.
    console.error(
      `hub: DATABASE_URL is not set: give the PostgreSQL database the hub keeps the site in, e.g. DATABASE_URL=postgres://dockside@127.0.0.1:5432/dockside\n${USAGE}`,
    );
    return 2;
  }
  const [command = 'serve', ...rest] = positionals;
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
      default:
        console.error(`hub: unknown command “${command}”\n${USAGE}`);
        return 2;
    }
  } finally {
    await pool.end();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`hub: ${(error as Error).message}`);
    process.exit(1);
  },
);
