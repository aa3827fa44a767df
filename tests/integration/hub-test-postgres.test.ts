import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { serverBinaries } from '../../src/hub/local-postgres';
import { releaseAll } from '../support/cleanup';
import { startPostgres } from '../support/postgres';
import { runScript } from '../support/script';

afterEach(releaseAll, 60_000);

/** The tests' own PostgreSQL (tests/support/postgres.ts): what the hub tests stand on. */
describe('test PostgreSQL', () => {
  it('a server left by a killed test process is stopped and its folder removed by the next start', async () => {
    const child = runScript('tests/support/postgres-child.ts', []);
    const [, portText, dataDir] = (await child.line((l) => l.startsWith('ready '))).split(' ');
    const port = Number(portText);
    child.kill('SIGKILL');
    await child.closed;
    // Still answering: nobody stopped it.
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'dockside', database: 'postgres' });
    await client.connect();
    await client.end();

    const next = await startPostgres();
    expect(next.dataDir).not.toBe(dataDir);
    expect(fs.existsSync(path.dirname(dataDir))).toBe(false);
    const refused = new pg.Client({ host: '127.0.0.1', port, user: 'dockside', database: 'postgres', connectionTimeoutMillis: 5_000 });
    await expect(refused.connect()).rejects.toThrow();
  }, 120_000);

  it('says in words where the server binaries are missing', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'dockside-nobin-'));
    const before = process.env.PG_BIN;
    process.env.PG_BIN = empty;
    try {
      await expect(serverBinaries()).rejects.toThrow(`PG_BIN=${empty} has no initdb in it`);
    } finally {
      if (before === undefined) delete process.env.PG_BIN;
      else process.env.PG_BIN = before;
      fs.rmSync(empty, { recursive: true });
    }
  });
});
