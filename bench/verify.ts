/**
 * Stock verification at the hub: 20 simulated counters (each its own enrolled station and token,
 * its own racks) on one hub process (BENCH_HUBS=2: two, side by side) (`src/hub/main.ts`, as `npm run hub` runs it) on a real
 * PostgreSQL seeded with what a site has after months: 2,000 racks, a year of lease history,
 * 500,000 verification records with 1,000,000 serials. Each counter claims a rack, renews its lease
 * every second (the heartbeat) while it syncs batches of 100 records (2 serials each) through
 * POST /v1/verify/records, one every BENCH_PAUSE_MS after the last answer, releases it and takes the next. Latencies are measured at the client
 * (HTTP on loopback included).
 *
 * lost = records answered ok but not in PostgreSQL afterwards, plus records sent and never answered.
 *
 *   npm run bench:verify → last line: counters=… claim_p99_ms=… heartbeat_p99_ms=… batch100_p99_ms=… lost=…
 *   (BENCH_COUNTERS, BENCH_RACKS per counter, BENCH_BATCHES per rack, BENCH_PAUSE_MS, BENCH_RECORDS seeded)
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { VERIFY_BATCH_MAX, type VerifyBatchResponse } from '../src/shared/hub';
import { releaseAll } from '../tests/support/cleanup';
import { enrolStation, startHubDatabase, startHubProcess } from '../tests/support/hub';

const COUNTERS = Number(process.env.BENCH_COUNTERS ?? 20);
const RACKS_EACH = Number(process.env.BENCH_RACKS ?? 5);
const BATCHES_PER_RACK = Number(process.env.BENCH_BATCHES ?? 6);
/** A counter scans between syncs: its next batch follows this long after the last answer. */
const PAUSE_MS = Number(process.env.BENCH_PAUSE_MS ?? 400);
const SEED_RECORDS = Number(process.env.BENCH_RECORDS ?? 500_000);
const SEED_RACKS = 2_000;
const FLOORS = ['Ground', 'First', 'Second', 'Third'];
/** Hub processes side by side on the one PostgreSQL; counter i talks to hub i mod HUBS. */
const HUBS = Number(process.env.BENCH_HUBS ?? 1);

const { postgres, admin } = await startHubDatabase({ migrated: true });
const hubs = await Promise.all(Array.from({ length: HUBS }, () => startHubProcess(postgres.url)));
console.log(`hubs at ${hubs.map((h) => h.url).join(', ')}, PostgreSQL at ${postgres.url}`);

// Stations: two that made the history, then one a counter.
const history = await Promise.all(['History 1', 'History 2'].map((name) => enrolStation(admin, hubs[0].url, name)));
const counters: Awaited<ReturnType<typeof enrolStation>>[] = [];
for (let i = 0; i < COUNTERS; i++) counters.push(await enrolStation(admin, hubs[i % HUBS].url, `Counter ${i + 1}`));
void history;

// Seed, set-based: what months of verification leave behind.
const t0 = performance.now();
await admin.query(
  `INSERT INTO racks (floor, rack_id, name, active, updated_at, station_id, user_name, op_id)
   SELECT (ARRAY['Ground','First','Second','Third'])[1 + n % 4], 'R' || lpad((n / 4)::text, 4, '0'), 'Rack ' || n, true,
     (extract(epoch FROM now()) * 1000)::bigint - n * 1000, 1 + n % 2, 'admin', 'seed-rack-' || n
   FROM generate_series(0, $1 - 1) AS n`,
  [SEED_RACKS],
);
// A year of claims: 2,000 racks × 60 sessions, each 30 minutes, ended one of three ways.
await admin.query(
  `INSERT INTO lease_history (lease_id, resource, holder_user, station_id, claimed_at, ended_at, ended_how)
   SELECT gen_random_uuid(), 'rack:' || (ARRAY['Ground','First','Second','Third'])[1 + r % 4] || '/R' || lpad((r / 4)::text, 4, '0'),
     'counter' || (s % 40), 1 + s % 2, now() - interval '365 days' + (s * interval '6 days') + (r * interval '1 minute'),
     now() - interval '365 days' + (s * interval '6 days') + (r * interval '1 minute') + interval '30 minutes',
     (ARRAY['released','released','released','expired','broken'])[1 + (r + s) % 5]
   FROM generate_series(0, $1 - 1) AS r, generate_series(0, 59) AS s`,
  [SEED_RACKS],
);
await admin.query(
  `INSERT INTO verify_records (client_record_id, station_id, status, answer, session_id, floor, rack_id, item_code, verified, damaged,
     serial_count, made_at, hub_made_at, lease_id, user_name, batch_id)
   SELECT gen_random_uuid(), 1 + n % 2, 'ok', '{"status":"ok"}', 'seed-' || (n / 50), (ARRAY['Ground','First','Second','Third'])[1 + (n / 250) % 4],
     'R' || lpad(((n / 1000) % 500)::text, 4, '0'), 'ITEM-' || (n % 5000), 1 + n % 9, n % 2, 2,
     (extract(epoch FROM now() - interval '365 days') * 1000)::bigint + n * 60, (extract(epoch FROM now() - interval '365 days') * 1000)::bigint + n * 60,
     NULL, 'counter' || (n % 40), gen_random_uuid()
   FROM generate_series(0, $1 - 1) AS n`,
  [SEED_RECORDS],
);
await admin.query(
  `INSERT INTO verify_serials (serial, client_record_id)
   SELECT 'SEED-' || r.n || '-' || k, r.client_record_id
   FROM (SELECT client_record_id, row_number() OVER () AS n FROM verify_records) r, generate_series(1, 2) AS k`,
);
// As a site that has run for months: vacuumed and checkpointed, so no autovacuum or checkpoint of
// the seed runs during the measurement.
await admin.query('VACUUM ANALYZE');
await admin.query('CHECKPOINT');
const seeded = (
  await admin.query<{ r: string; s: string; h: string }>(
    'SELECT (SELECT count(*) FROM verify_records) r, (SELECT count(*) FROM verify_serials) s, (SELECT count(*) FROM lease_history) h',
  )
).rows[0];
console.log(
  `seeded ${Number(seeded.r).toLocaleString()} records, ${Number(seeded.s).toLocaleString()} serials, ${Number(seeded.h).toLocaleString()} lease history rows, ${SEED_RACKS} racks in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);

const claimMs: number[] = [];
const heartbeatMs: number[] = [];
const batchMs: number[] = [];
/** The hub's own processing_time_ms of each batch (without HTTP and the wait for a connection). */
const hubBatchMs: number[] = [];
const acked = new Set<string>();
let unanswered = 0;
let refusals = 0;
let conflicts = 0;
const problems: string[] = [];

async function timed<T>(into: number[], work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await work();
  into.push(performance.now() - start);
  return result;
}

async function runCounter(i: number): Promise<void> {
  const client = counters[i];
  const user = `counter${i + 1}`;
  for (let k = 0; k < RACKS_EACH; k++) {
    // Racks of the registry, none shared between counters.
    const n = i * RACKS_EACH + k;
    const rack = { floor: FLOORS[n % 4], rackId: `R${String(Math.floor(n / 4) + 100).padStart(4, '0')}` };
    const resource = `rack:${rack.floor}/${rack.rackId}`;
    const claimed = await timed(claimMs, () => client.claim({ resource, user }));
    if (claimed.status !== 200) {
      refusals++;
      problems.push(`claim ${resource}: ${JSON.stringify(claimed.body)}`);
      continue;
    }
    const leaseId = claimed.body.lease.leaseId as string;
    const offset = Date.parse(claimed.body.now) - Date.now();
    let beating = Promise.resolve();
    const beat = setInterval(() => {
      beating = beating.then(async () => {
        const r = await timed(heartbeatMs, () => client.renew({ resource, leaseId }));
        if (r.status !== 200) problems.push(`renew ${resource}: ${JSON.stringify(r.body)}`);
      });
    }, 1_000);
    for (let b = 0; b < BATCHES_PER_RACK; b++) {
      await new Promise((r) => setTimeout(r, PAUSE_MS));
      const records = Array.from({ length: VERIFY_BATCH_MAX }, (_, j) => {
        const madeAt = Date.now();
        return {
          clientRecordId: randomUUID(),
          sessionId: `bench-${i}-${k}`,
          rack,
          itemCode: `ITEM-${(b * VERIFY_BATCH_MAX + j) % 5000}`,
          verified: 1 + (j % 5),
          damaged: j % 2,
          serials: [`B-${i}-${k}-${b}-${j}-a`, `B-${i}-${k}-${b}-${j}-b`],
          madeAt,
          leaseId,
          hubMadeAt: madeAt + offset,
          user,
          station: `Counter ${i + 1}`,
        };
      });
      let answer: VerifyBatchResponse | null = null;
      for (let attempt = 0; attempt < 3 && !answer; attempt++) {
        const res = await timed(batchMs, () => client.verify(records)).catch(() => null);
        if (res?.status === 200) answer = res.body as VerifyBatchResponse;
        else problems.push(`batch ${resource}: ${res ? JSON.stringify(res.body).slice(0, 300) : 'no answer'}`);
      }
      if (!answer) {
        unanswered += records.length;
        continue;
      }
      hubBatchMs.push(answer.processing_time_ms);
      for (const id of answer.ok) acked.add(id);
      conflicts += answer.conflicts.length + answer.errors.length;
      if (answer.conflicts.length + answer.errors.length > 0)
        problems.push(`batch ${resource}: ${JSON.stringify([...answer.conflicts, ...answer.errors][0])}`);
      unanswered += records.length - answer.ok.length - answer.conflicts.length - answer.errors.length;
    }
    clearInterval(beat);
    await beating;
    const released = await client.release({ resource, leaseId });
    if (released.status !== 200) problems.push(`release ${resource}: ${JSON.stringify(released.body)}`);
  }
}

const tRun = performance.now();
await Promise.all(counters.map((_, i) => runCounter(i)));
const runS = (performance.now() - tRun) / 1000;

const kept = Number(
  (await admin.query<{ n: string }>(`SELECT count(*) n FROM verify_records WHERE status = 'ok' AND client_record_id = ANY($1::uuid[])`, [[...acked]]))
    .rows[0].n,
);
const lost = acked.size - kept + unanswered;
await releaseAll();

const p99 = (xs: number[]) => {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)];
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const f = (x: number) => x.toFixed(1);
for (const p of problems.slice(0, 5)) console.log(`problem: ${p}`);
console.log(
  `${COUNTERS} counters on ${HUBS} hub process${HUBS === 1 ? '' : 'es'}, ${runS.toFixed(1)} s: ${claimMs.length} claims (median ${f(median(claimMs))} ms), ${heartbeatMs.length} heartbeats (median ${f(median(heartbeatMs))} ms), ${batchMs.length} batches of ${VERIFY_BATCH_MAX} (median ${f(median(batchMs))} ms; at the hub median ${f(median(hubBatchMs))} ms, p99 ${f(p99(hubBatchMs))} ms); ${acked.size.toLocaleString()} records acknowledged, ${conflicts} refused, ${refusals} claims refused`,
);
const result = {
  counters: COUNTERS,
  claim_p99_ms: +f(p99(claimMs)),
  heartbeat_p99_ms: +f(p99(heartbeatMs)),
  batch100_p99_ms: +f(p99(batchMs)),
  lost,
};
fs.mkdirSync('bench/results', { recursive: true });
fs.appendFileSync(
  'bench/results/verify.jsonl',
  JSON.stringify({ at: new Date().toISOString(), ...result, seeded_records: SEED_RECORDS, hubs: HUBS, run_s: +runS.toFixed(2) }) + '\n',
);
console.log(
  Object.entries(result)
    .map(([k, v]) => `${k}=${v}`)
    .join(' '),
);
