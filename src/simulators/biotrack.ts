import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback BioTrack 2014 JSON API ("API 4.0"), answering in the shapes of the real API's
 * recorded answers (as mirrored by the public openthc/bunk mock):
 * - every call a POST of {API: "4.0", action, …}; no body or bad JSON → HTTP 400, a missing or
 *   wrong API version → HTTP 400 errorcode 17, no action → HTTP 400 errorcode 62, an action it does
 *   not handle (inventory_manifest_lookup is one: the 2014 API has none) → HTTP 500 errorcode 999;
 * - refusals otherwise come as HTTP 200 {success: 0, error, errorcode}; a refused company id has
 *   no `error`, only `_detail`; a wrong password has no errorcode; an expired session is code 63;
 * - `license_number` is the company's 9-digit UBI, `location` a facility's 6-digit licence;
 *   inventory rows carry `location`, `deleted`, `strain`, often a null `productname` and
 *   `currentroom`, numbers as strings, and no `sample_id`;
 * - inventory_qa_check_all answers one entry per asked id, matched by `barcode_id`, with the lab
 *   sample's own `sample_id` and `parent_id`, values as strings — and `false` (plus a PHP warning
 *   in the body) for ids without results;
 * - inventory_qa_check answers one lab sample (`sample_id`) as `data`, or refuses with 602: "There
 *   were no samples found for the specified identifer." / "Test results have not yet been filed.";
 * - inventory_manifest answers the new manifest id as `barcode_id` (16-digit string), refuses bad
 *   departure times with code 268 and items already on an open manifest with 602;
 * - sync_manifest answers three flat lists joined on manifestid and stopnumber.
 */
export interface BioTrackFaults {
  /** A blackout window: every request answers 503 with Retry-After until this time (ms since epoch). */
  unavailableUntil: number;
  unavailable: number;
  latencyMs: number;
  /** Expire every current session: the next call with one gets "Your session has expired." */
  expireSessions: boolean;
  /** Put PHP notices (with brackets in them) before the JSON body. */
  strayPrefix: boolean;
  /** Put a PHP notice after the JSON body. */
  trailingNotice: boolean;
  /** Answer success as the strings "1"/"0" instead of numbers. */
  stringSuccess: boolean;
  /** Create the next manifest(s) but drop the connection instead of answering (a lost answer). */
  dropManifestAnswers: number;
  /** The nth inventory_manifest call from now (1 = the next) fails with an HTTP 500 PHP error page and creates nothing; 0: none. */
  failManifestCall: number;
  /** The nth inventory_manifest call from now creates the manifest, then its answer is lost; 0: none. */
  dropManifestCall: number;
  /** Hours a departure must lie ahead (some states ask 24); 0: only "not in the past". */
  minLeadHours: number;
  /**
   * While set, each inventory_manifest call creates its manifest and then waits for this before
   * answering: a test holds a step open (to leave the screen, or to kill the station mid-call).
   */
  manifestGate: Promise<void> | null;
}

export const BIOTRACK_DEMO = {
  /** The company's UBI: BioTrack's `license_number`. */
  license: '999000100',
  /** This facility's licence: BioTrack's `location`. */
  location: '990010',
  /** Another facility of the same company: its rows must not show at this one. */
  otherLocation: '990020',
  username: 'dockside@farm.example',
  password: 'bt-demo-pass',
};

const ROOMS = [
  {
    roomid: '1',
    name: 'Vault',
    location: BIOTRACK_DEMO.location,
    deleted: '0',
    quarantine: '0',
    transactionid: '4032',
    transactionid_original: '4032',
  },
  {
    roomid: '2',
    name: 'Packaging',
    location: BIOTRACK_DEMO.location,
    deleted: '0',
    quarantine: '0',
    transactionid: '4033',
    transactionid_original: '4033',
  },
  {
    roomid: '3',
    name: 'Shipping dock',
    location: BIOTRACK_DEMO.location,
    deleted: '0',
    quarantine: '0',
    transactionid: '4034',
    transactionid_original: '4034',
  },
  // Room ids are per facility: room 1 of the other facility is not our Vault.
  {
    roomid: '1',
    name: 'Quarantine',
    location: BIOTRACK_DEMO.otherLocation,
    deleted: '0',
    quarantine: '1',
    transactionid: '4035',
    transactionid_original: '4035',
  },
];

export interface SimInventory {
  id: string;
  location: string;
  deleted: string | number;
  inventorytype: string | number;
  productname: string | null;
  strain: string;
  remaining_quantity: string;
  currentroom: string | null;
  transactionid: number;
  transactionid_original: number;
  usable_weight: string;
  wet: number | string;
  sessiontime: number;
}

export interface SimLab {
  barcode_id: string;
  parent_id: string;
  sample_id: string;
  lab_license: string;
  inventorytype: number;
  result: number;
  use: number;
  transactionid: number;
  transactionid_original: number;
  test: Record<string, string | number>[];
}

/** Demo stock: mostly this facility's, some of another facility, some deleted. */
export function bioTrackInventory(count: number): SimInventory[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `2026${String(100000000000 + i)}`,
    location: i % 10 === 9 ? BIOTRACK_DEMO.otherLocation : BIOTRACK_DEMO.location,
    deleted: i % 17 === 16 ? '1' : i % 2 ? 0 : '0',
    inventorytype: i % 3 === 0 ? 28 : '22',
    productname: i % 4 === 0 ? null : ['Blue Dream 1g pre-roll', 'Sour Diesel 3.5g', 'OG Kush cartridge'][i % 3],
    strain: ['Blue Dream', 'Sour Diesel', 'OG Kush', "Ol' Mendo Hashplant"][i % 4],
    remaining_quantity: (10 + ((i * 7) % 90)).toFixed(2),
    currentroom: i % 6 === 5 ? null : ROOMS[i % 3].roomid,
    transactionid: 63_700_000 + i,
    transactionid_original: 63_700_000 + i,
    usable_weight: (1 + (i % 5)).toFixed(2),
    wet: 0,
    sessiontime: 1_700_000_000,
  }));
}

/** Lab results for most items: the sample has ids of its own; values are strings. */
export function bioTrackLabs(items: SimInventory[]): Map<string, SimLab> {
  const labs = new Map<string, SimLab>();
  items.forEach((item, i) => {
    if (i % 7 === 3) return; // not tested yet: `false` in qa_check_all
    const thc = (14 + (i % 9) + (i % 4) / 8).toFixed(3);
    labs.set(item.id, {
      barcode_id: item.id,
      parent_id: `2025${String(500000000000 + i)}`,
      sample_id: `2025${String(700000000000 + i)}`,
      lab_license: '999977',
      inventorytype: 13,
      result: i % 11 === 0 ? 0 : i % 13 === 0 ? -1 : 1,
      use: 1,
      transactionid: 75_900_000 + i,
      transactionid_original: 75_300_000 + i,
      test: [
        { type: 1, moisture: '9.2' },
        {
          type: 2,
          Total: (Number(thc) + 0.4).toFixed(1),
          THCA: (i % 3 === 0 ? 0 : 0.2 * (i % 5)).toFixed(1),
          CBDA: '0',
          THC: thc,
          CBD: (0.02 * (i % 3)).toFixed(2),
        },
        { type: 3, Stems: '0', Other: '0' },
        { type: 4, aerobic_bacteria: '0', yeast_and_mold: '0', coliforms: '0', bile_tolerant: '0', e_coli_and_salmonella: '0' },
        { type: 6, total_mycotoxins: '0' },
      ],
    });
  });
  return labs;
}

export interface SimManifest {
  manifestid: string;
  location: string;
  employee_id: string;
  vehicle_id: string;
  deleted: number;
  fulfilled: number;
  transactionid: number;
  stops: {
    stop_number: number;
    vendor_license: string;
    approximate_departure: number;
    approximate_arrival: number;
    approximate_route: string;
    barcodeid: string[];
  }[];
}

export interface BioTrackSimulator {
  url: string;
  credentials: { license: string; location: string; username: string; password: string };
  faults: BioTrackFaults;
  logins: number;
  calls: string[];
  /** Every request body as received. */
  bodies: Record<string, unknown>[];
  inventory: SimInventory[];
  manifests: Map<string, SimManifest>;
  /** Every manifest ever created (voided ones too) that carries any of these items: a stop's manifests. */
  manifestsFor(barcodes: string[]): SimManifest[];
  close(): Promise<void>;
}

const PHP_WARNING = (what: string) =>
  `<br />\n<b>Warning</b>:  include_once(/srv/bunk/lib/BioTrack/inventory/qa_check-${what}.php): Failed to open stream: No such file or directory in <b>/srv/bunk/lib/BioTrack2014/inventory/qa_check_all.php</b> on line <b>38</b><br />\n`;
const PHP_NOTICE_WITH_BRACKETS =
  '<br />\n<b>Notice</b>:  Array to string conversion in <b>/srv/bunk/lib/BioTrack2014/main.php</b> on line <b>91</b> [json] {closure}<br />\n';

export async function startBioTrackSimulator(options: { items?: number; port?: number } = {}): Promise<BioTrackSimulator> {
  const credentials = { ...BIOTRACK_DEMO };
  const faults: BioTrackFaults = {
    unavailableUntil: 0,
    unavailable: 0,
    latencyMs: 0,
    expireSessions: false,
    strayPrefix: false,
    trailingNotice: false,
    stringSuccess: false,
    dropManifestAnswers: 0,
    failManifestCall: 0,
    dropManifestCall: 0,
    minLeadHours: 0,
    manifestGate: null,
  };
  const items = bioTrackInventory(options.items ?? 60);
  const labs = bioTrackLabs(items);
  const samples = new Map([...labs.values()].map((l) => [l.sample_id, l]));
  const sessions = new Set<string>();
  const manifests = new Map<string, SimManifest>();
  let transaction = 80_000_000;
  const sim: BioTrackSimulator = {
    url: '',
    credentials,
    faults,
    logins: 0,
    calls: [],
    bodies: [],
    inventory: items,
    manifests,
    manifestsFor: (barcodes) => [...manifests.values()].filter((m) => m.stops.some((st) => st.barcodeid.some((b) => barcodes.includes(b)))),
    close: async () => {},
  };

  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    // The answer is async (latency faults); a throw inside is a 500, never an unhandled rejection.
    req.on('end', () => {
      void (async () => {
        if (faults.latencyMs) await new Promise((r) => setTimeout(r, faults.latencyMs));
        if (Date.now() < faults.unavailableUntil)
          return res.writeHead(503, { 'Retry-After': String(Math.ceil((faults.unavailableUntil - Date.now()) / 1000)) }).end('Service Unavailable');
        if (faults.unavailable > 0) {
          faults.unavailable--;
          return res.writeHead(503).end('Service Unavailable');
        }
        const ok = (v: 0 | 1) => (faults.stringSuccess ? String(v) : v);
        let prefix = faults.strayPrefix ? PHP_NOTICE_WITH_BRACKETS : '';
        const send = (payload: Record<string, unknown>, status = 200) => {
          const text = JSON.stringify(payload, null, 4);
          res
            .writeHead(status, { 'Content-Type': 'application/json;charset=utf-8' })
            .end(`${prefix}${text}${faults.trailingNotice ? PHP_NOTICE_WITH_BRACKETS : ''}`);
        };
        const refuse = (error: string, errorcode?: number | string) =>
          send({ success: ok(0), error, ...(errorcode === undefined ? {} : { errorcode }) });

        if (req.method !== 'POST') return send({ success: 0, meta: { note: 'There was no JSON input [OBM-034]' } }, 400);
        if (!body.trim()) return send({ success: 0, meta: { note: 'There was no JSON input [OBM-034]' } }, 400);
        let call: Record<string, unknown>;
        try {
          call = JSON.parse(body) as Record<string, unknown>;
          if (typeof call !== 'object' || call === null || Array.isArray(call)) throw new Error('not an object');
        } catch {
          return send({ success: 0, meta: { note: 'Error Decoding Input [OBM-041]' } }, 400);
        }
        sim.bodies.push(call);
        if (call.API !== '4.0') return send({ success: 0, error: 'Invalid API Version', errorcode: 17 }, 400);
        if (typeof call.action !== 'string' || call.action === '') return send({ success: 0, error: 'Invalid Action', errorcode: 62 }, 400);
        if (!/^\w+$/.test(call.action)) return send({ success: 0, meta: { note: 'Invalid "action" parameter' } }, 400);
        const action = call.action;
        sim.calls.push(action);

        if (action === 'login') {
          if (!call.license_number) return send({ success: ok(0), error: 'Company identifier not provided (license_number) [LBL-012]' });
          if (call.license_number !== credentials.license)
            return send({ success: ok(0), _detail: 'Invalid Company Identifier, only Test IDs allowed [LBL-040]' });
          if (call.username !== credentials.username || call.password !== credentials.password)
            return send({ success: ok(0), error: 'Invalid username or password.' });
          const id = randomUUID().replace(/-/g, '');
          sessions.add(id);
          sim.logins++;
          return send({ success: ok(1), admin: ok(1), sessionid: id, time: Math.floor(Date.now() / 1000) });
        }
        if (faults.expireSessions) {
          sessions.clear();
          faults.expireSessions = false;
        }
        if (!sessions.has(String(call.sessionid))) return refuse('Your session has expired.', 63);
        const sessiontime = Math.floor(Date.now() / 1000);

        switch (action) {
          case 'sync_inventory_room':
            return send({ success: ok(1), inventory_room: ROOMS });
          case 'sync_inventory':
            return send({ success: ok(1), inventory: items });
          case 'inventory_qa_check_all': {
            if (!Array.isArray(call.barcodeid) || call.barcodeid.length === 0) return refuse('Please specify at least one identifier.', 602);
            const data = (call.barcodeid as unknown[]).map((id) => labs.get(String(id)) ?? false);
            const missing = (call.barcodeid as unknown[]).filter((id) => !labs.has(String(id)));
            prefix += missing.map((id) => PHP_WARNING(String(id))).join('');
            return send({ success: ok(1), data });
          }
          case 'inventory_qa_check': {
            const sample = typeof call.sample_id === 'string' || typeof call.sample_id === 'number' ? String(call.sample_id) : '';
            if (!sample) return refuse('Please specify at least one identifier.', 602);
            const lab = samples.get(sample);
            // bunk's words, spelling included.
            if (!lab) return refuse('There were no samples found for the specified identifer.', 602);
            if (lab.result === 0 || lab.test.length === 0) return refuse('Test results have not yet been filed.', 602);
            return send({ success: ok(1), data: lab });
          }
          case 'inventory_manifest': {
            const failNow = faults.failManifestCall > 0 && --faults.failManifestCall === 0;
            const dropNow = faults.dropManifestCall > 0 && --faults.dropManifestCall === 0;
            // A PHP fatal error: no JSON, nothing created.
            if (failNow) return res.writeHead(500, { 'Content-Type': 'text/html' }).end('<b>Fatal error</b>:  Maximum execution time exceeded');
            const stops = call.stop_overview;
            if (!Array.isArray(stops) || stops.length === 0) return refuse('Please specify at least one item to transfer.', 602);
            if (typeof call.location !== 'string' || !/^\d{6}$/.test(call.location)) return refuse('Invalid location.', 62);
            const parsed: SimManifest['stops'] = [];
            for (const [n, raw] of stops.entries()) {
              const s = raw as Record<string, unknown>;
              const number = Number(s.stop_number ?? n + 1);
              const departure = Number(s.approximate_departure);
              const arrival = Number(s.approximate_arrival);
              if (!Number.isInteger(departure) || departure <= sessiontime + faults.minLeadHours * 3600) {
                return refuse(
                  `The departure time for stop number ${number} is less than ${faults.minLeadHours || 0} hours from the current time and will need to be corrected.`,
                  268,
                );
              }
              if (!Number.isInteger(arrival) || arrival <= departure)
                return refuse(`The arrival time for stop number ${number} must be after its departure time.`, 268);
              if (typeof s.approximate_route !== 'string' || !s.approximate_route.trim())
                return refuse(`Please provide a route for stop number ${number}.`, 268);
              const ids = Array.isArray(s.barcodeid) ? (s.barcodeid as unknown[]).map(String) : [];
              if (ids.length === 0) return refuse('Please specify at least one item to transfer.', 602);
              for (const id of ids) {
                if (!items.some((x) => x.id === id && String(x.location) === call.location))
                  return refuse(`Barcode ${id} was not found at this location.`, 602);
                for (const m of manifests.values()) {
                  if (!m.deleted && !m.fulfilled && m.stops.some((st) => st.barcodeid.includes(id))) {
                    return refuse(
                      `Barcode ${id} has already been scheduled for transfer in a previous manifest that has not been completed yet.`,
                      602,
                    );
                  }
                }
              }
              parsed.push({
                stop_number: number,
                vendor_license: String(s.vendor_license ?? ''),
                approximate_departure: departure,
                approximate_arrival: arrival,
                approximate_route: s.approximate_route,
                barcodeid: ids,
              });
            }
            const id = `7288${String(100000000000 + manifests.size + 1)}`;
            manifests.set(id, {
              manifestid: id,
              location: call.location,
              employee_id: String(call.employee_id ?? ''),
              vehicle_id: String(call.vehicle_id ?? ''),
              deleted: 0,
              fulfilled: 0,
              transactionid: ++transaction,
              stops: parsed,
            });
            if (dropNow || faults.dropManifestAnswers > 0) {
              if (!dropNow) faults.dropManifestAnswers--;
              return req.socket.destroy(); // created, but the answer is lost
            }
            if (faults.manifestGate) await faults.manifestGate;
            return send({ sessiontime, barcode_id: id, success: ok(1), transactionid: transaction });
          }
          case 'inventory_manifest_void': {
            const m = manifests.get(String(call.manifest_id ?? ''));
            if (!m || m.deleted) return refuse('Manifest not found.', 602);
            m.deleted = 1;
            return send({ success: ok(1), transactionid: ++transaction, sessiontime });
          }
          case 'sync_manifest': {
            const list = [...manifests.values()];
            return send({
              success: ok(1),
              manifest: list.map((m) => ({
                manifestid: m.manifestid,
                location: m.location,
                deleted: String(m.deleted),
                fulfilled: String(m.fulfilled),
                stopcount: String(m.stops.length),
                total_item_count: String(m.stops.reduce((n, s) => n + s.barcodeid.length, 0)),
                transporter_id: m.employee_id,
                transporter_vehicle_identification: m.vehicle_id,
                transactionid: String(m.transactionid),
                transactionid_original: String(m.transactionid),
                sessiontime,
              })),
              manifest_stop_data: list.flatMap((m) =>
                m.stops.map((s) => ({
                  manifestid: m.manifestid,
                  stopnumber: String(s.stop_number),
                  license_number: s.vendor_license,
                  depart_time: String(s.approximate_departure),
                  arrive_time: String(s.approximate_arrival),
                  travel_route: s.approximate_route,
                  item_count: s.barcodeid.length,
                  location: m.location,
                  deleted: 0,
                  transactionid: m.transactionid,
                  sessiontime,
                })),
              ),
              manifest_stop_items: list.flatMap((m) =>
                m.stops.flatMap((s) =>
                  s.barcodeid.map((inventoryid) => ({
                    manifestid: m.manifestid,
                    stopnumber: String(s.stop_number),
                    inventoryid,
                    quantity: items.find((x) => x.id === inventoryid)?.remaining_quantity ?? '1',
                    description: items.find((x) => x.id === inventoryid)?.productname ?? null,
                    location: m.location,
                    deleted: 0,
                    transactionid: m.transactionid,
                    sessiontime,
                  })),
                ),
              ),
            });
          }
          default:
            // The 2014 API has no handler for it (inventory_manifest_lookup among them).
            return send({ success: 0, error: 'Unhandled Request', errorcode: 999 }, 500);
        }
      })().catch(() => res.writeHead(500).end());
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
