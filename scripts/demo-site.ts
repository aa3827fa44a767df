/**
 * `npm run demo:site`: a whole site on this machine, to see sharing by hand. A hub (`npm run hub`,
 * its embedded PostgreSQL in the demo folder), two enrolment codes made with the hub's own admin
 * command, and two station browser hosts with demo data on ports 5780 and 5781, each joining the
 * hub with its code at start. Ctrl+C stops all of it. A fresh site every run.
 *
 *   npm run demo:site [-- --dir DIR] [--no-build] [--ports 5780,5781] [--hub-port 5790]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { localPostgres } from '../src/hub/local-postgres';
import { DEMO_USERS } from '../src/main/app/demo';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    ports: { type: 'string', default: '5780,5781' },
    'hub-port': { type: 'string', default: '5790' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log('usage: npm run demo:site [-- --dir DIR] [--no-build] [--ports 5780,5781] [--hub-port 5790]');
  process.exit(0);
}

const port = (text: string, what: string) => {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n > 65535) {
    console.error(`demo:site: ${what} “${text}” is not a port number (0–65535)`);
    process.exit(2);
  }
  return n;
};
const stationPorts = values.ports.split(',').map((p) => port(p, '--ports'));
if (stationPorts.length !== 2) {
  console.error(`demo:site: --ports takes two ports, one per station, like 5780,5781 (got “${values.ports}”)`);
  process.exit(2);
}
const hubPort = port(values['hub-port'], '--hub-port');
// Under the OS temp folder, which the `postgres` user can reach when this runs as root.
const demoDir = path.resolve(values.dir ?? path.join(os.tmpdir(), 'dockside-demo-site'));
const hubDir = path.join(demoDir, 'hub');
const logDir = path.join(demoDir, 'logs');
const STATIONS = [
  { name: 'Dock door 1', port: stationPorts[0], dataDir: path.join(demoDir, 'dock-door-1') },
  { name: 'Dock door 2', port: stationPorts[1], dataDir: path.join(demoDir, 'dock-door-2') },
];
const say = (line: string) => console.log(`demo:site: ${line}`);

const portFree = (p: number) =>
  new Promise<boolean>((resolve) => {
    if (p === 0) return resolve(true);
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(p, '127.0.0.1', () => server.close(() => resolve(true)));
  });
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port: p } = server.address() as net.AddressInfo;
      server.close(() => resolve(p));
    });
  });

/** Processes started here, newest last: stopped in reverse order (stations before the hub). */
const children: { name: string; child: ChildProcess; log: string; closed: Promise<void> }[] = [];
let stopping = false;

function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

const PIDS = path.join(demoDir, 'pids');
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
/** Whether `pid` is still one of a previous demo's processes: its command line names the demo folder. */
const ours = (pid: number) => {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(demoDir);
  } catch {
    return false;
  }
};

/**
 * A demo killed outright (SIGKILL) leaves its hub and stations running: they are stopped (SIGTERM,
 * the hub then stops its PostgreSQL) before the new demo takes their ports.
 */
async function stopLeftovers(): Promise<void> {
  let pids: number[];
  try {
    pids = fs
      .readFileSync(PIDS, 'utf8')
      .split('\n')
      .map(Number)
      .filter((p) => p > 0);
  } catch {
    return;
  }
  const left = pids.filter((p) => alive(p) && ours(p));
  if (left.length === 0) return;
  say(`stopping ${left.length} process(es) a previous demo left running (${left.join(', ')})…`);
  for (const pid of left.reverse()) {
    process.kill(pid, 'SIGTERM');
    for (let waited = 0; alive(pid) && ours(pid); waited += 100) {
      if (waited > 60_000) throw new Error(`process ${pid} of a previous demo did not stop within a minute: stop it by hand`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Starts a process with its output in logs/<name>.log; resolves with the first stdout line `ready` accepts. */
function startProcess(name: string, args: string[], ready: (line: string) => boolean): Promise<string> {
  fs.mkdirSync(logDir, { recursive: true });
  const log = path.join(logDir, `${name.toLowerCase().replaceAll(' ', '-')}.log`);
  const out = fs.createWriteStream(log);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.pipe(out, { end: false });
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  children.push({ name, child, log, closed });
  fs.appendFileSync(PIDS, `${child.pid}\n`);
  return new Promise((resolve, reject) => {
    let found = false;
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      out.write(`${line}\n`);
      if (!found && ready(line)) {
        found = true;
        resolve(line);
      }
    });
    void closed.then(() => {
      out.end();
      const how = child.signalCode ?? `code ${child.exitCode}`;
      if (!found) reject(new Error(`${name} exited (${how}) before it was ready; the end of ${log}:\n${tail(log)}`));
      else if (!stopping) {
        console.error(`demo:site: ${name} stopped (${how}); the end of ${log}:\n${tail(log)}`);
        void stopAll(1);
      }
    });
  });
}

async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    if (children.length > 0) say('stopping the stations, then the hub (which stops its PostgreSQL)…');
    // Stations first, then the hub, which stops its PostgreSQL.
    for (const { child, closed } of [...children].reverse()) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await closed;
    }
  }
  process.exit(code);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stopAll(0));

/** The hub's admin command, as a person would run it beside the running hub. */
function hubCommand(args: string[]): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/hub/main.ts', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run hub -- ${args.join(' ')} failed:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

async function main(): Promise<void> {
  await stopLeftovers();
  for (const [p, what] of [...stationPorts.map((p) => [p, 'a station'] as const), [hubPort, 'the hub'] as const]) {
    if (!(await portFree(p)))
      throw new Error(`port ${p} (for ${what}) is taken: another Dockside host or hub runs? Stop it, or choose others with --ports / --hub-port`);
  }

  // A fresh site: a server left by a demo that was killed is stopped, then its folder removed.
  if (fs.existsSync(path.join(hubDir, 'postgres', 'data', 'PG_VERSION'))) {
    const left = await localPostgres(path.join(hubDir, 'postgres'), 1);
    if (await left.isRunning()) {
      say(`stopping the PostgreSQL server a previous demo left running in ${left.dataDir}`);
      await left.stop('fast');
    }
  }
  fs.rmSync(demoDir, { recursive: true, force: true });
  fs.mkdirSync(demoDir, { recursive: true });

  if (!values['no-build']) {
    say('building the station (electron-vite build)…');
    const build = spawnSync(process.execPath, [path.resolve('node_modules/electron-vite/bin/electron-vite.js'), 'build'], { stdio: 'inherit' });
    if (build.status !== 0) throw new Error(`the build failed (exit ${build.status})`);
  }
  if (!fs.existsSync('out/main/host.js')) throw new Error('out/main/host.js is missing: run without --no-build');

  const pgPort = String(await freePort());
  const hubArgs = ['--data-dir', hubDir, '--pg-port', pgPort];
  say(`starting the hub (its PostgreSQL in ${path.join(hubDir, 'postgres')})…`);
  const listening = await startProcess('hub', ['--import', 'tsx', 'src/hub/main.ts', ...hubArgs, '--port', String(hubPort)], (l) =>
    l.startsWith('hub listening on '),
  );
  const hubUrl = listening.slice('hub listening on '.length).trim();

  const codes = STATIONS.map(() => {
    const code = /Enrolment code: (\S+)/.exec(hubCommand(['enrolment-code', ...hubArgs]))?.[1];
    if (!code) throw new Error('the hub printed no enrolment code');
    return code;
  });

  const urls: string[] = [];
  for (const [i, s] of STATIONS.entries()) {
    say(`starting ${s.name} on port ${s.port}, joining the hub with code ${codes[i]}…`);
    const args = ['out/main/host.js', '--demo', '--port', String(s.port), '--data-dir', s.dataDir];
    args.push('--hub-url', hubUrl, '--hub-code', codes[i], '--station-name', s.name);
    const ready = await startProcess(s.name, args, (l) => l.startsWith('DOCKSIDE_HOST_READY '));
    urls.push(ready.slice('DOCKSIDE_HOST_READY '.length).trim());
  }

  const width = Math.max(...STATIONS.map((s) => s.name.length), 'Site hub'.length);
  console.log(`
Dockside demo site is running (a fresh one every run; data and logs in ${demoDir}):
  ${'Site hub'.padEnd(width)}  ${hubUrl}  (PostgreSQL on 127.0.0.1:${pgPort}, in ${path.join(hubDir, 'postgres')})
${STATIONS.map((s, i) => `  ${s.name.padEnd(width)}  ${urls[i]}`).join('\n')}

Open both stations side by side in Chromium, e.g.
  chromium --app=${urls[0]} & chromium --app=${urls[1]}
and scan at both doors: a child linked at one door is refused at the other, naming the winner.
Verify (F5) has racks R1–R6 on Ground and M1–M3 on Mezzanine to claim and the ERP simulator's items to
count; an admin posts a notice to both doors from Admin → Station → Site.

Demo sign-ins (the same at both doors):
${DEMO_USERS.map((u) => `  ${u.username.padEnd(8)} ${u.password}${'pin' in u ? `  (PIN ${u.pin})` : ''}  — ${u.role}`).join('\n')}
  (admins set up an authenticator app on a phone at their first sign-in)

More codes, revoking, the list of stations (beside the running hub):
  npm run hub -- enrolment-code --data-dir ${hubDir}
  npm run hub -- revoke "Dock door 2" --data-dir ${hubDir}
  npm run hub -- stations --data-dir ${hubDir}

Press Ctrl+C to stop all of it.
`);
}

main().catch(async (error: unknown) => {
  console.error(`demo:site: ${(error as Error).message}`);
  await stopAll(1);
});
