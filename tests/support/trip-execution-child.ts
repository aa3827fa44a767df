/**
 * A station process that executes trip 1 and kills itself (SIGKILL) at one point of the execution,
 * for tests/integration/trip-execution-kill.test.ts.
 * Usage: node --import tsx trip-execution-child.ts DATA_DIR BIOTRACK_URL PLAN_FILE KILL_AT
 * KILL_AT: the index of the point (0 = stop 1's intent recorded, …) at which to stop; -1: never.
 */
import fs from 'node:fs';
import type { ManifestRequest } from '../../src/main/upstreams/biotrack/manifests';
import { BIOTRACK_DEMO } from '../../src/simulators/biotrack';
import { passSecondFactor } from './second-factor';
import { makeStation } from './station';
import { connectBioTrack } from './trip-execution';

const [dataDir, url, planFile, killAt] = process.argv.slice(2);
const plan = JSON.parse(fs.readFileSync(planFile, 'utf8')) as ManifestRequest;
let reached = 0;
const t = await makeStation({
  dataDir,
  upstreams: { biotrack: { url, readTimeoutMs: 5000 } },
  syncIntervalMs: 0,
  trips: {
    loadPlan: () => structuredClone(plan),
    probe: (point) => {
      // A pipe's stdout is written synchronously on Linux: the line is out before the kill.
      console.log(`POINT ${reached} ${point}`);
      if (reached++ === Number(killAt)) process.kill(process.pid, 'SIGKILL');
    },
  },
});
const admin = t.window();
await passSecondFactor(t, admin.raw, await admin.ok('setup/create-admin', { username: 'boss', displayName: 'Boss', password: 'correct horse' }));
await connectBioTrack(admin, BIOTRACK_DEMO);
await admin.ok('trips/execute', { tripId: 1 });
await t.station.tripExecutor.settled(1);
console.log(`DONE ${JSON.stringify(t.station.tripExecutor.view(1))}`);
await t.close();
