/**
 * Reports → Inventory over 50,000 items with lab data: the station fills its cache from the
 * BioTrack simulator once (sync_inventory, then inventory_qa_check_all in batches), then the
 * report (totals, filters, one page) is timed from that cache through the station's router. The
 * baseline in the same run is reading the cached rows and nothing more: one SELECT of the cache
 * row and JSON.parse of it.
 *
 *   npm run bench:inventory  → last line: items=… report_ms=… filtered_ms=… baseline_ms=… ratio=… fill_s=…
 */
import fs from 'node:fs';
import { startBioTrackSimulator } from '../src/simulators/biotrack';
import { withAdmin } from '../tests/support/station';

const ITEMS = Number(process.env.BENCH_INVENTORY_ITEMS ?? 50_000);
const RUNS = 7;

// The simulator's stock also holds another facility's rows and deleted ones: make enough rows
// that exactly ITEMS are this facility's live items.
const liveAt = (i: number) => i % 10 !== 9 && i % 17 !== 16;
let generated = 0;
for (let live = 0; live < ITEMS; generated++) if (liveAt(generated)) live++;

const sim = await startBioTrackSimulator({ items: generated });
const t = await withAdmin({ upstreams: { biotrack: { url: sim.url, readTimeoutMs: 120_000 } }, syncIntervalMs: 0 });
await t.admin.ok('settings/update', { idleLockMinutes: 240, biotrackLocation: sim.credentials.location });
await t.admin.ok('sync/set-credential', { name: 'biotrack.license', value: sim.credentials.license });
await t.admin.ok('sync/set-credential', { name: 'biotrack.username', value: sim.credentials.username });
await t.admin.ok('sync/set-credential', { name: 'biotrack.password', value: sim.credentials.password });

const fill0 = performance.now();
const filled = await t.admin.ok('biotrack/inventory', { refresh: true });
const fillS = (performance.now() - fill0) / 1000;
const withLab = filled.items.filter((i) => i.labResult !== null).length;
if (filled.items.length !== ITEMS) throw new Error(`cached ${filled.items.length} items, wanted ${ITEMS}`);
const qaCalls = sim.calls.filter((c) => c === 'inventory_qa_check_all').length;
await sim.close(); // from here on, nothing but the cache can answer

const key = `biotrack:inventory:${sim.credentials.location}`;
const select = t.station.database.sqlite.prepare('SELECT value FROM upstream_cache WHERE key = ?');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const reportMs: number[] = [];
const filteredMs: number[] = [];
const baselineMs: number[] = [];
for (let i = 0; i < RUNS; i++) {
  let t0 = performance.now();
  const page = await t.admin.ok('biotrack/inventory-report', {});
  reportMs.push(performance.now() - t0);
  if (!page.fromCache || page.totals.all.items !== ITEMS) throw new Error('the report did not come from the cache');

  t0 = performance.now();
  const filtered = await t.admin.ok('biotrack/inventory-report', { room: '2', search: 'diesel', lab: 'with', offset: 100, limit: 100 });
  filteredMs.push(performance.now() - t0);
  if (filtered.matching.items === 0) throw new Error('the filtered report matched nothing');

  t0 = performance.now();
  const rows = JSON.parse((select.get(key) as { value: string }).value) as unknown[];
  baselineMs.push(performance.now() - t0);
  if (rows.length !== ITEMS) throw new Error('baseline read the wrong rows');
}
await t.close();

const report = median(reportMs);
const filtered = median(filteredMs);
const baseline = median(baselineMs);
console.log(
  `${ITEMS.toLocaleString()} items (${withLab.toLocaleString()} with lab data, ${qaCalls} inventory_qa_check_all calls) cached in ${fillS.toFixed(1)} s; ` +
    `report from cache ${report.toFixed(0)} ms, filtered ${filtered.toFixed(0)} ms, bare SELECT + JSON.parse ${baseline.toFixed(0)} ms (median of ${RUNS}); goal ≤ 1,000 ms`,
);
fs.mkdirSync('bench/results', { recursive: true });
fs.appendFileSync(
  'bench/results/inventory.jsonl',
  JSON.stringify({
    at: new Date().toISOString(),
    items: ITEMS,
    with_lab: withLab,
    report_ms: +report.toFixed(1),
    filtered_ms: +filtered.toFixed(1),
    baseline_ms: +baseline.toFixed(1),
    fill_s: +fillS.toFixed(1),
  }) + '\n',
);
console.log(
  `items=${ITEMS} report_ms=${report.toFixed(1)} filtered_ms=${filtered.toFixed(1)} baseline_ms=${baseline.toFixed(1)} ratio=${(report / baseline).toFixed(2)} fill_s=${fillS.toFixed(1)}`,
);
