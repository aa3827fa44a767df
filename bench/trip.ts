/**
 * Executing a 50-stop trip against the BioTrack simulator answering each call after 100 ms: one
 * manifest per stop, each recorded before and after its call. Goal: no duplicate manifest, and
 * the whole execution within 1.2× the simulator's own latency (calls × 100 ms).
 *
 *   npm run bench:trip  → last line: stops=… execute_s=… manifests=… duplicates=… latency_s=… ratio=…
 */
import type { ManifestRequest } from '../src/main/upstreams/biotrack/manifests';
import { startBioTrackSimulator } from '../src/simulators/biotrack';
import { releaseAll } from '../tests/support/cleanup';
import { withAdmin } from '../tests/support/station';
import { connectBioTrack, manifestsPerStop, tripPlan } from '../tests/support/trip-execution';

const STOPS = Number(process.env.BENCH_TRIP_STOPS ?? 50);
const LATENCY_MS = Number(process.env.BENCH_TRIP_LATENCY_MS ?? 100);
const sim = await startBioTrackSimulator({ items: STOPS * 3 });
let plan: ManifestRequest | null = null;
let inCalls = 0;
let last = 0;
const t = await withAdmin({
  upstreams: { biotrack: { url: sim.url, readTimeoutMs: 10_000 } },
  syncIntervalMs: 0,
  trips: {
    loadPlan: () => structuredClone(plan!),
    // Where the time goes: in BioTrack's calls (intent → answered) or in Dockside (the rest).
    probe: (point) => {
      const at = performance.now();
      if (point.endsWith('answered')) inCalls += at - last;
      last = at;
    },
  },
});
await connectBioTrack(t.admin, sim.credentials);
plan = tripPlan(sim, STOPS, { perStop: 2 });
sim.faults.latencyMs = LATENCY_MS;
const callsBefore = sim.calls.length;

const t0 = performance.now();
last = t0;
await t.admin.ok('trips/execute', { tripId: 1 });
await t.station.tripExecutor.settled(1);
const executeS = (performance.now() - t0) / 1000;

const view = t.station.tripExecutor.view(1)!;
if (view.status !== 'completed') throw new Error(`the execution ended ${view.status}: ${view.lastError}`);
const counts = manifestsPerStop(sim, plan);
const calls = sim.calls.length - callsBefore;
const latencyS = (calls * LATENCY_MS) / 1000;
console.log(`in_calls_s=${(inCalls / 1000).toFixed(2)} (from recorded intent to answer)`);
console.log(`calls=${calls} (${sim.calls.slice(callsBefore).filter((c) => c === 'inventory_manifest').length} inventory_manifest)`);
console.log(
  `stops=${STOPS} execute_s=${executeS.toFixed(2)} manifests=${counts.reduce((a, b) => a + b, 0)} duplicates=${counts.filter((c) => c > 1).length} latency_s=${latencyS.toFixed(1)} ratio=${(executeS / latencyS).toFixed(3)}`,
);
await releaseAll();
await sim.close();
