import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
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

export function hidTestControl(bus: SimulatedHidBus) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.url !== '/__test/hid' || req.method !== 'POST') return false;
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const parsed = command.safeParse((() => { try { return JSON.parse(body); } catch { return null; } })());
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
