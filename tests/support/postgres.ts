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

// fsync off: a test server's data need not survive a power cut, and fsync is what a busy disk makes slow.
const TEST_OPTIONS = '-c fsync=off -c max_connections=200';

/**
 * Starts PostgreSQL on 127.0.0.1 (Debian's binaries, as the `postgres` user when root; a free
 * port, a temp folder, trust auth for the `dockside` user), creates a database and answers its
 * URL. Stopped and its folder removed when the test's resources are released (`releaseAll`).
 */
export async function startPostgres(database = 'hub'): Promise<TestPostgres> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dockside-pg-'));
  onRelease(() => fs.rmSync(dir, { recursive: true, force: true }));
  const server = await localPostgres(dir, await freePort());
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
