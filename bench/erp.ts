/**
 * Reading the ERP through server paging, against a real OData v4 server (SAP CAP, 100 rows a
 * page, tests/independent/odata-cap): every row of one instance through Dockside's client, and
 * the same pages fetched and parsed by bare `fetch` in the same run as the baseline.
 *
 *   npm run bench:erp  → last line: rows=… pages=… client_ms=… raw_ms=… ratio=… open_orders_ms=…
 */
import fs from 'node:fs';
import { silentLogger } from '../src/main/platform/logger';
import { ODataClient } from '../src/main/upstreams/erp/odata';
import { startCapErp } from '../tests/independent/odata-cap/server';
import { withAdmin } from '../tests/support/station';
import { fixedSecrets } from '../tests/support/secrets';

const ROWS = Number(process.env.BENCH_ERP_ROWS ?? 2400);
const RUNS = 7;
const erp = await startCapErp({ rowsPerOrg: ROWS });
const auth = `Basic ${Buffer.from(`${erp.users.DD.username}:${erp.users.DD.password}`).toString('base64')}`;
const secrets = { 'erp.DD.username': erp.users.DD.username, 'erp.DD.password': erp.users.DD.password };
const client = new ODataClient({
  baseUrl: erp.url,
  now: Date.now,
  log: silentLogger,
  secrets: fixedSecrets(secrets),
});
const select = ['OrderNo', 'OrderRev', 'Customer', 'OrderStatus', 'ProductionStatus', 'DateScheduled', 'EtaDate', 'Qty'];

async function raw(): Promise<{ rows: number; pages: number }> {
  let url: string | undefined = `${erp.url}/reports/DD/SalesOrders?$select=${select.join(',')}`;
  let rows = 0;
  let pages = 0;
  while (url) {
    const body = (await (await fetch(url, { headers: { authorization: auth } })).json()) as { value: unknown[]; '@odata.nextLink'?: string };
    rows += body.value.length;
    pages++;
    url = body['@odata.nextLink'] ? new URL(body['@odata.nextLink'], url).href : undefined;
  }
  return { rows, pages };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const clientMs: number[] = [];
const rawMs: number[] = [];
let pages = 0;
await raw(); // warm both sides once
await client.query('DD', 'SalesOrders', { select }, ['OrderNo', 'OrderRev']);
for (let i = 0; i < RUNS; i++) {
  // Alternate the order so neither side always runs on a warmer server.
  for (const side of i % 2 ? ['raw', 'client'] : ['client', 'raw']) {
    const t0 = performance.now();
    if (side === 'raw') {
      const r = await raw();
      pages = r.pages;
      if (r.rows !== ROWS) throw new Error(`raw read ${r.rows} rows`);
      rawMs.push(performance.now() - t0);
    } else {
      const rows = await client.query('DD', 'SalesOrders', { select }, ['OrderNo', 'OrderRev']);
      if (rows.length !== ROWS) throw new Error(`client read ${rows.length} rows`);
      clientMs.push(performance.now() - t0);
    }
  }
}

// The station's whole open-orders read (open revisions, then the closed ones of those orders).
const t = await withAdmin({ upstreams: { erp: { url: erp.url } }, syncIntervalMs: 0 });
await t.admin.ok('sync/set-credential', { name: 'erp.DD.username', value: erp.users.DD.username });
await t.admin.ok('sync/set-credential', { name: 'erp.DD.password', value: erp.users.DD.password });
const openMs: number[] = [];
let open = 0;
for (let i = 0; i < RUNS; i++) {
  const t0 = performance.now();
  open = (await t.admin.ok('erp/open-orders', { org: 'DD', refresh: true })).orders.length;
  openMs.push(performance.now() - t0);
}
await t.close();
await erp.close();

const c = median(clientMs);
const r = median(rawMs);
console.log(
  `${ROWS} rows in ${pages} server pages: client ${c.toFixed(0)} ms, bare fetch ${r.toFixed(0)} ms (median of ${RUNS}); open orders (${open}) ${median(openMs).toFixed(0)} ms`,
);
fs.mkdirSync('bench/results', { recursive: true });
fs.appendFileSync(
  'bench/results/erp.jsonl',
  JSON.stringify({
    at: new Date().toISOString(),
    rows: ROWS,
    pages,
    client_ms: +c.toFixed(1),
    raw_ms: +r.toFixed(1),
    open_orders_ms: +median(openMs).toFixed(1),
  }) + '\n',
);
console.log(
  `rows=${ROWS} pages=${pages} client_ms=${c.toFixed(1)} raw_ms=${r.toFixed(1)} ratio=${(c / r).toFixed(2)} open_orders_ms=${median(openMs).toFixed(1)}`,
);
