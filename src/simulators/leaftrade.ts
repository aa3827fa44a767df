import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback LeafTrade (wholesale orders): `Authorization: Token <key>`, Django-style pages
 * {count, next, previous, results}, /api/v1/company/profile/, /api/v1/orders/?status=approved.
 */
export interface LeafTradeOrder {
  id: number;
  invoice_id: string;
  status: string;
  delivery_date: string;
  total_gross: string;
  created_at: string;
  updated_at: string;
  dispensary_location: {
    name: string;
    /** The receiving licence BioTrack's manifest names (`vendor_license`). */
    license_number: string;
    address: { street_address_1: string; city: string; state: string; postal_code: string };
    dispensary: { name: string };
  };
  /** Line items: their shape is unconfirmed upstream, so some demo orders come without them. */
  line_items?: LeafTradeLineItem[];
}

export interface LeafTradeLineItem {
  id: number;
  product_name: string;
  quantity: string;
  unit: string;
}

/** The demo BioTrack simulator's product names, so the demo's lines can be filled from its inventory. */
const PRODUCTS = ['Blue Dream 1g pre-roll', 'Sour Diesel 3.5g', 'OG Kush cartridge'] as const;

function lineItems(i: number): LeafTradeLineItem[] | undefined {
  if (i % 9 === 8) return undefined;
  return Array.from({ length: 1 + (i % 3) }, (_, k) => ({
    id: 90_000 + i * 10 + k,
    product_name: PRODUCTS[(i + k) % PRODUCTS.length],
    quantity: (2 + ((i + 3 * k) % 5)).toFixed(2),
    unit: 'each',
  }));
}

export interface LeafTradeFaults {
  /** A blackout window: every request answers 503 with Retry-After until this time (ms since epoch). */
  unavailableUntil: number;
  unavailable: number;
  rateLimited: number;
  malformed: number;
  latencyMs: number;
  pageSize: number;
  /** How `next` is written: absolute (Django default), relative (behind some proxies), or to another host (hostile). */
  links: 'absolute' | 'relative' | 'foreign';
}

const STORES = [
  ['Green Leaf Dispensary', 'Bend', '97701'],
  ['Harbor Wellness', 'Portland', '97205'],
  ['Summit Cannabis Co', 'Eugene', '97401'],
  ['Northside Collective', 'Salem', '97301'],
] as const;

export function leafTradeOrders(count: number): LeafTradeOrder[] {
  return Array.from({ length: count }, (_, i) => {
    const [name, city, zip] = STORES[i % STORES.length];
    return {
      id: 5000 + i,
      invoice_id: `INV-${26000 + i}`,
      status: i % 4 === 3 ? 'pending' : 'approved',
      delivery_date: `2026-12-${String(1 + (i % 28)).padStart(2, '0')}`,
      total_gross: (125 + ((i * 73) % 4000)).toFixed(2),
      created_at: `2026-11-${String(1 + (i % 24)).padStart(2, '0')}T09:00:00Z`,
      updated_at: `2026-11-${String(1 + (i % 24)).padStart(2, '0')}T10:00:00Z`,
      dispensary_location: {
        name: `${name} — ${city}`,
        license_number: String(412000 + (i % STORES.length)),
        address: { street_address_1: `${100 + i} Main St`, city, state: 'OR', postal_code: zip },
        dispensary: { name },
      },
      line_items: lineItems(i),
    };
  });
}

export interface LeafTradeSimulator {
  url: string;
  token: string;
  faults: LeafTradeFaults;
  requests: string[];
  close(): Promise<void>;
}

export async function startLeafTradeSimulator(options: { orders?: number; port?: number } = {}): Promise<LeafTradeSimulator> {
  const orders = leafTradeOrders(options.orders ?? 120);
  const token = 'lt-demo-token-7d1c';
  const faults: LeafTradeFaults = {
    unavailableUntil: 0,
    unavailable: 0,
    rateLimited: 0,
    malformed: 0,
    latencyMs: 0,
    pageSize: 25,
    links: 'absolute',
  };
  const requests: string[] = [];
  const json = (res: http.ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));

  // The answer is async (latency faults); a throw inside is a 500, never an unhandled rejection.
  const server = http.createServer((req, res) => {
    void (async () => {
      requests.push(req.url ?? '');
      if (faults.latencyMs) await new Promise((r) => setTimeout(r, faults.latencyMs));
      if (req.headers.authorization !== `Token ${token}`) return json(res, 401, { detail: 'Invalid token.' });
      if (Date.now() < faults.unavailableUntil)
        return res.writeHead(503, { 'Retry-After': String(Math.ceil((faults.unavailableUntil - Date.now()) / 1000)) }).end('upstream maintenance');
      if (faults.unavailable > 0) {
        faults.unavailable--;
        return res.writeHead(503).end('upstream maintenance');
      }
      if (faults.rateLimited > 0) {
        faults.rateLimited--;
        return res.writeHead(429, { 'Retry-After': '1' }).end('{"detail":"Request was throttled."}');
      }
      if (faults.malformed > 0) {
        faults.malformed--;
        return res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"count": 12, "results": [');
      }
      const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
      if (url.pathname === '/api/v1/company/profile/') return json(res, 200, { id: 77, name: 'Dockside Farms', license: 'OR-1234' });
      if (url.pathname === '/api/v1/orders/') {
        const status = url.searchParams.get('status');
        const all = orders.filter((o) => !status || o.status === status);
        const page = Math.max(1, Number(url.searchParams.get('page') ?? 1));
        const size = faults.pageSize;
        const results = all.slice((page - 1) * size, page * size);
        const link = (p: number) => {
          const u = new URL(url);
          u.searchParams.set('page', String(p));
          if (faults.links === 'relative') return `${u.pathname}${u.search}`;
          if (faults.links === 'foreign') return `http://127.0.0.2:${u.port}${u.pathname}${u.search}`;
          return u.toString();
        };
        return json(res, 200, {
          count: all.length,
          next: page * size < all.length ? link(page + 1) : null,
          previous: page > 1 ? link(page - 1) : null,
          results,
        });
      }
      return json(res, 404, { detail: 'Not found.' });
    })().catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    faults,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
