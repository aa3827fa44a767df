import fs from 'node:fs';
import type pg from 'pg';
import { openPool } from '../../src/hub/db';
import { releaseAll } from '../support/cleanup';
import { startHubProcess, type HubProcess } from '../support/hub';
import { startPostgres, type TestPostgres } from '../support/postgres';
import { test, type StationProcess } from './fixtures';

/** A site for a spec file's tests: its PostgreSQL, its hub process, a pool on the hub's database, and the stations the tests start. */
export interface SiteSuite {
  postgres: TestPostgres;
  /** A test that stops the hub and starts another puts the new one here. */
  hub: HubProcess;
  db: pg.Pool;
  /** Killed and their data folders removed after the file's tests. */
  stations: StationProcess[];
}

/** Starts the site before the file's (or describe block's) tests and stops it after them. */
export function siteSuite(): SiteSuite {
  const suite = { stations: [] as StationProcess[] } as SiteSuite;
  test.beforeAll(async () => {
    suite.postgres = await startPostgres();
    suite.hub = await startHubProcess(suite.postgres.url);
    suite.db = openPool(suite.postgres.url, 2);
  });
  test.afterAll(async () => {
    for (const s of suite.stations) await s.kill();
    await suite.db?.end();
    await releaseAll();
    for (const s of suite.stations) fs.rmSync(s.dataDir, { recursive: true, force: true });
  });
  return suite;
}
