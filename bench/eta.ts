/**
 * Reports → ETA for a customer group with 20,000 open orders across both ERP instances (10,000
 * each), served by the OData simulator in pages of 100. Timed through the station's router, as a
 * job, as a person runs it: the report read from the ERP (Force refresh: the open rows page by
 * page, then the revisions of those orders), and the same report again from the station's cache.
 * Each run ends when the job has finished and the first page of rows is in hand.
 *
 *   npm run bench:eta  → last line: orders=… report_s=… cached_report_ms=…
 *   (goals: report_s ≤ 3, cached_report_ms ≤ 300)
 */
import fs from 'node:fs';
import { startErpSimulator, type ErpOrder } from '../src/simulators/odata-erp';
import { waitForJob } from '../tests/support/imports';
import { withAdmin, type TestWindow } from '../tests/support/station';

const ORDERS = Number(process.env.BENCH_ETA_ORDERS ?? 20_000);
const RUNS = 3;
const GROUP = 'Bench Buying Group';

/** Per instance: ORDERS/2 open orders of the group (some with an older closed revision), and other customers' orders. */
function rows(org: 'DD' | 'CBR'): ErpOrder[] {
  const out: ErpOrder[] = [];
  const row = (i: number, rev: number, status: string, group: string): ErpOrder => ({
    OrderNo: `${org}-${String(100000 + i)}`,
    OrderRev: rev,
    Customer: `Store ${i % 40}`,
    CustomerGroup: group,
    Supplier: ['Acme Packaging', 'Harbour Mills', 'Kestrel Labs'][i % 3],
    OrderStatus: status,
    ProductionStatus: ['Cutting', 'Assembly', 'QA', null][i % 4],
    DateScheduled: `2026-12-${String(1 + (i % 28)).padStart(2, '0')}`,
    EtaDate: `2027-01-${String(1 + (i % 28)).padStart(2, '0')}`,
    Qty: (10 + (i % 490)).toFixed(3),
    Descn: `Case ${i}`,
    Notes: '',
    BarcodeNo: `BC${900000 + i}`,
  });
  for (let i = 0; i < ORDERS / 2; i++) {
    if (i % 5 === 0) out.push(row(i, 1, 'Cancelled', GROUP));
    out.push(row(i, i % 5 === 0 ? 2 : 1, 'Work in Progress', GROUP));
  }
  for (let i = ORDERS / 2; i < ORDERS / 2 + 2000; i++) out.push(row(i, 1, 'Scheduled', 'Another Group'));
  return out;
}

const sim = await startErpSimulator({ data: { DD: rows('DD'), CBR: rows('CBR') } });
sim.faults.pageSize = 100;
const t = await withAdmin({ upstreams: { erp: { url: sim.url, readTimeoutMs: 30_000 } }, syncIntervalMs: 0 });
await t.admin.ok('settings/update', { idleLockMinutes: 240 });
for (const org of ['DD', 'CBR'] as const) {
  await t.admin.ok('sync/set-credential', { name: `erp.${org}.username`, value: sim.users[org].username });
  await t.admin.ok('sync/set-credential', { name: `erp.${org}.password`, value: sim.users[org].password });
}
const customer = await t.admin.ok('eta/customer-save', {
  displayName: 'Bench group',
  dd: { name: GROUP, kind: 'group' },
  cbr: { name: GROUP, kind: 'group' },
});

/** One report as the screen runs it: start, wait for the job, read the first page. */
async function report(w: TestWindow, refresh: boolean): Promise<{ ms: number; orders: number; fromCache: boolean[] }> {
  const t0 = performance.now();
  const started = await w.ok('eta/run', { customerId: customer.id, refresh });
  const job = await waitForJob(w, started.job.id, 120_000);
  if (job.status !== 'succeeded') throw new Error(`report ${job.status}: ${job.error}`);
  const page = await w.ok('eta/report-view', { jobId: job.id, limit: 50, sort: { column: 'etaDate', direction: 'asc' } });
  const ms = performance.now() - t0;
  return { ms, orders: page.total, fromCache: page.summary.sources.map((s) => s.fromCache) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fresh: number[] = [];
const cached: number[] = [];
let orders = 0;
let requests = 0;
for (let i = 0; i < RUNS; i++) {
  const before = sim.requests.length;
  const f = await report(t.admin, true);
  requests = sim.requests.length - before;
  if (f.fromCache.some(Boolean)) throw new Error('the refreshed report came from the cache');
  fresh.push(f.ms);
  orders = f.orders;
  const c = await report(t.admin, false);
  if (!c.fromCache.every(Boolean)) throw new Error('the second report did not come from the cache');
  if (sim.requests.length - before !== requests) throw new Error('the cached report asked the ERP');
  cached.push(c.ms);
}
if (orders !== ORDERS) throw new Error(`the report has ${orders} orders, wanted ${ORDERS}`);
await t.close();
await sim.close();

const reportS = median(fresh) / 1000;
const cachedMs = median(cached);
console.log(
  `${orders} open orders of one customer group across DD and CBR, ${requests} ERP requests (pages of 100): report ${reportS.toFixed(2)} s, from the cache ${cachedMs.toFixed(0)} ms (median of ${RUNS})`,
);
fs.mkdirSync('bench/results', { recursive: true });
fs.appendFileSync(
  'bench/results/eta.jsonl',
  JSON.stringify({ at: new Date().toISOString(), orders, requests, report_s: +reportS.toFixed(3), cached_report_ms: +cachedMs.toFixed(1) }) + '\n',
);
console.log(`orders=${orders} report_s=${reportS.toFixed(2)} cached_report_ms=${cachedMs.toFixed(0)}`);
