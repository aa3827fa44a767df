/**
 * Outbox drain throughput: 10,000 queued records (link_child@1, as scans make them) drained to
 * the bag-tracking simulator on loopback, through the real client (got), drainer and SQLite.
 * The simulator runs in this same process, so its work is counted against the drain too.
 *
 *   npm run bench:sync  → last line: records=… drain_s=… duplicates=…
 */
import fs from 'node:fs';
import { startBagsSimulator } from '../src/simulators/bags-upstream';
import { enqueue } from '../src/main/outbox/enqueue';
import { withAdmin } from '../tests/support/station';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 10_000);
const sim = await startBagsSimulator();
const t = await withAdmin({ upstreams: { bags: { url: sim.url } }, syncIntervalMs: 0 });
const db = t.station.database.db;
t.station.database.sqlite.transaction(() => {
  for (let i = 0; i < RECORDS; i++) {
    enqueue(db, Date.now(), {
      op: 'link_child@1',
      upstream: 'bags',
      payload: {
        child: `C${String(i).padStart(8, '0')}`,
        parent: `SB${String(Math.floor(i / 30)).padStart(5, '0')}`,
        at: Date.now(),
        by: 'dock1',
        station: 'bench',
      },
    });
  }
})();

const t0 = performance.now();
await t.station.sync.drainAll();
const drainS = (performance.now() - t0) / 1000;
const left = (t.station.database.sqlite.prepare("SELECT count(*) n FROM outbox WHERE status <> 'done'").get() as { n: number }).n;
const stats = sim.stats();
await t.close();
await sim.close();
if (left !== 0 || stats.applied !== RECORDS) throw new Error(`not drained: ${left} left, ${stats.applied} applied`);
const twice = [...sim.applied.values()].filter((n) => n > 1).length;

console.log(
  `${RECORDS.toLocaleString()} records in ${stats.requests} batches: ${drainS.toFixed(2)} s (${Math.round(RECORDS / drainS).toLocaleString()} records/s); applied twice: ${twice}; resent and deduped: ${stats.duplicates}`,
);
fs.mkdirSync('bench/results', { recursive: true });
fs.appendFileSync(
  'bench/results/sync.jsonl',
  JSON.stringify({ at: new Date().toISOString(), records: RECORDS, drain_s: +drainS.toFixed(3), duplicates: twice, resent: stats.duplicates }) + '\n',
);
console.log(`records=${RECORDS} drain_s=${drainS.toFixed(3)} duplicates=${twice}`);
