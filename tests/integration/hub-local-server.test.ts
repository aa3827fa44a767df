import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { localPostgres } from '../../src/hub/local-postgres';
import { onRelease, releaseAll } from '../support/cleanup';
import { hubCli, hubClient, startHubProcess } from '../support/hub';
import { freePort } from '../support/postgres';

afterAll(releaseAll, 60_000); // hub processes and PostgreSQL stop here

/** `npm run hub` without DATABASE_URL: the hub runs PostgreSQL (Debian's binaries) in its data folder. */
describe('hub without DATABASE_URL', () => {
  it('starts its own PostgreSQL in the data folder, keeps the site in it across restarts, and stops it on SIGTERM', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dockside-hub-'));
    onRelease(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const pgPort = String(await freePort());
    const args = ['--data-dir', dataDir, '--pg-port', pgPort];
    const hub = await startHubProcess('', args);
    // The same cluster, to ask whether its server runs (and to stop it if the test fails half-way).
    const server = await localPostgres(path.join(dataDir, 'postgres'), Number(pgPort));
    onRelease(async () => {
      if (await server.isRunning()) await server.stop('immediate');
    });

    expect(hub.stderr()).toMatch(/no DATABASE_URL: using the PostgreSQL server in .* \(started now\)/);
    // An admin command beside the running hub uses the same server and leaves it running.
    const made = await hubCli(['enrolment-code', ...args], { DATABASE_URL: '' });
    expect(made.stderr).toMatch(/\(already running\)/);
    const code = /Enrolment code: (\S+)/.exec(made.stdout)![1];
    const enrolled = await hubClient(hub.url).enrol(code, 'Dock 1');
    expect(enrolled.status).toBe(200);
    expect(
      (
        await hubClient(hub.url, enrolled.body.token).push([
          { opId: 'op-local-1', op: 'bag_created@1', payload: { code: 'SB1', kind: 'parent', at: 1, by: 'dock1' } },
        ])
      ).body.results[0].status,
    ).toBe('ok');

    hub.kill('SIGTERM');
    await hub.closed;
    expect(await server.isRunning()).toBe(false);

    const again = await startHubProcess('', args);
    const feed = await hubClient(again.url, enrolled.body.token).feed(0);
    expect(feed.body.entries.map((e: { opId: string }) => e.opId)).toEqual(['op-local-1']);
    again.kill('SIGTERM');
    await again.closed;
    expect(await server.isRunning()).toBe(false);
  }, 120_000);
});
