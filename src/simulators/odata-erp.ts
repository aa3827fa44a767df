import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback OData v4 ERP with two organisations (DD, CBR), each behind its own Basic-auth user,
 * serving `SalesOrders` at /reports/{ORG}/SalesOrders and the item catalogue `InventoryItems` at
 * /reports/{ORG}/InventoryItems (an assumed entity set: UPSTREAMS.md names `InventoryItem` as a
 * field of the schedule and no item set; see erpItems). It is as strict as the real servers our
 * client was proven against (tests/independent): a `+` in the query is a syntax error (spaces are
 * %20), unknown options or properties are 400, `$top` is a total across pages, the server pages
 * by its own size (lowered by `Prefer: odata.maxpagesize`, answered with Preference-Applied) with
 * a *relative* nextLink carrying $skiptoken, `POST …/$query` is 404 unless switched on, URLs over
 * 8 KB are 414, and Edm.Decimal values are JSON strings ("10.250").
 */
export interface ErpOrder {
  OrderNo: string;
  OrderRev: number;
  Customer: string;
  /**
   * The customer's group (a buying group or head office). Assumed field name: UPSTREAMS.md names no
   * group field; ETA reports filter on `CustomerGroup eq '…'` for a customer set up as a group.
   */
  CustomerGroup: string;
  /** Who makes the order's goods (ETA reports filter and sort on it). Assumed field name, as above. */
  Supplier: string;
  OrderStatus: string;
  ProductionStatus: string | null;
  DateScheduled: string;
  EtaDate: string;
  /** Edm.Decimal(12,3): sent as a string. */
  Qty: string;
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
  /** The server's own page size. */
  pageSize: number;
  /**
   * 'server': pages with nextLink (default). 'none': sends every row at once, ignores the
   * preference. 'silent-cap': cuts every answer at `pageSize` rows without a nextLink and without
   * saying so (seen on some ERPs); $top and $skip still work.
   */
  paging: 'server' | 'none' | 'silent-cap';
  /** Answer POST …/$query (OData 4.01); off by default like many real servers. */
  queryRoute: boolean;
}

export const ERP_ENTITY_PROPERTIES = [
  'OrderNo',
  'OrderRev',
  'Customer',
  'CustomerGroup',
  'Supplier',
  'OrderStatus',
  'ProductionStatus',
  'DateScheduled',
  'EtaDate',
  'Qty',
  'Descn',
  'Notes',
  'BarcodeNo',
] as const;
/**
 * An item of the catalogue (stock verification). Assumed shape: UPSTREAMS.md lists no item entity
 * set, only `InventoryItem` (a code) on schedule rows and `Descn`/`BarcodeNo` columns; the set is
 * named after that field and keyed on `ItemCode`.
 */
export interface ErpItem {
  ItemCode: string;
  ItemName: string;
  Descn: string;
  BarcodeNo: string;
}
export const ERP_ITEM_PROPERTIES = ['ItemCode', 'ItemName', 'Descn', 'BarcodeNo'] as const;
const ITEM_KINDS = ['Pre-roll 1g', 'Flower jar 3.5g', 'Vape cartridge 0.5g', 'Gummies 10-pack', 'Tincture 30ml', 'Crème topical 50ml'];
const STRAINS = ['Blue Dream', 'Sour Diesel', 'Northern Lights', 'Granddaddy Purple', 'Jack Herer', 'Café Olé'];

/** Deterministic items: `${org}-ITEM-0001`…, each with a name, a description and an EAN-like barcode. */
export function erpItems(org: string, count: number): ErpItem[] {
  return Array.from({ length: count }, (_, i) => ({
    ItemCode: `${org}-ITEM-${String(i + 1).padStart(4, '0')}`,
    ItemName: `${STRAINS[i % STRAINS.length]} ${ITEM_KINDS[Math.floor(i / STRAINS.length) % ITEM_KINDS.length]}`,
    Descn: `${ITEM_KINDS[Math.floor(i / STRAINS.length) % ITEM_KINDS.length]} of ${STRAINS[i % STRAINS.length]}, batch ${100 + (i % 17)}`,
    BarcodeNo: `${org === 'DD' ? '400' : '401'}${String(1000000 + i).padStart(10, '0')}`,
  }));
}

/** The entity sets served: their rows' property names, and which are numbers in $filter and $orderby. */
interface EntitySet {
  properties: readonly string[];
  numeric: readonly string[];
}
const ENTITY_SETS: Record<'SalesOrders' | 'InventoryItems', EntitySet> = {
  SalesOrders: { properties: [] as string[], numeric: ['OrderRev', 'Qty'] },
  InventoryItems: { properties: ERP_ITEM_PROPERTIES, numeric: [] },
};

const STATUSES = ['Work in Progress', 'Scheduled', 'On Hold', 'Completed', 'Cancelled'];
const PRODUCTION = ['Cutting', 'Assembly', 'Finishing', 'QA', null, 'null'];
const CUSTOMERS = [
  'Green Leaf Dispensary',
  "O'Brien's Wellness",
  'Harbor Wellness',
  'Café Ñandú',
  'Summit Cannabis Co',
  'Größe & Söhne',
  'Northside Collective',
  'Łódź Żółć Trading',
];
/** Each customer's group, by the customer's place in CUSTOMERS. */
export const CUSTOMER_GROUPS = ['Coastal Retail Group', 'Inland Wellness Group', 'Independent'];
export const SUPPLIERS = ['Acme Packaging', 'Harbour Mills', 'Southern Cross Supply', 'Kestrel Labs'];
export const ERP_CUSTOMERS: readonly string[] = CUSTOMERS;
const MAX_URL = 8 * 1024;

/** Deterministic orders with 1–3 revisions each; a newer revision may close an order or reopen it. */
export function erpOrders(org: string, orderCount: number): ErpOrder[] {
  const rows: ErpOrder[] = [];
  for (let i = 0; i < orderCount; i++) {
    const revisions = 1 + (i % 3 === 0 ? 2 : i % 5 === 0 ? 1 : 0);
    for (let rev = 1; rev <= revisions; rev++) {
      const n = i * 3 + rev;
      const day = 1 + ((i + rev) % 28);
      rows.push({
        OrderNo: `${org}-${String(10000 + i)}`,
        OrderRev: rev,
        Customer: CUSTOMERS[i % CUSTOMERS.length],
        CustomerGroup: CUSTOMER_GROUPS[(i % CUSTOMERS.length) % CUSTOMER_GROUPS.length],
        Supplier: SUPPLIERS[(i + rev) % SUPPLIERS.length],
        OrderStatus: STATUSES[(i + rev * 2) % STATUSES.length],
        ProductionStatus: PRODUCTION[n % PRODUCTION.length],
        DateScheduled: `2026-12-${String(day).padStart(2, '0')}`,
        EtaDate: `2027-01-${String(day).padStart(2, '0')}`,
        Qty: (10 + ((n * 37) % 490) + ((n * 7) % 4) / 4).toFixed(3),
        Descn: `Pre-roll case ${n}`,
        Notes: i % 5 === 0 ? 'Call before delivery' : '',
        BarcodeNo: `BC${String(900000 + n)}`,
      });
    }
  }
  return rows;
}

/** What the station should show: per order its newest revision, if that one is open. */
export function expectedOpenOrders(rows: ErpOrder[]): ErpOrder[] {
  const newest = new Map<string, ErpOrder>();
  for (const r of rows) if ((newest.get(r.OrderNo)?.OrderRev ?? -1) < r.OrderRev) newest.set(r.OrderNo, r);
  return [...newest.values()].filter((r) => r.OrderStatus !== 'Completed' && r.OrderStatus !== 'Cancelled');
}

class ODataSyntaxError extends Error {}

// ---- $filter: a small recursive-descent parser for the subset OData servers share ----------
type Value = string | number | null;
type Row = Record<string, unknown>;
type Expr = (row: Row) => boolean;

function tokenize(src: string): string[] {
  const tokens: string[] = [];
  const re = /\s*('(?:[^']|'')*'|\(|\)|,|-?\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*)/y;
  let i = 0;
  while (i < src.length) {
    if (/^\s*$/.test(src.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(src);
    if (!m) throw new ODataSyntaxError(`Syntax error at position ${i} in $filter`);
    tokens.push(m[1]);
    i = re.lastIndex;
  }
  return tokens;
}

function parseFilter(src: string, setName: keyof typeof ENTITY_SETS): Expr {
  const set = entitySet(setName);
  const t = tokenize(src);
  let p = 0;
  const peek = () => t[p];
  const take = (want?: string) => {
    const tok = t[p++];
    if (tok === undefined || (want !== undefined && tok.toLowerCase() !== want))
      throw new ODataSyntaxError(`Syntax error in $filter near '${tok ?? 'end'}'`);
    return tok;
  };
  const literal = (): Value => {
    const tok = take();
    if (tok.startsWith("'")) return tok.slice(1, -1).replace(/''/g, "'");
    if (/^-?\d/.test(tok)) return Number(tok);
    if (tok === 'null') return null;
    throw new ODataSyntaxError(`Expected a literal in $filter, found '${tok}'`);
  };
  const property = (): string => {
    const tok = take();
    if (!set.properties.includes(tok)) throw new ODataSyntaxError(`Could not find a property named '${tok}' on type '${setName}'`);
    return tok;
  };
  const compare = (a: Value, b: Value): number | null => {
    if (a === null || b === null) return null;
    if (typeof a === 'number' || typeof b === 'number') return Number(a) - Number(b);
    return a < b ? -1 : a > b ? 1 : 0;
  };
  const primary = (): Expr => {
    if (peek() === '(') {
      take('(');
      const e = or();
      take(')');
      return e;
    }
    if (peek()?.toLowerCase() === 'not') {
      take();
      const e = primary();
      return (r) => !e(r);
    }
    const prop = property();
    const op = take().toLowerCase();
    const value = (r: Row): Value => (set.numeric.includes(prop) ? Number(r[prop]) : (r[prop] as Value));
    if (op === 'in') {
      take('(');
      const values: Value[] = [literal()];
      while (peek() === ',') {
        take(',');
        values.push(literal());
      }
      take(')');
      return (r) => values.includes(value(r));
    }
    const lit = literal();
    switch (op) {
      case 'eq':
        return (r) => value(r) === lit;
      case 'ne':
        return (r) => value(r) !== lit;
      case 'gt':
      case 'ge':
      case 'lt':
      case 'le':
        return (r) => {
          const c = compare(value(r), lit);
          return c !== null && (op === 'gt' ? c > 0 : op === 'ge' ? c >= 0 : op === 'lt' ? c < 0 : c <= 0);
        };
      default:
        throw new ODataSyntaxError(`Unknown operator '${op}' in $filter`);
    }
  };
  const and = (): Expr => {
    let e = primary();
    while (peek()?.toLowerCase() === 'and') {
      take();
      const l = e;
      const r = primary();
      e = (row) => l(row) && r(row);
    }
    return e;
  };
  const or = (): Expr => {
    let e = and();
    while (peek()?.toLowerCase() === 'or') {
      take();
      const l = e;
      const r = and();
      e = (row) => l(row) || r(row);
    }
    return e;
  };
  const e = or();
  if (p !== t.length) throw new ODataSyntaxError(`Syntax error in $filter near '${t[p]}'`);
  return e;
}

function entitySet(name: keyof typeof ENTITY_SETS): EntitySet {
  return name === 'SalesOrders' ? { ...ENTITY_SETS.SalesOrders, properties: ERP_ENTITY_PROPERTIES } : ENTITY_SETS[name];
}

const SYSTEM_OPTIONS = new Set(['$filter', '$select', '$orderby', '$top', '$skip', '$count', '$skiptoken', '$format']);

/** Query options the way OData reads them: percent-decoding only; a `+` is not a space. */
function readOptions(rawQuery: string): Map<string, string> {
  const options = new Map<string, string>();
  if (!rawQuery) return options;
  if (rawQuery.includes('+')) throw new ODataSyntaxError("Syntax error: '+' in the query (spaces must be encoded as %20)");
  for (const part of rawQuery.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
      value = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    } catch {
      throw new ODataSyntaxError('Malformed percent-encoding in the query');
    }
    if (name.startsWith('$') && !SYSTEM_OPTIONS.has(name)) throw new ODataSyntaxError(`The query parameter '${name}' is not supported`);
    if (options.has(name)) throw new ODataSyntaxError(`Query option '${name}' was specified more than once`);
    options.set(name, value);
  }
  return options;
}

function nonNegativeInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new ODataSyntaxError(`Invalid value '${v}' for ${name}: a non-negative integer is required`);
  return Number(v);
}

export interface ErpSimulator {
  url: string;
  faults: ErpFaults;
  users: Record<'DD' | 'CBR', { username: string; password: string }>;
  /** The rows each organisation holds: the truth a test compares the station with. */
  data: Record<'DD' | 'CBR', ErpOrder[]>;
  /** The item catalogue each organisation holds (InventoryItems). */
  items: Record<'DD' | 'CBR', ErpItem[]>;
  requests: { method: string; url: string; prefer: string | null }[];
  close(): Promise<void>;
}

export async function startErpSimulator(
  options: {
    ordersPerOrg?: number;
    itemsPerOrg?: number;
    port?: number;
    data?: Record<'DD' | 'CBR', ErpOrder[]>;
    items?: Record<'DD' | 'CBR', ErpItem[]>;
  } = {},
): Promise<ErpSimulator> {
  const data = options.data ?? { DD: erpOrders('DD', options.ordersPerOrg ?? 240), CBR: erpOrders('CBR', options.ordersPerOrg ?? 240) };
  const items = options.items ?? { DD: erpItems('DD', options.itemsPerOrg ?? 60), CBR: erpItems('CBR', options.itemsPerOrg ?? 60) };
  const users = { DD: { username: 'dd-reports', password: 'dd-secret' }, CBR: { username: 'cbr-reports', password: 'cbr-secret' } };
  const faults: ErpFaults = { unavailableUntil: 0, unavailable: 0, latencyMs: 0, malformed: 0, pageSize: 100, paging: 'server', queryRoute: false };
  const requests: ErpSimulator['requests'] = [];
  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
    res
      .writeHead(status, { 'Content-Type': 'application/json; odata.metadata=minimal; charset=utf-8', 'OData-Version': '4.0', ...headers })
      .end(JSON.stringify(body));
  const odataError = (res: http.ServerResponse, status: number, message: string) => json(res, status, { error: { code: String(status), message } });

  const server = http.createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    // The answer is async (latency faults); a throw inside is a 500, never an unhandled rejection.
    req.on('end', () => {
      void (async () => {
        const rawUrl = req.url ?? '/';
        requests.push({ method: req.method ?? '', url: rawUrl, prefer: (req.headers.prefer as string | undefined) ?? null });
        if (faults.latencyMs) await new Promise((r) => setTimeout(r, faults.latencyMs));
        if (rawUrl.length > MAX_URL) return odataError(res, 414, 'URI Too Long');
        const q = rawUrl.indexOf('?');
        const pathname = q < 0 ? rawUrl : rawUrl.slice(0, q);
        const m = /^\/reports\/(DD|CBR)\/(SalesOrders|InventoryItems)(\/\$query)?$/.exec(pathname);
        if (!m || (m[3] && !faults.queryRoute)) return odataError(res, 404, `No route for ${req.method} ${pathname}`);
        const setName = m[2] as keyof typeof ENTITY_SETS;
        const set = entitySet(setName);
        if (req.method !== (m[3] ? 'POST' : 'GET')) return odataError(res, 405, `Method ${req.method} is not allowed here`);
        const org = m[1] as 'DD' | 'CBR';
        const auth = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString('utf8');
        if (auth !== `${users[org].username}:${users[org].password}`)
          return res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="reports"' }).end();
        if (Date.now() < faults.unavailableUntil)
          return res.writeHead(503, { 'Retry-After': String(Math.ceil((faults.unavailableUntil - Date.now()) / 1000)) }).end('maintenance window');
        if (faults.unavailable > 0) {
          faults.unavailable--;
          return res.writeHead(503).end('maintenance window');
        }
        if (faults.malformed > 0) {
          faults.malformed--;
          return res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"value": [ {"OrderNo": ');
        }
        let rows: Row[];
        let opts: Map<string, string>;
        let select: string[] | undefined;
        let top: number | undefined;
        let skip: number;
        let skipToken: number;
        try {
          opts = readOptions(m[3] ? body.trim() : q < 0 ? '' : rawUrl.slice(q + 1));
          const filter = opts.get('$filter');
          const source: Row[] = setName === 'SalesOrders' ? (data[org] as unknown as Row[]) : (items[org] as unknown as Row[]);
          rows = filter ? source.filter(parseFilter(filter, setName)) : [...source];
          select = opts
            .get('$select')
            ?.split(',')
            .map((s) => s.trim());
          for (const s of select ?? [])
            if (!set.properties.includes(s)) throw new ODataSyntaxError(`Could not find a property named '${s}' on type '${setName}'`);
          const orderby = opts.get('$orderby');
          if (orderby) {
            const keys = orderby.split(',').map((part) => {
              const [field, dir = 'asc', extra] = part.trim().split(/\s+/);
              if (extra || !set.properties.includes(field) || !['asc', 'desc'].includes(dir))
                throw new ODataSyntaxError(`Invalid $orderby '${part}'`);
              return { field, sign: dir === 'desc' ? -1 : 1 };
            });
            rows.sort((a, b) => {
              for (const k of keys) {
                const x = set.numeric.includes(k.field)
                  ? Number(a[k.field]) - Number(b[k.field])
                  : String(a[k.field] ?? '').localeCompare(String(b[k.field] ?? ''));
                if (x) return x * k.sign;
              }
              return 0;
            });
          }
          top = nonNegativeInt('$top', opts.get('$top'));
          skip = nonNegativeInt('$skip', opts.get('$skip')) ?? 0;
          skipToken = nonNegativeInt('$skiptoken', opts.get('$skiptoken')) ?? 0;
        } catch (error) {
          if (error instanceof ODataSyntaxError) return odataError(res, 400, error.message);
          throw error;
        }
        const count = rows.length;
        const start = skip + skipToken;
        const end = top === undefined ? rows.length : Math.min(rows.length, skip + top);
        const preferred = /odata\.maxpagesize=(\d+)/i.exec(String(req.headers.prefer ?? ''));
        const headers: Record<string, string> = {};
        let pageSize = Infinity;
        if (faults.paging === 'server') {
          pageSize = faults.pageSize;
          if (preferred && Number(preferred[1]) > 0 && Number(preferred[1]) <= faults.pageSize) {
            pageSize = Number(preferred[1]);
            headers['Preference-Applied'] = `odata.maxpagesize=${pageSize}`;
          }
        } else if (faults.paging === 'silent-cap') {
          pageSize = faults.pageSize;
        }
        const page = rows.slice(start, Math.min(end, start + pageSize));
        const value = page.map((r) => (select ? Object.fromEntries(select.map((k) => [k, r[k]])) : r));
        const out: Record<string, unknown> = { '@odata.context': `$metadata#${setName}${select ? `(${select.join(',')})` : ''}`, value };
        if (opts.get('$count') === 'true') out['@odata.count'] = count;
        if (faults.paging === 'server' && start + page.length < end) {
          // Relative to the request URL, as real servers send it; every other option kept.
          const next = [...opts].filter(([k]) => k !== '$skiptoken').map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
          next.push(`$skiptoken=${skipToken + page.length}`);
          out['@odata.nextLink'] = `${setName}?${next.join('&')}`;
        }
        json(res, 200, out, headers);
      })().catch(() => res.writeHead(500).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    faults,
    users,
    data,
    items,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
