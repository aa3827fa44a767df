import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/main/platform/logger';
import { MAX_URL_LENGTH, ODataClient, odataQueryString, odataString } from '../../src/main/upstreams/erp/odata';
import { expectedOpenOrders, startErpSimulator, type ErpOrder } from '../../src/simulators/odata-erp';
import { onRelease, releaseAll } from '../support/cleanup';
import { stationOnErp } from '../support/erp';
import { fixedSecrets } from '../support/secrets';

afterEach(releaseAll);

/** A simulator closed after the test. */
async function erpSimulator(options: Parameters<typeof startErpSimulator>[0] = {}) {
  const sim = await startErpSimulator(options);
  onRelease(() => sim.close());
  return sim;
}

async function setup(options: { readTimeoutMs?: number; ordersPerOrg?: number } = {}) {
  const sim = await erpSimulator({ ordersPerOrg: options.ordersPerOrg });
  const t = await stationOnErp(sim.url, sim.users, { readTimeoutMs: options.readTimeoutMs });
  return { sim, t };
}

function clientFor(sim: { url: string; users: Record<'DD' | 'CBR', { username: string; password: string }> }) {
  const secrets = { 'erp.DD.username': sim.users.DD.username, 'erp.DD.password': sim.users.DD.password };
  return new ODataClient({
    baseUrl: sim.url,
    now: Date.now,
    log: silentLogger,
    sleep: async () => {},
    secrets: fixedSecrets(secrets),
  });
}

/** What the station shows for a simulator row. */
const shown = (r: ErpOrder) => ({ orderNo: r.OrderNo, orderRev: r.OrderRev, customer: r.Customer, orderStatus: r.OrderStatus, qty: Number(r.Qty) });

describe('ERP (OData v4) open orders', () => {
  it('are the newest revision of each order, only when that revision is open (5: revision before status)', async () => {
    const { sim, t } = await setup();
    const dd = await t.admin.ok('erp/open-orders', { org: 'DD' });
    const expected = expectedOpenOrders(sim.data.DD);
    // The trap: orders with an open older revision whose newest revision is closed.
    const trap = new Set(sim.data.DD.filter((r) => r.OrderStatus !== 'Completed' && r.OrderStatus !== 'Cancelled').map((r) => r.OrderNo));
    for (const r of expected) trap.delete(r.OrderNo);
    expect(trap.size).toBeGreaterThan(10);
    expect(
      dd.orders
        .map((o) => ({ orderNo: o.orderNo, orderRev: o.orderRev, customer: o.customer, orderStatus: o.orderStatus, qty: o.qty }))
        .sort((a, b) => a.orderNo.localeCompare(b.orderNo)),
    ).toEqual(expected.map(shown).sort((a, b) => a.orderNo.localeCompare(b.orderNo)));
    expect(dd.orders.some((o) => trap.has(o.orderNo))).toBe(false);
    expect(Object.keys(dd.orders[0]).sort()).toEqual([
      'customer',
      'dateScheduled',
      'etaDate',
      'orderNo',
      'orderRev',
      'orderStatus',
      'productionStatus',
      'qty',
    ]);
    const cbr = await t.admin.ok('erp/open-orders', { org: 'CBR' });
    expect(cbr.orders).toHaveLength(expectedOpenOrders(sim.data.CBR).length);
    expect(cbr.orders[0].orderNo).toMatch(/^CBR-/);
  });

  it('encode spaces as %20 and never send + (1); the strict simulator answers a + with 400', async () => {
    const { sim, t } = await setup();
    await t.admin.ok('erp/open-orders', { org: 'DD' });
    expect(sim.requests.length).toBeGreaterThan(1);
    for (const r of sim.requests) expect(r.url).not.toContain('+');
    expect(sim.requests[0].url).toMatch(/OrderStatus%20ne%20(%27|')Completed/);
    expect(odataQueryString({ $filter: "Customer eq 'A+B Farms'" })).toBe("$filter=Customer%20eq%20'A%2BB%20Farms'");
    const raw = await fetch(`${sim.url}/reports/DD/SalesOrders?$filter=OrderStatus+ne+'Completed'`, {
      headers: { authorization: `Basic ${Buffer.from('dd-reports:dd-secret').toString('base64')}` },
    });
    expect(raw.status).toBe(400);
  });

  it('follow relative nextLinks to the end with a page size asked by Prefer, never stopping at a $top per page (2, 3)', async () => {
    const { sim, t } = await setup({ ordersPerOrg: 2400 }); // > 1,000 open orders, server pages of 100
    const dd = await t.admin.ok('erp/open-orders', { org: 'DD' });
    expect(dd.orders.length).toBe(expectedOpenOrders(sim.data.DD).length);
    expect(dd.orders.length).toBeGreaterThan(1000);
    const reads = sim.requests.filter((r) => r.url.includes('SalesOrders'));
    expect(reads.every((r) => r.prefer === 'odata.maxpagesize=500')).toBe(true);
    expect(reads.filter((r) => r.url.includes('$skiptoken')).length).toBeGreaterThan(10); // server paging followed
    expect(reads.some((r) => /%24top|\$top/.test(r.url))).toBe(false); // no total asked: no $top at all
  });

  it('serve the cached copy with its age when the ERP is down, slow or answers garbage; refresh asks again', async () => {
    // A 1 s read timeout leaves a loaded machine room for the answers that are not held back; the
    // slow one is held 3 s, and a timer only ever fires later under load, never sooner.
    const { sim, t } = await setup({ readTimeoutMs: 1000 });
    const first = await t.admin.ok('erp/open-orders', { org: 'DD' });
    const before = sim.requests.length;
    t.clock.advance(60_000);
    // Fresh enough: no request at all.
    expect((await t.admin.ok('erp/open-orders', { org: 'DD' })).fromCache).toBe(true);
    expect(sim.requests.length).toBe(before);

    t.clock.advance(10 * 60_000);
    sim.faults.unavailable = 10;
    const down = await t.admin.ok('erp/open-orders', { org: 'DD' });
    expect(t.waits).toEqual([250]); // one retry on a 5xx, on the test's clock
    expect(down).toMatchObject({ fromCache: true, fetchedAt: first.fetchedAt, ageSeconds: 660, warning: 'ERP DD is unavailable (503)' }); // 660.25 s
    expect(down.orders).toHaveLength(first.orders.length);

    sim.faults.unavailable = 0;
    t.clock.advance(5 * 60_000); // past the 503 cooldown (Admin → Sync, 5 minutes by default)
    sim.faults.malformed = 1; // a 200 with garbage is not retried
    expect((await t.admin.ok('erp/open-orders', { org: 'DD', refresh: true })).warning).toBe('ERP DD answered with something that is not JSON');

    sim.faults.malformed = 0;
    t.clock.advance(31_000); // the failed probe reopened the breaker for 30 s
    sim.faults.latencyMs = 3000; // longer than the 1 s read timeout
    const slow = await t.admin.ok('erp/open-orders', { org: 'DD', refresh: true });
    expect(slow).toMatchObject({ fromCache: true, warning: 'ERP DD did not answer in time' });

    sim.faults.latencyMs = 0;
    t.clock.advance(31_000);
    const fresh = await t.admin.ok('erp/open-orders', { org: 'DD', refresh: true });
    expect(fresh).toMatchObject({ fromCache: false, warning: null, ageSeconds: 0 });
  });

  it('an open breaker serves the cache without calling the ERP', async () => {
    const { sim, t } = await setup();
    await t.admin.ok('erp/open-orders', { org: 'DD' });
    sim.faults.malformed = 1000;
    for (let i = 0; i < 5; i++) await t.admin.ok('erp/open-orders', { org: 'DD', refresh: true });
    const calls = sim.requests.length;
    const r = await t.admin.ok('erp/open-orders', { org: 'DD', refresh: true });
    expect(r.warning).toBe('ERP DD is resting after repeated failures');
    expect(sim.requests.length).toBe(calls);
  });

  it('with nothing cached, a down ERP is a clear error; wrong credentials say "credentials" (7)', async () => {
    const { sim, t } = await setup();
    sim.faults.unavailable = 10;
    expect(await t.admin.call('erp/open-orders', { org: 'DD' })).toMatchObject({
      ok: false,
      error: { code: 'unavailable', message: 'ERP DD is unavailable (503), and nothing is saved on this station yet' },
    });
    await t.admin.ok('sync/set-credential', { name: 'erp.CBR.password', value: 'wrong' });
    expect(await t.admin.call('erp/open-orders', { org: 'CBR' })).toMatchObject({
      ok: false,
      error: { message: expect.stringContaining('ERP CBR refused the credentials (401)') },
    });
  });

  it('prewarm fetches every instance; credentials are write-only and audited without their value', async () => {
    const { sim, t } = await setup();
    expect(await t.admin.ok('sync/prewarm', {})).toEqual([
      { source: 'erp-DD', rows: expectedOpenOrders(sim.data.DD).length, error: null },
      { source: 'erp-CBR', rows: expectedOpenOrders(sim.data.CBR).length, error: null },
    ]);
    const creds = await t.admin.ok('sync/credentials', {});
    expect(creds).toEqual(expect.arrayContaining([{ name: 'erp.DD.password', set: true }]));
    expect(JSON.stringify(creds)).not.toContain('secret');
    const audit = await t.admin.ok('audit/list', { action: 'sync.credential_set' });
    expect(audit.rows).toHaveLength(4);
    expect(JSON.stringify(audit.rows)).not.toContain('dd-secret');
    const dock = await t.signedIn('dispatcher', 'dock1');
    expect(await dock.call('sync/credentials', {})).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });
});

describe('OData client', () => {
  it('treats $top as a total across server pages (3)', async () => {
    const sim = await erpSimulator();
    sim.faults.pageSize = 50;
    const rows = await clientFor(sim).query('DD', 'SalesOrders', { select: ['OrderNo', 'OrderRev'], top: 120 }, ['OrderNo', 'OrderRev']);
    expect(rows).toHaveLength(120);
    expect(sim.requests.filter((r) => r.url.includes('$skiptoken'))).toHaveLength(2);
  });

  it('pages with $skip only when the server neither pages nor honours the preference (3)', async () => {
    const sim = await erpSimulator({ ordersPerOrg: 400 });
    const all = sim.data.DD.length;
    sim.faults.paging = 'silent-cap';
    sim.faults.pageSize = 500;
    const capped = await clientFor(sim).query('DD', 'SalesOrders', { select: ['OrderNo', 'OrderRev'], pageSize: 500 }, ['OrderNo', 'OrderRev']);
    expect(capped).toHaveLength(all);
    expect(sim.requests.some((r) => r.url.includes('$skip=500'))).toBe(true);

    sim.requests.length = 0;
    sim.faults.paging = 'none'; // everything in one answer: one request, no $skip
    expect(await clientFor(sim).query('DD', 'SalesOrders', { select: ['OrderNo', 'OrderRev'], pageSize: 500 }, ['OrderNo', 'OrderRev'])).toHaveLength(
      all,
    );
    expect(sim.requests).toHaveLength(1);
  });

  it('splits a long list of order numbers into GETs under 8 KB instead of POST $query (4)', async () => {
    const sim = await erpSimulator({ ordersPerOrg: 1200 });
    const wanted = [...new Set(sim.data.DD.map((r) => r.OrderNo))].slice(0, 1000);
    const rows = await clientFor(sim).query('DD', 'SalesOrders', { select: ['OrderNo', 'OrderRev'], anyOf: { field: 'OrderNo', values: wanted } }, [
      'OrderNo',
      'OrderRev',
    ]);
    expect(new Set(rows.map((r) => r.OrderNo)).size).toBe(1000);
    expect(rows).toHaveLength(sim.data.DD.filter((r) => wanted.includes(r.OrderNo)).length);
    expect(sim.requests.length).toBeGreaterThan(3);
    for (const r of sim.requests) {
      expect(r.method).toBe('GET');
      expect(sim.url.length + r.url.length).toBeLessThanOrEqual(MAX_URL_LENGTH);
    }
    // The strict simulator, like many servers, has no $query route.
    const post = await fetch(`${sim.url}/reports/DD/SalesOrders/$query`, {
      method: 'POST',
      body: '$top=1',
      headers: { authorization: `Basic ${Buffer.from('dd-reports:dd-secret').toString('base64')}` },
    });
    expect(post.status).toBe(404);
  });

  it('reads Edm.Decimal strings as numbers and keeps customers with apostrophes and accents (6)', async () => {
    const { sim, t } = await setup();
    const dd = await t.admin.ok('erp/open-orders', { org: 'DD' });
    const withFraction = dd.orders.find((o) => o.qty !== null && !Number.isInteger(o.qty));
    expect(withFraction).toBeDefined();
    const source = sim.data.DD.find((r) => r.OrderNo === withFraction!.orderNo && r.OrderRev === withFraction!.orderRev)!;
    expect(typeof source.Qty).toBe('string');
    expect(withFraction!.qty).toBe(Number(source.Qty));
    expect(dd.orders.map((o) => o.customer)).toEqual(expect.arrayContaining(["O'Brien's Wellness", 'Café Ñandú', 'Łódź Żółć Trading']));
    expect(odataString("O'Brien's")).toBe("'O''Brien''s'");
  });

  it('a caller error (400) is shown with the server’s words and never opens the breaker (7)', async () => {
    const sim = await erpSimulator();
    const client = clientFor(sim);
    for (let i = 0; i < 8; i++) {
      await expect(client.query('DD', 'SalesOrders', { select: ['NoSuchColumn'] }, ['OrderNo'])).rejects.toMatchObject({
        kind: 'refused',
        message: expect.stringContaining("Could not find a property named 'NoSuchColumn'"),
      });
    }
    expect(client.breaker('DD').state).toBe('closed');
    expect(await client.query('DD', 'SalesOrders', { select: ['OrderNo', 'OrderRev'], top: 3 }, ['OrderNo', 'OrderRev'])).toHaveLength(3);
  });
});
