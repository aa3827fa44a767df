import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback OData v4 ERP with two organisations (DD, CBR), each behind its own Basic-auth
 * user, serving `SalesOrders` at /reports/{ORG}/SalesOrders. Supports the query options the
 * station uses — $filter (eq, ne, in, joined by and), $select, $orderby, $top, $skip, $count —
 * server-side paging with an opaque @odata.nextLink, and POST …/$query for long queries.
 */
export interface ErpOrder {
  OrderNo: string;
  OrderRev: number;
  Customer: string;
  OrderStatus: string;
  ProductionStatus: string;
  DateScheduled: string;
  EtaDate: string;
  Qty: number;
  Descn: string;
  Notes: string;
  BarcodeNo: string;
}

export interface ErpFaults {
  /** A blackout window: every request answers 503 with Retry-After until this time (ms since epoch). */
  unavailableUntil: number;
  unavailable: number;
  latencyMs: number;
  malformed: number;
  /** Server page size (short pages). */
  pageSize: number;
}

const STATUSES = ['Work in Progress', 'Scheduled', 'On Hold', 'Completed', 'Cancelled'];
const PRODUCTION = ['Cutting', 'Assembly', 'Finishing', 'QA', 'null'];

export function erpOrders(org: string, count: number): ErpOrder[] {
  return Array.from({ length: count }, (_, i) => {
    const day = 1 + (i % 28);
    return {
      OrderNo: `${org}-${String(10000 + i)}`,
      OrderRev: i % 7 === 0 ? 2 : 1,
      Customer: ['Green Leaf Dispensary', 'Harbor Wellness', 'Summit Cannabis Co', 'Northside Collective'][i % 4],
      OrderStatus: STATUSES[i % STATUSES.length],
      ProductionStatus: PRODUCTION[i % PRODUCTION.length],
      DateScheduled: `2026-12-${String(day).padStart(2, '0')}`,
      EtaDate: `2026-12-${String(Math.min(28, day + 3)).padStart(2, '0')}`,
      Qty: 10 + ((i * 37) % 490),
      Descn: `Pre-roll case ${i}`,
      Notes: i % 5 === 0 ? 'Call before delivery' : '',
      BarcodeNo: `BC${String(900000 + i)}`,
    };
  });
}

function matches(row: ErpOrder, filter: string | null): boolean {
  if (!filter) return true;
  return filter.split(/\s+and\s+/i).every((clause) => {
    const inMatch = /^(\w+)\s+in\s+\((.*)\)$/i.exec(clause.trim());
    if (inMatch) {
      const values = [...inMatch[2].matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1].replace(/''/g, "'"));
      return values.includes(String(row[inMatch[1] as keyof ErpOrder]));
    }
    const m = /^(\w+)\s+(eq|ne)\s+'((?:[^']|'')*)'$/i.exec(clause.trim());
    if (!m) throw new Error(`unsupported $filter clause: ${clause}`);
    const v = String(row[m[1] as keyof ErpOrder]);
    const want = m[3].replace(/''/g, "'");
    return m[2].toLowerCase() === 'eq' ? v === want : v !== want;
  });
}

export interface ErpSimulator {
  url: string;
  faults: ErpFaults;
  users: Record<string, { username: string; password: string }>;
  requests: { method: string; url: string }[];
  close(): Promise<void>;
}

export async function startErpSimulator(options: { ordersPerOrg?: number; port?: number } = {}): Promise<ErpSimulator> {
  const data: Record<string, ErpOrder[]> = { DD: erpOrders('DD', options.ordersPerOrg ?? 240), CBR: erpOrders('CBR', options.ordersPerOrg ?? 240) };
  const users = { DD: { username: 'dd-reports', password: 'dd-secret' }, CBR: { username: 'cbr-reports', password: 'cbr-secret' } };
  const faults: ErpFaults = { unavailableUntil: 0, unavailable: 0, latencyMs: 0, malformed: 0, pageSize: 100 };
  const requests: { method: string; url: string }[] = [];

  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', async () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '' });
      if (faults.latencyMs) await new Promise((r) => setTimeout(r, faults.latencyMs));
      const url = new URL(req.url ?? '/', 'http://x');
      const m = /^\/reports\/(DD|CBR)\/SalesOrders(\/\$query)?$/.exec(url.pathname);
      if (!m) return res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":{"message":"Not found"}}');
      const org = m[1] as 'DD' | 'CBR';
      const auth = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
      if (auth !== `${users[org].username}:${users[org].password}`) return res.writeHead(401, { 'WWW-Authenticate': 'Basic' }).end();
      if (Date.now() < faults.unavailableUntil) return res.writeHead(503, { 'Retry-After': String(Math.ceil((faults.unavailableUntil - Date.now()) / 1000)) }).end('maintenance window');
      if (faults.unavailable > 0) {
        faults.unavailable--;
        return res.writeHead(503).end('maintenance window');
      }
      if (faults.malformed > 0) {
        faults.malformed--;
        return res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"value": [ {"OrderNo": ');
      }
      const q = m[2] ? new URLSearchParams(body) : url.searchParams;
      const skipToken = Number(q.get('$skiptoken') ?? 0);
      let rows: ErpOrder[];
      try {
        rows = data[org].filter((r) => matches(r, q.get('$filter')));
      } catch (error) {
        return res.writeHead(400, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: { message: (error as Error).message } }));
      }
      const orderby = q.get('$orderby');
      if (orderby) {
        const [field, dir] = orderby.split(/\s+/);
        rows = [...rows].sort((a, b) => String(a[field as keyof ErpOrder]).localeCompare(String(b[field as keyof ErpOrder])) * (dir === 'desc' ? -1 : 1));
      }
      const total = rows.length;
      const skip = Number(q.get('$skip') ?? 0) + skipToken;
      const top = q.has('$top') ? Number(q.get('$top')) : Infinity;
      const wanted = rows.slice(skip, skip + Math.min(top, 1e9));
      const page = wanted.slice(0, faults.pageSize);
      const select = q.get('$select')?.split(',').map((s) => s.trim());
      const value = page.map((r) => (select ? Object.fromEntries(select.map((k) => [k, r[k as keyof ErpOrder]])) : r));
      const out: Record<string, unknown> = { '@odata.context': `${url.origin}/reports/${org}/$metadata#SalesOrders`, value };
      if (q.get('$count') === 'true') out['@odata.count'] = total;
      if (wanted.length > page.length) {
        const next = new URLSearchParams(q);
        next.set('$skiptoken', String(skipToken + page.length));
        if (q.has('$top')) next.set('$top', String(top - page.length));
        out['@odata.nextLink'] = `http://${req.headers.host}/reports/${org}/SalesOrders?${next.toString()}`;
      }
      res.writeHead(200, { 'Content-Type': 'application/json; odata.metadata=minimal' }).end(JSON.stringify(out));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    faults,
    users,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
