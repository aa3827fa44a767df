import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback BioTrack JSON API ("API 4.0"): every call a POST of {action, …}; errors come back
 * as HTTP 200 {success: 0, error, errorcode}; `success` is sometimes a string; some answers carry
 * stray text before the JSON. Sessions from `login` can be expired on demand.
 */
export interface BioTrackFaults {
  /** A blackout window: every request answers 503 with Retry-After until this time (ms since epoch). */
  unavailableUntil: number;
  unavailable: number;
  latencyMs: number;
  /** Expire every current session: the next call with one gets "Session has expired". */
  expireSessions: boolean;
  /** Put stray header text before the JSON body. */
  strayPrefix: boolean;
  /** Answer success as the strings "1"/"0" instead of numbers. */
  stringSuccess: boolean;
}

const ROOMS = [
  { roomid: '1', name: 'Vault', location: 'OR-1234' },
  { roomid: '2', name: 'Packaging', location: 'OR-1234' },
  { roomid: '3', name: 'Shipping dock', location: 'OR-1234' },
];

function inventory(count: number) {
  return Array.from({ length: count }, (_, i) => ({
    id: `6647${String(100000000000 + i)}`,
    inventorytype: i % 3 === 0 ? 28 : 22,
    productname: ['Blue Dream 1g pre-roll', 'Sour Diesel 3.5g', 'OG Kush cartridge'][i % 3],
    remaining_quantity: String(10 + ((i * 7) % 90)),
    currentroom: ROOMS[i % ROOMS.length].roomid,
    sample_id: `SMP-${8800 + i}`,
  }));
}

function labResult(sampleId: string, i: number) {
  const thca = 18 + (i % 9);
  const thc = +(0.4 + (i % 5) / 10).toFixed(2);
  return {
    sample_id: sampleId,
    result: i % 11 === 0 ? 0 : 1,
    test: [
      { type: 1, moisture: 9.1 },
      { type: 2, Total: +(thca * 0.877 + thc).toFixed(2), THCA: thca, THC: thc, CBDA: +(0.05 * (i % 4)).toFixed(2), CBD: +(0.02 * (i % 3)).toFixed(2) },
      { type: 3, foreign_matter: 0 },
    ],
  };
}

export interface BioTrackSimulator {
  url: string;
  credentials: { license: string; username: string; password: string };
  faults: BioTrackFaults;
  logins: number;
  calls: string[];
  close(): Promise<void>;
}

export async function startBioTrackSimulator(options: { items?: number; port?: number } = {}): Promise<BioTrackSimulator> {
  const credentials = { license: 'OR-1234', username: 'dockside@farm.example', password: 'bt-demo-pass' };
  const faults: BioTrackFaults = { unavailableUntil: 0, unavailable: 0, latencyMs: 0, expireSessions: false, strayPrefix: false, stringSuccess: false };
  const items = inventory(options.items ?? 60);
  const sessions = new Set<string>();
  const manifests = new Map<string, { stops: unknown; voided: boolean }>();
  const sim: BioTrackSimulator = {
    url: '',
    credentials,
    faults,
    logins: 0,
    calls: [],
    close: async () => {},
  };

  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', async () => {
      if (faults.latencyMs) await new Promise((r) => setTimeout(r, faults.latencyMs));
      if (Date.now() < faults.unavailableUntil) return res.writeHead(503, { 'Retry-After': String(Math.ceil((faults.unavailableUntil - Date.now()) / 1000)) }).end('Service Unavailable');
      if (faults.unavailable > 0) {
        faults.unavailable--;
        return res.writeHead(503).end('Service Unavailable');
      }
      const ok = (v: 0 | 1) => (faults.stringSuccess ? String(v) : v);
      const send = (payload: Record<string, unknown>) => {
        const text = JSON.stringify(payload);
        res.writeHead(200, { 'Content-Type': 'text/html' }).end(faults.strayPrefix ? `X-Powered-By: ASP.NET\r\n\r\n${text}` : text);
      };
      let call: Record<string, unknown>;
      try {
        call = JSON.parse(body) as Record<string, unknown>;
      } catch {
        return send({ success: ok(0), error: 'Invalid JSON', errorcode: '1' });
      }
      const action = String(call.action ?? '');
      sim.calls.push(action);
      if (action === 'login') {
        if (call.license_number !== credentials.license || call.username !== credentials.username || call.password !== credentials.password) {
          return send({ success: ok(0), error: 'Invalid login credentials', errorcode: '62' });
        }
        const id = randomUUID();
        sessions.add(id);
        sim.logins++;
        return send({ success: ok(1), sessionid: id, admin: ok(1), time: Math.floor(Date.now() / 1000) });
      }
      if (faults.expireSessions) {
        sessions.clear();
        faults.expireSessions = false;
      }
      if (!sessions.has(String(call.sessionid))) return send({ success: ok(0), error: 'Your session has expired. Please log in again.', errorcode: '63' });
      if (action === 'sync_inventory_room') return send({ success: ok(1), inventory_room: ROOMS });
      if (action === 'sync_inventory') return send({ success: ok(1), inventory: items });
      if (action === 'inventory_qa_check_all') {
        const ids = Array.isArray(call.barcodeid) ? (call.barcodeid as string[]) : [];
        return send({ success: ok(1), data: ids.map((id) => labResult(items.find((x) => x.id === id)?.sample_id ?? 'unknown', items.findIndex((x) => x.id === id))) });
      }
      if (action === 'inventory_manifest') {
        if (!Array.isArray(call.stop_overview) || call.stop_overview.length === 0) return send({ success: ok(0), error: 'A manifest needs at least one stop', errorcode: '21' });
        const id = String(9_000_000 + manifests.size + 1);
        manifests.set(id, { stops: call.stop_overview, voided: false });
        return send({ success: ok(1), manifest_id: id, transactionid: 1000 + manifests.size });
      }
      if (action === 'inventory_manifest_lookup' || action === 'inventory_manifest_void') {
        const m = manifests.get(String(call.manifest_id));
        if (!m) return send({ success: ok(0), error: 'Manifest not found', errorcode: '22' });
        if (action === 'inventory_manifest_void') m.voided = true;
        return send({ success: ok(1), manifest_id: String(call.manifest_id), voided: m.voided ? 1 : 0, stop_overview: m.stops });
      }
      return send({ success: ok(0), error: `Unknown action ${action}`, errorcode: '7' });
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  sim.url = `http://127.0.0.1:${port}/serverjson.asp`;
  sim.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return sim;
}
