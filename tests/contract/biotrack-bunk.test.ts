import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/main/platform/logger';
import { BioTrackClient } from '../../src/main/upstreams/biotrack/client';
import { fetchInventory, fetchLab } from '../../src/main/upstreams/biotrack/inventory';
import { createManifestOnce, findManifest, listManifests } from '../../src/main/upstreams/biotrack/manifests';
import * as bunk from './bunk-2014-answers';
import { fixedSecrets } from '../support/secrets';

/**
 * Contract test: our BioTrack client against answers in the shapes of the public BioTrack mock
 * (openthc/bunk, written from the real API's recorded answers), replayed by a server that also
 * checks each request the way bunk's main.php does (POST body JSON, API "4.0", an action of word
 * characters, a session id after login).
 */
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Reply = { status?: number; body: unknown; before?: string; after?: string };

async function replay(script: Partial<Record<string, (call: Record<string, unknown>) => Reply>>) {
  const requests: { contentType: string | undefined; call: Record<string, unknown> }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const send = (r: Reply) =>
        res
          .writeHead(r.status ?? 200, { 'content-type': 'application/json' })
          .end(`${r.before ?? ''}${JSON.stringify(r.body, null, 4)}${r.after ?? ''}`);
      let call: Record<string, unknown>;
      try {
        call = JSON.parse(body) as Record<string, unknown>;
      } catch {
        return send({ status: 400, body: { success: 0, meta: { note: 'Error Decoding Input [OBM-041]' } } });
      }
      requests.push({ contentType: req.headers['content-type'], call });
      if (call.API !== '4.0') return send({ status: 400, body: bunk.badApi });
      if (typeof call.action !== 'string' || !/^\w+$/.test(call.action))
        return send({ status: 400, body: { success: 0, error: 'Invalid Action', errorcode: 62 } });
      const handler = script[call.action];
      if (!handler) return send({ status: 500, body: bunk.unhandled });
      send(handler(call));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/biotrack/v2013/serverjson.asp`;
  const secrets = { 'biotrack.license': bunk.BUNK_UBI, 'biotrack.username': 'user@example.com', 'biotrack.password': 'password' };
  const client = new BioTrackClient({
    url,
    now: Date.now,
    log: silentLogger,
    secrets: fixedSecrets(secrets),
  });
  return { client, requests, secrets };
}

const loggedIn = { login: () => ({ body: bunk.loginOk }) };

/** qa_check_all the way bunk answers it: each asked id's data file, or `false` and a PHP warning. */
const qaCheckAll = (call: Record<string, unknown>): Reply => {
  const ids = (call.barcodeid as string[]) ?? [];
  return {
    before: ids
      .filter((id) => !bunk.labByInventoryId[id])
      .map(bunk.includeWarning)
      .join(''),
    body: { success: 1, data: ids.map((id) => bunk.labByInventoryId[id] ?? false) },
  };
};

describe('BioTrack client against bunk’s recorded answers', () => {
  it('sends what bunk’s main.php accepts: POST text/JSON, API 4.0, the action, the UBI at login, the session after', async () => {
    const { client, requests } = await replay({ ...loggedIn, sync_inventory_room: () => ({ body: bunk.inventoryRooms }) });
    await client.call('sync_inventory_room', { download: 1 });
    expect(requests.map((r) => r.call.action)).toEqual(['login', 'sync_inventory_room']);
    expect(requests.every((r) => r.contentType === 'text/JSON' && r.call.API === '4.0')).toBe(true);
    expect(requests[0].call).toMatchObject({ license_number: '999000100', username: 'user@example.com', password: 'password' });
    expect(requests[1].call).toMatchObject({ sessionid: bunk.BUNK_SESSION, download: 1 });
  });

  it('reads this facility’s rows from bunk’s inventory, with null product names and rooms, ids as strings', async () => {
    const { client } = await replay({
      ...loggedIn,
      sync_inventory_room: () => ({ body: bunk.inventoryRooms }),
      sync_inventory: () => ({ body: bunk.inventory }),
      inventory_qa_check_all: qaCheckAll,
    });
    const items = await fetchInventory(client, bunk.BUNK_LOCATION);
    expect(items.map((i) => i.barcode)).toEqual(['2023164042000000', '2023164042000001', '2023164042000002', '2023171133000000', '2023184130600000']);
    expect(items[1]).toMatchObject({ product: 'Shady Apples', strain: 'Shady Apples', quantity: 200, room: null, labResult: null, total: null });
    expect(items[3]).toMatchObject({ product: 'Preroll', quantity: 99 });
  });

  it('matches bunk’s lab entries to inventory by barcode_id through its PHP warnings and `false` entries', async () => {
    const withLabs = {
      success: 1,
      inventory: [
        ...bunk.inventory.inventory,
        ...Object.keys(bunk.labByInventoryId).map((id, n) => ({ ...bunk.inventory.inventory[4], id, strain: `Lab strain ${n}` })),
      ],
    };
    const { client, requests } = await replay({
      ...loggedIn,
      sync_inventory_room: () => ({ body: bunk.inventoryRooms }),
      sync_inventory: () => ({ body: withLabs }),
      inventory_qa_check_all: qaCheckAll,
    });
    const items = await fetchInventory(client, bunk.BUNK_LOCATION);
    const asked = requests.find((r) => r.call.action === 'inventory_qa_check_all')!.call.barcodeid;
    expect(asked).toEqual(items.map((i) => i.barcode));
    const byId = new Map(items.map((i) => [i.barcode, i]));
    // 2024058110000001's sample is …0002; a match on sample_id would have found nothing.
    expect(byId.get('2024058110000001')).toMatchObject({
      labResult: 'passed',
      sampleId: '2024058110000002',
      total: 18.9,
      thc: 18.876,
      thca: 0,
      cbda: 0,
      cbd: 0,
    });
    expect(byId.get('2024058120000001')).toMatchObject({ labResult: 'passed', total: 76.2, thc: 76.1, thca: null });
    expect(byId.get('2024058140000001')).toMatchObject({ total: 28.5, thc: 28.52 });
    expect(byId.get('2023171133000000')).toMatchObject({ labResult: null, sampleId: null });
  });

  it('looks one barcode’s lab result up: qa_check_all finds the sample, inventory_qa_check answers its data or bunk’s 602 "no data"', async () => {
    const bySample = new Map(Object.values(bunk.labByInventoryId).map((lab) => [lab.sample_id as string, lab]));
    const { client, requests } = await replay({
      ...loggedIn,
      inventory_qa_check_all: qaCheckAll,
      // bunk: the sample's data, or 602 when it has none; a result 0 or no tests is "not yet filed".
      inventory_qa_check: (call) => {
        const lab = bySample.get(String(call.sample_id));
        if (!lab) return { body: bunk.qaCheckNoSamples };
        if (lab.barcode_id === '2024058130000001') return { body: bunk.qaCheckNotFiled };
        return { body: { success: 1, data: lab } };
      },
    });
    expect(await fetchLab(client, '2024058110000001')).toEqual({
      lab: { labResult: 'passed', sampleId: '2024058110000002', total: 18.9, thca: 0, thc: 18.876, cbda: 0, cbd: 0 },
      noDataReason: null,
    });
    expect(requests.at(-1)!.call).toMatchObject({ action: 'inventory_qa_check', sample_id: '2024058110000002' });
    expect(await fetchLab(client, '2024058130000001')).toEqual({ lab: null, noDataReason: 'Test results have not yet been filed.' });
    // `false` in qa_check_all (with PHP warnings before the JSON): no second call.
    const before = requests.length;
    expect(await fetchLab(client, '2023171133000000')).toEqual({ lab: null, noDataReason: 'BioTrack has no lab results for this item.' });
    expect(requests.slice(before).map((r) => r.call.action)).toEqual(['inventory_qa_check_all']);
  });

  it('takes the manifest id from barcode_id and finds bunk’s manifest again through sync_manifest', async () => {
    const { client, requests } = await replay({
      ...loggedIn,
      inventory_manifest: () => ({ body: bunk.manifestCreated }),
      sync_manifest: () => ({ body: bunk.syncManifest }),
    });
    const departure = Date.now() + 3_600_000;
    const m = {
      employeeId: '001',
      vehicleId: 'V1',
      location: bunk.BUNK_LOCATION,
      stops: [
        {
          stopNumber: 1,
          vendorLicense: 'R999999',
          barcodes: ['2023184130600000'],
          departure,
          arrival: departure + 3_600_000,
          route: 'go the distance',
        },
      ],
    };
    expect(await createManifestOnce(client, m, Date.now())).toEqual({ manifestId: '7288034569537775', recovered: false });
    expect(requests.filter((r) => r.call.action === 'inventory_manifest')).toHaveLength(1);
    const list = await listManifests(client);
    expect(list.map((x) => [x.manifestId, x.deleted, x.fulfilled])).toEqual([
      ['3692253654269107', false, true],
      ['7288034569537775', false, false],
    ]);
    expect((await findManifest(client, m))?.manifestId).toBe('7288034569537775');
  });

  it('shows bunk’s refusals in its own words: _detail without error, no errorcode, HTTP 500 for an unhandled action', async () => {
    const noCompany = await replay({ login: () => ({ body: bunk.loginNoCompany }) });
    await expect(noCompany.client.call('sync_inventory')).rejects.toMatchObject({
      kind: 'credentials',
      message: 'BioTrack refused the login: Invalid Company Identifier, only Test IDs allowed [LBL-040]',
    });
    const badPassword = await replay({ login: () => ({ body: bunk.loginBadPassword }) });
    await expect(badPassword.client.call('sync_inventory')).rejects.toMatchObject({
      message: 'BioTrack refused the login: Invalid username or password.',
    });
    const lookup = await replay({ ...loggedIn });
    await expect(lookup.client.call('inventory_manifest_lookup', { manifest_id: '7288034569537775' })).rejects.toMatchObject({
      kind: 'refused',
      message: 'BioTrack refused inventory_manifest_lookup: Unhandled Request (code 999)',
    });
  });

  it('logs in again once on bunk’s "Your session has expired." (63)', async () => {
    let expired = 1;
    const { client, requests } = await replay({
      ...loggedIn,
      sync_inventory_room: () => (expired-- > 0 ? { body: bunk.sessionExpired } : { body: bunk.inventoryRooms }),
    });
    expect((await client.call('sync_inventory_room')).inventory_room).toHaveLength(2);
    expect(requests.map((r) => r.call.action)).toEqual(['login', 'sync_inventory_room', 'login', 'sync_inventory_room']);
  });
});
