import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/main/app/logger';
import { ODataClient, odataString } from '../../src/main/sync/odata';
import { startErpSimulator, type ErpSimulator } from '../../src/simulators/odata-erp';
import { withAdmin } from '../support/station';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(readTimeoutMs = 2000) {
  const sim = await startErpSimulator();
  const t = await withAdmin({ upstreams: { erp: { url: sim.url, readTimeoutMs } }, syncIntervalMs: 0 });
  cleanups.push(() => sim.close(), () => t.close());
  await t.admin.ok('settings/update', { idleLockMinutes: 240 });
  for (const org of ['DD', 'CBR'] as const) {
    await t.admin.ok('sync/set-credential', { name: `erp.${org}.username`, value: sim.users[org].username });
    await t.admin.ok('sync/set-credential', { name: `erp.${org}.password`, value: sim.users[org].password });
  }
  return { sim, t };
}

const OPEN_PER_ORG = (240 * 3) / 5; // two of five statuses are closed

describe('ERP (OData v4) through the station cache', () => {
  it('reads open orders of each instance with its own credentials, following nextLink, without sensitive columns', async () => {
    const { sim, t } = await setup();
    const dd = await t.admin.ok('erp/open-orders', { org: 'DD' });
    expect(dd).toMatchObject({ org: 'DD', fromCache: false, warning: null });
    expect(dd.orders).toHaveLength(OPEN_PER_ORG);
    expect(dd.orders.every((o) => o.orderNo.startsWith('DD-') && !['Completed', 'Cancelled'].includes(o.orderStatus))).toBe(true);
    expect(Object.keys(dd.orders[0]).sort()).toEqual(['customer', 'dateScheduled', 'etaDate', 'orderNo', 'orderRev', 'orderStatus', 'productionStatus', 'qty']);
    expect(sim.requests.filter((r) => /(\$|%24)skiptoken/.test(r.url)).length).toBeGreaterThan(0); // server paging followed
    expect(sim.requests.every((r) => r.url.includes('%24select') || r.url.includes('$select'))).toBe(true);
    const cbr = await t.admin.ok('erp/open-orders', { org: 'CBR' });
    expect(cbr.orders[0].orderNo).toMatch(/^CBR-/);
  });

  it('short server pages still give every row', async () => {
    const { sim, t } = await setup();
    sim.faults.pageSize = 7;
    expect((await t.admin.ok('erp/open-orders', { org: 'DD' })).orders).toHaveLength(OPEN_PER_ORG);
  });

  it('serves the cached copy with its age when the ERP is down, slow or answers garbage; refresh asks again', async () => {
    const { sim, t } = await setup(400);
    const first = await t.admin.ok('erp/open-orders', { org: 'DD' });
    const before = sim.requests.length;
    t.clock.advance(60_000);
    // Fresh enough: no request at all.
    expect((await t.admin.ok('erp/open-orders', { org: 'DD' })).fromCache).toBe(true);
    expect(sim.requests.length).toBe(before);

    t.clock.advance(10 * 60_000);
    sim.faults.unavailable = 10;
    const down = await t.admin.ok('erp/open-orders', { org: 'DD' });
    expect(down).toMatchObject({ fromCache: true, fetchedAt: first.fetchedAt, ageSeconds: 660, warning: 'erp-DD is unavailable (503)' });
    expect(down.orders).toHaveLength(OPEN_PER_ORG);

    sim.faults.unavailable = 0;
    t.clock.advance(60_000); // past the 503 rest
    sim.faults.malformed = 1; // a 200 with garbage is not retried
    expect((await t.admin.ok('erp/open-orders', { org: 'DD', refresh: true })).warning).toBe('erp-DD answered with something that is not JSON');

    sim.faults.malformed = 0;
    t.clock.advance(31_000); // the failed probe reopened the breaker for 30 s
    sim.faults.latencyMs = 1500; // longer than the 400 ms read timeout
    const slow = await t.admin.ok('erp/open-orders', { org: 'DD', refresh: true });
    expect(slow).toMatchObject({ fromCache: true, warning: 'erp-DD did not answer in time' });

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
    expect(r.warning).toBe('erp-DD is resting after repeated failures');
    expect(sim.requests.length).toBe(calls);
  });

  it('with nothing cached, a down ERP or wrong credentials is a clear error', async () => {
    const { sim, t } = await setup();
    sim.faults.unavailable = 10;
    expect(await t.admin.call('erp/open-orders', { org: 'DD' })).toMatchObject({
      ok: false,
      error: { code: 'unavailable', message: 'erp-DD is unavailable (503), and nothing is saved on this station yet' },
    });
    await t.admin.ok('sync/set-credential', { name: 'erp.CBR.password', value: 'wrong' });
    expect(await t.admin.call('erp/open-orders', { org: 'CBR' })).toMatchObject({
      ok: false,
      error: { message: expect.stringContaining('erp-CBR refused the credentials (401)') },
    });
  });

  it('prewarm fetches every instance; credentials are write-only and audited without their value', async () => {
    const { t } = await setup();
    expect(await t.admin.ok('erp/prewarm', {})).toEqual([
      { source: 'DD', rows: OPEN_PER_ORG, error: null },
      { source: 'CBR', rows: OPEN_PER_ORG, error: null },
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

describe('OData client details', () => {
  it('POSTs to $query when the URL would be too long, and pages with $skip when the server does not', async () => {
    const sim = await startErpSimulator();
    cleanups.push(() => sim.close());
    const secrets = new Map<string, string>([['erp.DD.username', sim.users.DD.username], ['erp.DD.password', sim.users.DD.password]]);
    const client = new ODataClient({ baseUrl: sim.url, now: Date.now, log: silentLogger, secrets: { get: (k) => secrets.get(k) ?? null, set() {}, delete() {}, names: () => [] } });
    const wanted = Array.from({ length: 150 }, (_, i) => `DD-${10000 + i}`);
    const rows = await client.query('DD', 'SalesOrders', { filter: `OrderNo in (${wanted.map(odataString).join(',')})`, select: ['OrderNo', 'OrderRev'] }, (r: Record<string, unknown>) => `${r.OrderNo}#${r.OrderRev}`);
    expect(rows).toHaveLength(150);
    expect(sim.requests.some((r) => r.method === 'POST' && r.url.endsWith('/$query'))).toBe(true);

    sim.requests.length = 0;
    const paged = await client.query('DD', 'SalesOrders', { select: ['OrderNo', 'OrderRev'], pageSize: 50, top: 120 }, (r: Record<string, unknown>) => `${r.OrderNo}#${r.OrderRev}`);
    expect(paged).toHaveLength(120);
    expect(odataString("O'Brien")).toBe("'O''Brien'");
  });
});
