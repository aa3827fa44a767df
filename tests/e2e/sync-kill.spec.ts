import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test as base, expect } from '@playwright/test';
import { startBagsSimulator } from '../../src/simulators/bags-upstream';
import { connectWs } from '../support/ws-client';
import { signInOverTransport, StationProcess } from './fixtures';

/**
 * The host process is killed (SIGKILL) while the upstream holds the answer to a batch it has
 * already committed; after a restart every record must have been applied exactly once.
 */
base('every outbox record reaches the upstream exactly once across a SIGKILL mid-drain', async () => {
  base.setTimeout(120_000);
  const sim = await startBagsSimulator();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dockside-sync-kill-'));
  process.env.DOCKSIDE_ADMIN_USERNAME = 'boss';
  process.env.DOCKSIDE_ADMIN_PASSWORD = 'correct horse';
  // A long interval: the first drain happens when we ask for it.
  const host = new StationProcess(dataDir, ['--bags-upstream', sim.url, '--sync-interval-ms', '600000']);
  try {
    await host.start();
    let ws = await connectWs(host.url);
    expect((await signInOverTransport(ws.invoke, host.url, 'boss', 'correct horse')).user?.username).toBe('boss');
    await ws.invoke('settings/update', { scanDebounceMs: 0 });
    await ws.invoke('bags/scan', { code: 'SB00001', source: 'wedge' });
    for (let i = 0; i < 1200; i++) {
      const r = (await ws.invoke('bags/scan', { code: `K-${i}`, source: 'wedge' })) as { ok: boolean; value: { result: string } };
      expect(r.value.result).toBe('linked');
    }
    const records = 1 + 1200 * 2; // bag_created for every bag, link_child for every child

    // The upstream applies the first batch, then sits on the answer; meanwhile the station dies.
    sim.faults.commitThenHangMs = 30_000;
    const committed = sim.nextCommit();
    void ws.invoke('sync/drain-now', {});
    const firstBatch = await committed;
    expect(firstBatch.length).toBe(500);
    await host.kill();
    await ws.close();
    expect(sim.applied.size).toBe(500);

    // Restarted, it drains on its own; the first batch is sent again and only acknowledged.
    const restarted = new StationProcess(dataDir, ['--bags-upstream', sim.url, '--sync-interval-ms', '200']);
    await restarted.start(host.port);
    ws = await connectWs(restarted.url);
    await signInOverTransport(ws.invoke, restarted.url, 'boss', 'correct horse');
    await expect
      .poll(async () => ((await ws.invoke('sync/status', {})) as { value: { queued: number }[] }).value[0].queued, { timeout: 60_000 })
      .toBe(0);
    await ws.close();
    await restarted.kill();

    expect(sim.applied.size).toBe(records);
    expect([...sim.applied.values()].filter((n) => n !== 1)).toEqual([]);
    expect(sim.stats().duplicates).toBeGreaterThanOrEqual(500);
    for (const id of firstBatch) expect(sim.applied.get(id)).toBe(1);
  } finally {
    delete process.env.DOCKSIDE_ADMIN_USERNAME;
    delete process.env.DOCKSIDE_ADMIN_PASSWORD;
    await host.kill();
    await sim.close();
  }
});
