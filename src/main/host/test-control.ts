import type { IncomingMessage, ServerResponse } from 'node:http';
import Database from 'better-sqlite3';
import { z } from 'zod';
import type { InjectedFailures } from '../ipc/router';
import type { Clock } from '../platform/clock';
import type { SimulatedHidBus } from '../scanners/simulated';
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
    .max(7 * 24 * 3_600_000),
});

/** Test host only: the wall clock plus an offset that POST /__test/clock moves forward. */
export class TestClock implements Clock {
  #offset = 0;

  now(): number {
    return Date.now() + this.#offset;
  }

  advance(ms: number): void {
    this.#offset += ms;
  }
}

function readJson(req: IncomingMessage, then: (value: unknown) => void): void {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    try {
      then(JSON.parse(body));
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
 * which moves the station's clock forward (idle lock, leases) without waiting and answers its time.
 */
export function testControl(opts: { bus: SimulatedHidBus | null; failures: InjectedFailures; clock: TestClock }) {
  const hid = opts.bus ? hidTestControl(opts.bus) : null;
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.url === '/__test/clock' && req.method === 'POST') {
      readJson(req, (value) => {
        const parsed = advance.safeParse(value);
        if (!parsed.success) return void res.writeHead(400, { 'Content-Type': 'text/plain' }).end(parsed.error.message);
        opts.clock.advance(parsed.data.ms);
        // The station's time after the move: e2e tests compute an admin's code on it (ms 0 only reads it).
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ ok: true, now: opts.clock.now() }));
      });
      return true;
    }
    if (req.url === '/__test/fail' && req.method === 'POST') {
      readJson(req, (value) => {
        const parsed = failure.safeParse(value);
        if (!parsed.success) return void res.writeHead(400, { 'Content-Type': 'text/plain' }).end(parsed.error.message);
        const { channel, count, as } = parsed.data;
        if (count === 0) opts.failures.clear(channel);
        else opts.failures.failNext(channel, count, as === 'disk_full' ? diskFull : undefined);
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
      });
      return true;
    }
    return hid ? hid(req, res) : false;
  };
}

export function hidTestControl(bus: SimulatedHidBus) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.url !== '/__test/hid' || req.method !== 'POST') return false;
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const parsed = command.safeParse(
        (() => {
          try {
            return JSON.parse(body);
          } catch {
            return null;
          }
        })(),
      );
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
