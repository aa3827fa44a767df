/**
 * The cost of a call: the same call made to the router in this process (validation, session and
 * role checks, the handler; no IPC at all — Electron's ipcMain would add its own hop on top) and
 * through the browser host's WebSocket, in one run so the ratio is comparable across machines.
 *
 *   npm run bench:ipc  → last line: router_in_process_p50_us=… router_in_process_p99_us=… ws_p50_us=… ws_p99_us=… ws_ratio=…
 */
import fs from 'node:fs';
import type { SessionInfo } from '../src/shared/contract';
import path from 'node:path';
import { silentLogger } from '../src/main/platform/logger';
import { startBrowserHost } from '../src/main/host/server';
import { tempDir, withAdmin } from '../tests/support/station';
import { passSecondFactor } from '../tests/support/second-factor';
import { connectWs } from '../tests/support/ws-client';

const N = Number(process.env.BENCH_N ?? 20_000);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(label: string, fn: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < 1000; i++) await fn(); // warm-up
  const samples = new Array<number>(N);
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    await fn();
    samples[i] = (performance.now() - t0) * 1000;
  }
  samples.sort((a, b) => a - b);
  const r = { p50: percentile(samples, 50), p99: percentile(samples, 99) };
  console.log(`${label.padEnd(32)} p50 ${r.p50.toFixed(1)} µs   p99 ${r.p99.toFixed(1)} µs   (${N} calls)`);
  return r;
}

const t = await withAdmin();
const host = await startBrowserHost({ station: t.station, rendererDir: tempDir(), port: 0, logger: silentLogger });
const ws = await connectWs(host.url);
const login = await ws.invoke('auth/login', { username: 'boss', secret: 'correct horse' });
if (!login.ok) throw new Error(login.error.message);
await passSecondFactor(t, ws.invoke, login.value as SessionInfo);

// settings/get: signed-in access check, role lookup, zod parse, one SQLite read.
const inProcess = await measure('router in process settings/get', () => t.admin.call('settings/get', {}));
const overWs = await measure('websocket settings/get', () => ws.invoke('settings/get', {}));

await ws.close();
await host.close();
await t.close();

const result = {
  at: new Date().toISOString(),
  router_in_process_p50_us: +inProcess.p50.toFixed(1),
  router_in_process_p99_us: +inProcess.p99.toFixed(1),
  ws_p50_us: +overWs.p50.toFixed(1),
  ws_p99_us: +overWs.p99.toFixed(1),
  ws_ratio: +(overWs.p50 / inProcess.p50).toFixed(2),
};
fs.mkdirSync('bench/results', { recursive: true });
fs.appendFileSync(path.join('bench/results', 'ipc.jsonl'), JSON.stringify(result) + '\n');
console.log(
  Object.entries(result)
    .filter(([k]) => k !== 'at')
    .map(([k, v]) => `${k}=${v}`)
    .join(' '),
);
