import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startBioTrackSimulator } from '../../src/simulators/biotrack';
import { onRelease, releaseAll } from '../support/cleanup';
import { runScript } from '../support/script';
import { makeStation, tempDir } from '../support/station';
import { manifestsPerStop, tripPlan } from '../support/trip-execution';

const CHILD = fileURLToPath(new URL('../support/trip-execution-child.ts', import.meta.url));
/** 3 stops × (intent recorded, answered, id recorded), then completed. */
const POINTS = 10;
afterEach(releaseAll);

describe('a trip execution killed at each step', () => {
  it('resumes by itself after a restart and leaves exactly one manifest per stop, whichever step it was killed at', async () => {
    const table: string[] = ['step | killed at | resumed? | manifests per stop | status'];
    for (let k = 0; k < POINTS; k++) {
      const sim = await startBioTrackSimulator();
      onRelease(() => sim.close());
      const dataDir = tempDir();
      const plan = tripPlan(sim, 3);
      const planFile = path.join(dataDir, '..', `${path.basename(dataDir)}-plan.json`);
      fs.writeFileSync(planFile, JSON.stringify(plan));
      onRelease(() => fs.rmSync(planFile, { force: true }));

      const child = runScript(CHILD, [dataDir, sim.url, planFile, String(k)]);
      await child.closed;
      const killedAt = child.lines
        .filter((l) => l.startsWith('POINT '))
        .at(-1)!
        .replace(/^POINT \d+ /, '');
      expect(child.lines.some((l) => l.startsWith('DONE'))).toBe(false); // it died at point k

      // The restart: same data folder, nobody presses anything.
      const t = await makeStation({
        dataDir,
        upstreams: { biotrack: { url: sim.url, readTimeoutMs: 5000 } },
        syncIntervalMs: 0,
        trips: { loadPlan: () => structuredClone(plan) },
      });
      const open = t.station.database.sqlite.prepare('SELECT status FROM trip_executions WHERE trip_id = 1').pluck().get();
      const resumed = open === 'pending' || open === 'processing';
      await t.station.tripExecutor.settled(1);
      const view = t.station.tripExecutor.view(1)!;
      const counts = manifestsPerStop(sim, plan);
      table.push(`${k} | ${killedAt} | ${resumed ? 'yes' : 'no (had ended)'} | ${counts.join(' ')} | ${view.status}`);
      expect(view.status).toBe('completed');
      expect(counts).toEqual([1, 1, 1]);
      expect(view.stops.map((s) => s.manifestId)).toEqual(plan.stops.map((s) => sim.manifestsFor(s.barcodes)[0].manifestid));
      expect(resumed).toBe(k < POINTS - 1);
      await t.close();
    }
    console.log(table.join('\n'));
  }, 600_000);
});
