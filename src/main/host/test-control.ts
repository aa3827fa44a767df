import type { IncomingMessage, ServerResponse } from 'node:http';
import Database from 'better-sqlite3';
import { z } from 'zod';
import type { InjectedFailures } from '../ipc/router';
import { isAllowedOrigin } from '../ipc/ws-transport';
import type { Clock } from '../platform/clock';
import type { SimulatedHidBus } from '../scanners/simulated';
import type { TestControlHandler } from './server';
import { keyboardReportsFor } from '../scanners/simulated';

/**
 * Test host only (DOCKSIDE_TEST=1 and --hid-sim): POST /__test/hid drives the simulated USB bus,
 * so e2e tests feed scans in at the device level and they travel the real path
 * (reports → decoder → scanner service → IPC event → renderer → bags/scan).
 */
const command = z.discriminatedUnion('action', [
  z.object({
    action: z.literal('plug'),
    device: z.object({
      path: z.string(),
      vendorId: z.number().int(),
      productId: z.number().int(),
      product: z.string().optional(),
      serialNumber: z.string().optional(),
      usagePage: z.number().int().optional(),
      usage: z.number().int().optional(),
    }),
  }),
  z.object({ action: z.literal('unplug'), path: z.string() }),
  z.object({ action: z.literal('type'), path: z.string(), text: z.string().max(200), end: z.enum(['enter', 'tab', 'none']).optional() }),
]);

/** count 0 ends the channel's pending failures; `as: 'disk_full'` fails them with SQLite's own SQLITE_FULL. */
const failure = z.strictObject({
  channel: z.string().min(1).max(80),
  count: z.number().int().min(0).max(100),
  as: z.enum(['error', 'disk_full']).optional(),
});
const diskFull = () => new Database.SqliteError('database or disk is full', 'SQLITE_FULL');
const advance = z.strictObject({
  ms: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3_600_000)
    .optional(),
  stopped: z.boolean().optional(),
});

/**
 * Test host only: the wall clock plus an offset that POST /__test/clock {ms} moves forward;
 * {stopped: true} stops it, so a test whose outcome depends on elapsed time does not depend on the machine's speed.
 */
export class TestClock implements Clock {
  #offset = 0;
  /** Set while stopped: time then moves only when a test advances it. */
  #stoppedAt: number | null = null;

  now(): number {
    return (this.#stoppedAt ?? Date.now()) + this.#offset;
  }

  advance(ms: number): void {
    this.#offset += ms;
  }

  /** Stops the clock where it is (true) or lets it run on from there (false). */
  stop(stopped: boolean): void {
    if (stopped === (this.#stoppedAt !== null)) return;
    if (stopped) this.#stoppedAt = Date.now();
    else {
      this.#offset += this.#stoppedAt! - Date.now();
      this.#stoppedAt = null;
    }
  }
}

/** The demo ERP simulator's faults: down (every call 503), garbage answers, slow answers. */
const erpFault = z.strictObject({
  down: z.boolean().optional(),
  malformed: z.number().int().min(0).max(1000).optional(),
  latencyMs: z.number().int().min(0).max(120_000).optional(),
});

/** Largest body a test command may have; real ones are a few hundred bytes. */
export const MAX_TEST_BODY_BYTES = 1024 * 1024;

/**
 * Reads a command's JSON body (null when it is not JSON), after the checks the WebSocket upgrade
 * makes too: a web page in the tester's browser may POST here, so only the host's own origin
 * may, and no body may grow main's memory. Answers the refusal itself (403, 413).
 */
function readCommand(req: IncomingMessage, res: ServerResponse, origins: readonly string[], then: (value: unknown) => void): void {
  if (!isAllowedOrigin(req.headers.origin, origins)) {
    res.writeHead(403, { 'Content-Length': '0', Connection: 'close' }).end();
    return;
  }
  const tooLarge = () => res.writeHead(413, { 'Content-Type': 'text/plain', Connection: 'close' }).end('Body too large');
  if (Number(req.headers['content-length'] ?? 0) > MAX_TEST_BODY_BYTES) return void tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    // Past the cap the rest is read and dropped, so the answer waits for the end as usual.
    if (size <= MAX_TEST_BODY_BYTES) chunks.push(c);
    else chunks.length = 0;
  });
  req.on('end', () => {
    if (size > MAX_TEST_BODY_BYTES) return void tooLarge();
    try {
      then(JSON.parse(Buffer.concat(chunks).toString()));
    } catch {
      then(null);
    }
  });
}

/**
 * Test host only (DOCKSIDE_TEST=1): the HID bus when --hid-sim is on, and POST /__test/fail
 * {channel, count}, which makes the next calls of a channel fail inside main as a database error
 * would — so e2e tests prove one failure cannot freeze a screen (with `as: 'disk_full'` they fail
 * as SQLite does on a full disk; count 0 ends them, as freed space does) — and POST /__test/clock {ms},
 * which moves the station's clock forward (idle lock, leases) without waiting and answers its time,
 * and {stopped} stops or restarts it.
 */
export function testControl(opts: {
  bus: SimulatedHidBus | null;
  failures: InjectedFailures;
  clock: TestClock;
  /** The demo's ERP simulator, when it runs: POST /__test/erp switches its faults. */
  erp?: { unavailable: number; malformed: number; latencyMs: number } | null;
}): TestControlHandler {
  const hid = opts.bus ? hidTestControl(opts.bus) : null;
  return (req, res, origins) => {
    if (req.url === '/__test/clock' && req.method === 'POST') {
      readCommand(req, res, origins, (value) => {
        const parsed = advance.safeParse(value);
        if (!parsed.success) return void res.writeHead(400, { 'Content-Type': 'text/plain' }).end(parsed.error.message);
        if (parsed.data.stopped !== undefined) opts.clock.stop(parsed.data.stopped);
        opts.clock.advance(parsed.data.ms ?? 0);
        // The station's time after the move: e2e tests compute an admin's code on it (ms 0 only reads it).
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ ok: true, now: opts.clock.now() }));
      });
      return true;
    }
    if (req.url === '/__test/erp' && req.method === 'POST') {
      readCommand(req, res, origins, (value) => {
        const parsed = erpFault.safeParse(value);
        if (!parsed.success) return void res.writeHead(400, { 'Content-Type': 'text/plain' }).end(parsed.error.message);
        const faults = opts.erp;
        if (!faults)
          return void res.writeHead(409, { 'Content-Type': 'text/plain' }).end('No ERP simulator runs in this host (start it with --demo)');
        const { down, malformed, latencyMs } = parsed.data;
        // Down: a bare 503 to every call (no Retry-After), as a maintenance window answers.
        if (down !== undefined) faults.unavailable = down ? Number.MAX_SAFE_INTEGER : 0;
        if (malformed !== undefined) faults.malformed = malformed;
        if (latencyMs !== undefined) faults.latencyMs = latencyMs;
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
      });
      return true;
    }
    if (req.url === '/__test/fail' && req.method === 'POST') {
      readCommand(req, res, origins, (value) => {
        const parsed = failure.safeParse(value);
        if (!parsed.success) return void res.writeHead(400, { 'Content-Type': 'text/plain' }).end(parsed.error.message);
        const { channel, count, as } = parsed.data;
        if (count === 0) opts.failures.clear(channel);
        else opts.failures.failNext(channel, count, as === 'disk_full' ? diskFull : undefined);
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
      });
      return true;
    }
    return hid ? hid(req, res, origins) : false;
  };
}

export function hidTestControl(bus: SimulatedHidBus): TestControlHandler {
  return (req, res, origins) => {
    if (req.url !== '/__test/hid' || req.method !== 'POST') return false;
    readCommand(req, res, origins, (value) => {
      const parsed = command.safeParse(value);
      if (!parsed.success) {
        res.writeHead(400, { 'Content-Type': 'text/plain' }).end(parsed.error.message);
        return;
      }
      const c = parsed.data;
      let delivered = 0;
      if (c.action === 'plug') bus.plug(c.device);
      else if (c.action === 'unplug') bus.unplug(c.path);
      // Reports a few ms apart, as a scanner sends them.
      else for (const r of keyboardReportsFor(c.text, c.end)) delivered = bus.report(c.path, r);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ ok: true, delivered }));
    });
    return true;
  };
}
