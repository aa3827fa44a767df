import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEnrolmentCode } from '../../src/hub/enrolment';
import { startHubServer } from '../../src/hub/server';
import { HUB_CODE_SECRET } from '../../src/main/provisioning/apply';
import { joinProvisionedHub, provisionFrom } from '../../src/main/provisioning/start';
import { onRelease, releaseAll } from '../support/cleanup';
import { startHubDatabase } from '../support/hub';
import { makeStation, tempDir } from '../support/station';

/** The hub part of a provisioning file, against a real hub on a real PostgreSQL. */
let pool: pg.Pool;
let hubUrl: string;

beforeAll(async () => {
  ({ admin: pool } = await startHubDatabase({ migrated: true }));
  const server = await startHubServer({ pool });
  onRelease(() => server.close());
  hubUrl = server.url;
}, 60_000);

afterAll(releaseAll, 60_000);
const stations: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of stations.splice(0)) await close();
});

async function startWith(dataDir: string, file: string) {
  const t = await makeStation({ dataDir, provision: provisionFrom({ explicit: file, folders: [] }, () => {}) });
  stations.push(t.close);
  await joinProvisionedHub(t.station);
  return t;
}

describe('provisioned site hub', () => {
  it('joins the hub at first start under the provisioned station name, then forgets the one-time code', async () => {
    const { code } = await createEnrolmentCode(pool, 1);
    const dir = tempDir();
    const file = path.join(dir, 'p.json');
    fs.writeFileSync(file, JSON.stringify({ version: 1, stationName: 'Door 9 provisioned', hub: { url: hubUrl, enrolmentCode: code } }));
    const t = await startWith(dir, file);
    expect(t.station.site.membership).toMatchObject({ url: hubUrl, stationName: 'Door 9 provisioned' });
    expect(t.station.secrets.get(HUB_CODE_SECRET)).toBeNull();
    const { rows } = await pool.query<{ name: string }>('SELECT name FROM stations WHERE name = $1', ['Door 9 provisioned']);
    expect(rows).toHaveLength(1);
  });

  it('a hub that refuses the code: the station runs, the problem names hub and the code waits for the next start', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'p.json');
    fs.writeFileSync(file, JSON.stringify({ version: 1, stationName: 'Door 10', hub: { url: hubUrl, enrolmentCode: 'AAAA-BBBB-CCCC' } }));
    const t = await startWith(dir, file);
    expect(t.station.site.membership).toBeNull();
    const problem = t.station.settings.readKey<{ messages: string[] } | null>('provisioning.problem', null);
    expect(problem?.messages[0]).toMatch(/^hub\.url: could not join the site hub at /);
    expect(problem?.messages.join(' ')).not.toContain('AAAA-BBBB-CCCC');
    expect(t.station.secrets.get(HUB_CODE_SECRET)).toBe('AAAA-BBBB-CCCC');
  });
});
