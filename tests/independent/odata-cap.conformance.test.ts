// Conformance: Dockside's ERP client against a real OData v4 server that none of us wrote
// (SAP CAP 10, tests/independent/odata-cap), serving SalesOrders at /reports/DD and /reports/CBR
// with Basic auth and server-driven paging (100 rows a page, Prefer ignored). The open orders
// Dockside shows are compared, row for row, with the server's own database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/main/platform/logger';
import { ODataClient } from '../../src/main/upstreams/erp/odata';
import type { withAdmin } from '../support/station';
import { newestOpen, stationOnCapErp, type Row } from './cap-station';
import type { CapErp } from './odata-cap/server';
import { fixedSecrets } from '../support/secrets';

let erp: CapErp;
let t: Awaited<ReturnType<typeof withAdmin>>;

beforeAll(async () => {
  ({ erp, t } = await stationOnCapErp());
}, 120_000);

afterAll(async () => {
  await t?.close();
  await erp?.close();
});

/** The truth from the server's database: per order its newest revision, kept only when open. */
function expectedOpen(rows: Row[]) {
  return newestOpen(rows)
    .map((r) => ({
      orderNo: String(r.OrderNo),
      orderRev: Number(r.OrderRev),
      customer: String(r.Customer ?? ''),
      orderStatus: String(r.OrderStatus ?? ''),
      productionStatus:
        r.ProductionStatus === null || r.ProductionStatus === 'null' || r.ProductionStatus === undefined ? null : String(r.ProductionStatus),
      dateScheduled: r.DateScheduled === null || r.DateScheduled === undefined ? null : String(r.DateScheduled).slice(0, 10),
      etaDate: r.EtaDate === null || r.EtaDate === undefined ? null : String(r.EtaDate).slice(0, 10),
      qty: r.Qty === null || r.Qty === undefined ? null : Number(r.Qty),
    }))
    .sort((a, b) => a.orderNo.localeCompare(b.orderNo));
}

describe('ERP client against SAP CAP (an independent OData v4 server)', () => {
  for (const org of ['DD', 'CBR'] as const) {
    it(`reads ${org}'s open orders exactly as the server's database holds them`, async () => {
      const truth = await erp.rows(org);
      expect(truth.length).toBeGreaterThan(2000);
      const started = performance.now();
      const got = await t.admin.ok('erp/open-orders', { org, refresh: true });
      const ms = performance.now() - started;
      const want = expectedOpen(truth);
      // What the closing note quotes: rows from Dockside vs the server's own count.
      console.log(
        `conformance ${org}: dockside_rows=${got.orders.length} server_open_rows=${want.length} server_rows=${truth.length} read_ms=${Math.round(ms)}`,
      );
      expect(got.warning).toBeNull();
      expect([...got.orders].sort((a, b) => a.orderNo.localeCompare(b.orderNo))).toEqual(want);
    });
  }

  it('keeps the customers with apostrophes and non-ASCII letters, and Decimal quantities as numbers', async () => {
    const got = await t.admin.ok('erp/open-orders', { org: 'DD' });
    expect(got.orders.some((o) => o.customer.includes("'"))).toBe(true);
    expect(got.orders.some((o) => /[^\p{ASCII}]/u.test(o.customer))).toBe(true);
    expect(got.orders.some((o) => o.qty !== null && !Number.isInteger(o.qty))).toBe(true);
    expect(got.orders.every((o) => o.qty === null || typeof o.qty === 'number')).toBe(true);
  });

  it('gets a total of $top across the server pages, and long order lists in several short GETs', async () => {
    const secrets = { 'erp.DD.username': erp.users.DD.username, 'erp.DD.password': erp.users.DD.password };
    const client = new ODataClient({
      baseUrl: erp.url,
      now: Date.now,
      log: silentLogger,
      secrets: fixedSecrets(secrets),
    });
    expect(await client.query('DD', 'SalesOrders', { select: ['OrderNo', 'OrderRev'], top: 250 }, ['OrderNo', 'OrderRev'])).toHaveLength(250);
    const truth = await erp.rows('DD');
    const orderNos = [...new Set(truth.map((r) => String(r.OrderNo)))].slice(0, 900);
    const rows = await client.query('DD', 'SalesOrders', { select: ['OrderNo', 'OrderRev'], anyOf: { field: 'OrderNo', values: orderNos } }, [
      'OrderNo',
      'OrderRev',
    ]);
    expect(rows).toHaveLength(truth.filter((r) => orderNos.includes(String(r.OrderNo))).length);
  });

  it('says "credentials" for a wrong password and for the other instance’s user', async () => {
    const client = (user: string, password: string) =>
      new ODataClient({
        baseUrl: erp.url,
        now: Date.now,
        log: silentLogger,
        secrets: fixedSecrets({ 'erp.DD.username': user, 'erp.DD.password': password }),
      });
    await expect(client('dd-reports', 'nope').query('DD', 'SalesOrders', { top: 1 }, ['OrderNo', 'OrderRev'])).rejects.toMatchObject({
      kind: 'credentials',
      status: 401,
    });
    await expect(
      client(erp.users.CBR.username, erp.users.CBR.password).query('DD', 'SalesOrders', { top: 1 }, ['OrderNo', 'OrderRev']),
    ).rejects.toMatchObject({ kind: 'credentials', status: 403 });
  });
});
