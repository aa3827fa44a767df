// Conformance: Dockside's ETA report against a real OData v4 server that none of us wrote (SAP
// CAP 10, tests/independent/odata-cap). A customer known by its Customer Name in DD and one known
// by its Customer Group in CBR: each report equals, row for row, what the server's own query
// answers — the same $filter sent by bare fetch, its pages followed, per order the newest
// revision kept when open — and that answer is checked against the server's database too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EtaOrder } from '../../src/shared/contract/eta';
import { waitForJob } from '../support/imports';
import type { withAdmin } from '../support/station';
import { newestOpen, stationOnCapErp, type Row } from './cap-station';
import type { CapErp } from './odata-cap/server';

let erp: CapErp;
let t: Awaited<ReturnType<typeof withAdmin>>;

beforeAll(async () => {
  ({ erp, t } = await stationOnCapErp());
}, 120_000);

afterAll(async () => {
  await t?.close();
  await erp?.close();
});

/** The server's own answer to `filter`, by bare fetch, every page followed as the server links them. */
async function serverQuery(org: 'DD' | 'CBR', filter: string): Promise<Row[]> {
  const auth = `Basic ${Buffer.from(`${erp.users[org].username}:${erp.users[org].password}`).toString('base64')}`;
  let url: string | undefined = `${erp.url}/reports/${org}/SalesOrders?$filter=${encodeURIComponent(filter)}&$orderby=OrderNo,OrderRev`;
  const rows: Row[] = [];
  while (url) {
    const res = await fetch(url, { headers: { authorization: auth } });
    if (!res.ok) throw new Error(`${org} ${res.status}: ${await res.text()}`);
    const body = (await res.json()) as { value: Row[]; '@odata.nextLink'?: string };
    rows.push(...body.value);
    url = body['@odata.nextLink'] ? new URL(body['@odata.nextLink'], url).href : undefined;
  }
  return rows;
}

/** Per order the newest revision, kept when open: what the report must show, in its shape. */
function openOf(org: 'DD' | 'CBR', rows: Row[]) {
  return newestOpen(rows)
    .map((r) => ({
      org,
      orderNo: String(r.OrderNo),
      orderRev: Number(r.OrderRev),
      customer: String(r.Customer ?? ''),
      customerGroup: String(r.CustomerGroup ?? ''),
      supplier: String(r.Supplier ?? ''),
      dateScheduled: r.DateScheduled === null ? null : String(r.DateScheduled).slice(0, 10),
      etaDate: r.EtaDate === null ? null : String(r.EtaDate).slice(0, 10),
      productionStatus: r.ProductionStatus === null || r.ProductionStatus === 'null' ? null : String(r.ProductionStatus),
      qty: r.Qty === null ? null : Number(r.Qty),
    }))
    .sort((a, b) => a.orderNo.localeCompare(b.orderNo));
}

/** Every row of a finished report, in order-number order (no status hidden: the mapping is empty). */
async function reportRows(jobId: number): Promise<EtaOrder[]> {
  const out: EtaOrder[] = [];
  for (let offset = 0; ; offset += 500) {
    const p = await t.admin.ok('eta/report-view', { jobId, offset, limit: 500, sort: { column: 'orderNo', direction: 'asc' } });
    out.push(...p.rows.map(({ statusLabel: _label, ...r }) => r));
    if (offset + 500 >= p.matching) return out;
  }
}

describe('ETA reports against SAP CAP (an independent OData v4 server)', () => {
  const cases = [
    { org: 'DD' as const, kind: 'name' as const, name: "O'Brien's Wellness", field: 'Customer' },
    { org: 'CBR' as const, kind: 'group' as const, name: 'Coastal Retail Group', field: 'CustomerGroup' },
  ];
  for (const c of cases) {
    it(`a ${c.kind === 'name' ? 'Customer Name' : 'Customer Group'} report (${c.org} “${c.name}”) equals the server's own query, row for row`, async () => {
      const customer = await t.admin.ok('eta/customer-save', {
        displayName: `${c.org} ${c.name}`,
        dd: c.org === 'DD' ? { name: c.name, kind: c.kind } : null,
        cbr: c.org === 'CBR' ? { name: c.name, kind: c.kind } : null,
      });
      const started = await t.admin.ok('eta/run', { customerId: customer.id, refresh: true });
      const job = await waitForJob(t.admin, started.job.id);
      expect(job.status, job.error ?? '').toBe('succeeded');
      const got = await reportRows(job.id);

      const literal = `'${c.name.replace(/'/g, "''")}'`;
      const server = await serverQuery(c.org, `${c.field} eq ${literal}`);
      const want = openOf(c.org, server);
      // The server's query agrees with its database.
      const db = (await erp.rows(c.org)).filter((r) => r[c.field] === c.name);
      expect(server.length).toBe(db.length);
      expect(openOf(c.org, db)).toEqual(want);

      console.log(
        `eta conformance ${c.org} ${c.kind} "${c.name}": dockside_rows=${got.length} server_open_rows=${want.length} server_rows=${server.length}`,
      );
      expect(want.length).toBeGreaterThan(10);
      if (c.kind === 'group') expect(new Set(want.map((r) => r.customer)).size).toBeGreaterThan(1);
      expect(got).toEqual(want);
    });
  }
});
