/**
 * The site hub under a site's load (issue 15): a real PostgreSQL (Debian's server as the tests start
 * it, tests/support/postgres.ts: fsync off), the hub's migrations, and a site's history seeded with
 * set-based SQL — BENCH_BAGS bags (2,000,000: 200,000 parents `P0000000…`, 1,800,000 children
 * `C00000000…`, nine on each parent, all linked) with what the hub would hold for them had they come
 * through it: a feed row and a received op for each bag_created@1 and link_child@1 (3,800,000 each),
 * then ANALYZE. Two hub processes (src/hub/main.ts, as `npm run hub`). BENCH_STATIONS (20) dock doors,
 * each its own process (bench/hub-station.ts) running the real station: joined through the router
 * with an enrolment code, to the two hubs alternately; a dispatcher scans through the router
 * BENCH_RATE (10) children a second for BENCH_SECONDS (60), a new parent every 30; the station's own
 * drainer pushes every BENCH_SYNC_MS (250) and its own SiteService follows the feed. A door that
 * joined a site with a history follows the feed from the history's last seq (its replica holds none
 * of it: the run's bags are new). BENCH_PAIRS (50) planned conflicts: two doors (on different hubs)
 * scan the same child onto their own parents at the same instant.
 *
 * Figures:
 * - apply_p99_ms: p99 of a push's round trip as the station sees it (the bags transport's send: HTTP
 *   to the hub, every op of the batch applied in its own transaction, the answer parsed), per batch.
 *   Also printed: the same divided by the batch's ops, and the batch sizes.
 * - feed_lag_p99_ms: p99 over every (run feed entry, station other than its origin) of the time that
 *   station committed the page with the entry (its feed cursor moving past it) minus the entry's
 *   applied_at at the hub (PostgreSQL's now(): the op's transaction start, so the lag includes the
 *   op's own apply time); one machine, one clock.
 * - lost: outbox ops of the run the hub has no received_ops row for, plus ops still pending or stuck
 *   after the drain-out (BENCH_DRAIN_S, 180 s, for the outboxes to empty and again for the feed).
 * - duplicates: feed rows per op id beyond one, plus run children linked or bags created on the feed
 *   more than once.
 * - conflicts_seen: rows in all stations' site_conflicts; each planned pair must give exactly one, and
 *   PostgreSQL must hold exactly one link per contested child, on one of the two parents.
 * Also checked: every station's replica holds exactly PostgreSQL's bags and links of the run.
 * Exit 1 if lost > 0, duplicates > 0, conflicts_seen ≠ conflicts_expected or a check fails.
 *
 *   npm run bench:hub → last line:
 *     stations=20 ops=N apply_p99_ms=X feed_lag_p99_ms=Y conflicts_expected=E conflicts_seen=S lost=0 duplicates=0
 *   BENCH_BAGS=20000 BENCH_STATIONS=4 BENCH_SECONDS=10 BENCH_PAIRS=4 for a quick run.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createEnrolmentCode } from '../src/hub/enrolment';
import { releaseAll, onRelease } from '../tests/support/cleanup';
import { startHubDatabase, startHubProcess } from '../tests/support/hub';
import { Inbox } from '../tests/support/inbox';
import type { StationPlan, StationResult, ToStation } from './hub-station';

const BAGS = Number(process.env.BENCH_BAGS ?? 2_000_000);
const STATIONS = Number(process.env.BENCH_STATIONS ?? 20);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const RATE = Number(process.env.BENCH_RATE ?? 10);
const PAIRS = Number(process.env.BENCH_PAIRS ?? 50);
const SYNC_MS = Number(process.env.BENCH_SYNC_MS ?? 250);
const DRAIN_OUT_S = Number(process.env.BENCH_DRAIN_S ?? 180);
const PER_PARENT = 30;
if (STATIONS < 2 || STATIONS % 2 !== 0) throw new Error('BENCH_STATIONS: an even number, at least 2 (conflicts pair doors 1-2, 3-4, …)');

// A failure anywhere still stops the doors, the hubs and PostgreSQL.
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (error) => {
    console.error(error);
    void releaseAll().finally(() => process.exit(1));
  });
}

const pct = (xs: number[], p: number) =>
  xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] : NaN;
const r1 = (n: number) => +n.toFixed(1);
/** Math.max of a long array without spreading it onto the stack. */
const most = (xs: number[]) => xs.reduce((a, b) => (b > a ? b : a), -Infinity);
const pad = (n: number, w: number) => String(n).padStart(w, '0');
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

// --- PostgreSQL and the site's history ------------------------------------------------------------
const { postgres, admin } = await startHubDatabase({ migrated: true });
const parents = Math.round(BAGS / 10);
const children = BAGS - parents;
const perParent = Math.floor(children / parents); // 9
const feedPerParent = 1 + 2 * perParent; // parent made, then each child made and linked
const historyOps = parents * feedPerParent;
const seedStarted = performance.now();
const historyStation = (
  await admin.query<{ id: number }>(`INSERT INTO stations (name, token_hash) VALUES ('History', md5(random()::text)) RETURNING id`)
).rows[0].id;
const since = Date.now() - 180 * 86_400_000;
// Loaded in index order where the key allows it; the feed's op-id index (random UUIDs) is built after
// its rows, and foreign keys are not checked while loading (the rows are consistent by construction).
const seed = await admin.connect();
await seed.query(`SET maintenance_work_mem = '512MB'`);
await seed.query('SET session_replication_role = replica');
await seed.query('ALTER TABLE feed DROP CONSTRAINT feed_op_id_unique');
// Feed entry n: parent p = n / feedPerParent; k = n % feedPerParent: 0 the parent made, odd a child made, even its link.
await seed.query(
  `INSERT INTO feed (seq, op_id, op, payload, station_id, user_name, at, applied_at)
   SELECT n + 1, md5(n::text)::uuid::text, CASE WHEN k = 0 OR k % 2 = 1 THEN 'bag_created@1' ELSE 'link_child@1' END,
     CASE WHEN k = 0 THEN jsonb_build_object('code', pc, 'kind', 'parent', 'at', at, 'by', 'hist')
          WHEN k % 2 = 1 THEN jsonb_build_object('code', cc, 'kind', 'child', 'at', at, 'by', 'hist')
          ELSE jsonb_build_object('child', cc, 'parent', pc, 'at', at, 'by', 'hist') END,
     $1, 'hist', at, to_timestamp(at / 1000.0)
   FROM (SELECT n, n % $2 AS k, 'P' || lpad((n / $2)::text, 7, '0') AS pc,
           'C' || lpad(((n / $2) * $3 + (n % $2 - 1) / 2)::text, 8, '0') AS cc, $4::bigint + n * 4000 AS at
         FROM generate_series(0, $5::bigint - 1) n) s`,
  [historyStation, feedPerParent, perParent, since, historyOps],
);
await seed.query('ALTER TABLE feed ADD CONSTRAINT feed_op_id_unique UNIQUE (op_id)');
await seed.query(`SELECT setval(pg_get_serial_sequence('feed', 'seq'), $1)`, [historyOps]);
await seed.query(
  `INSERT INTO received_ops (op_id, station_id, op, status, answer, received_at)
   SELECT op_id, station_id, op, 'ok', jsonb_build_object('opId', op_id, 'status', 'ok', 'seq', seq), applied_at FROM feed ORDER BY op_id`,
);
await seed.query(
  `INSERT INTO bags (code, kind, station_id, user_name, at)
   SELECT payload->>'code', payload->>'kind', station_id, user_name, at FROM feed WHERE op = 'bag_created@1' ORDER BY 1`,
);
await seed.query(
  `INSERT INTO bag_links (child_code, parent_code, station_id, user_name, at, op_id)
   SELECT payload->>'child', payload->>'parent', station_id, user_name, at, op_id FROM feed WHERE op = 'link_child@1' ORDER BY 1`,
);
seed.release(true); // its session settings go with it
await admin.query('ANALYZE');
const seedS = (performance.now() - seedStarted) / 1000;
const counts = (
  await admin.query<{ bags: number; links: number; feed: number; received: number }>(
    `SELECT (SELECT count(*) FROM bags)::int AS bags, (SELECT count(*) FROM bag_links)::int AS links,
       (SELECT count(*) FROM feed)::int AS feed, (SELECT count(*) FROM received_ops)::int AS received`,
  )
).rows[0];
log(
  `seeded ${counts.bags.toLocaleString('en-US')} bags (${parents.toLocaleString('en-US')} parents), ${counts.links.toLocaleString('en-US')} links, ` +
    `${counts.feed.toLocaleString('en-US')} feed rows and ${counts.received.toLocaleString('en-US')} received ops in ${seedS.toFixed(1)} s (with ANALYZE)`,
);

// --- two hubs, the doors' plans, the doors ---------------------------------------------------------
const hubs = await Promise.all([startHubProcess(postgres.url), startHubProcess(postgres.url)]);
log(`hubs at ${hubs.map((h) => h.url).join(' and ')}`);

const names = Array.from({ length: STATIONS }, (_, i) => `Dock ${pad(i + 1, 2)}`);
const every = 1000 / RATE;
const linksEach = Math.round(RATE * SECONDS);
const plans: StationPlan[] = [];
for (let s = 0; s < STATIONS; s++) {
  const scans: StationPlan['scans'] = [];
  for (let i = 0; i < linksEach; i++) {
    if (i % PER_PARENT === 0) scans.push({ at: i * every, code: `P2${pad(s + 1, 2)}${pad(i / PER_PARENT, 4)}` });
    scans.push({ at: i * every, code: `S${pad(s + 1, 2)}-${pad(i, 6)}` });
  }
  plans.push({
    name: names[s],
    dispatcher: `dock${pad(s + 1, 2)}`,
    hubUrl: hubs[s % 2].url,
    code: (await createEnrolmentCode(admin, 2)).code,
    fromSeq: historyOps,
    syncMs: SYNC_MS,
    drainOutMs: DRAIN_OUT_S * 1000,
    scans,
    contested: [],
  });
}
// Pair k: doors 2j+1 and 2j+2 (one on each hub), half way between two regular scans, spread over the run.
const pairs: { code: string; a: number; b: number }[] = [];
for (let k = 0; k < PAIRS; k++) {
  const a = (2 * k) % STATIONS;
  const at = Math.round(Math.min(5000, SECONDS * 100) + (k * (SECONDS * 1000 - 2 * Math.min(5000, SECONDS * 100))) / PAIRS) + every / 2;
  const code = `X-${pad(k, 4)}`;
  plans[a].contested.push({ at, code });
  plans[a + 1].contested.push({ at, code });
  pairs.push({ code, a, b: a + 1 });
}

const script = fileURLToPath(new URL('./hub-station.ts', import.meta.url));
const doors = plans.map((plan) => {
  const child: ChildProcess = fork(script, [], { execArgv: ['--import', 'tsx'], env: { ...process.env, BENCH_PLAN: JSON.stringify(plan) } });
  const messages = new Inbox<{ type: string } & Record<string, unknown>>();
  child.on('message', (m) => messages.push(m as { type: string }));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => reject(new Error(`${plan.name} exited (${code ?? signal}) before it was done`))),
  );
  exited.catch(() => {});
  onRelease(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
  const next = async <T>(type: string) => (await Promise.race([messages.first((m) => m.type === type), exited])) as T;
  return { plan, child, next, tell: (m: ToStation) => child.send(m), exited };
});
const startedDoors = performance.now();
await Promise.all(doors.map((d) => d.next('ready')));
log(`${STATIONS} stations joined and following the feed in ${((performance.now() - startedDoors) / 1000).toFixed(1)} s`);

// --- the run ----------------------------------------------------------------------------------------
const t0 = Date.now() + 2000;
for (const d of doors) d.tell({ type: 'go', t0 });
await Promise.all(doors.map((d) => d.next('scanned')));
const scannedAt = Date.now();
const scannedS = (scannedAt - t0) / 1000;
log(`scanning done after ${scannedS.toFixed(1)} s (planned ${SECONDS} s); draining out`);
const drained = await Promise.all(doors.map((d) => d.next<{ pending: number }>('drained')));
const lastSeq = Number((await admin.query<{ seq: string }>('SELECT max(seq) AS seq FROM feed')).rows[0].seq);
log(`outboxes drained after ${((Date.now() - t0) / 1000).toFixed(1)} s; feed at ${lastSeq}; waiting for every door to reach it`);
for (const d of doors) d.tell({ type: 'settle', seq: lastSeq });
const results = await Promise.all(doors.map((d) => d.next<StationResult>('result')));
for (const d of doors) d.tell({ type: 'close' });
await Promise.all(doors.map((d) => d.exited.catch(() => {})));

// --- figures ----------------------------------------------------------------------------------------
const problems: string[] = [];
// Achieved rate: the run's links over the time from t0 to each door's last regular scan.
const links = results.reduce((n, r) => n + r.scans.filter((s) => s.result === 'linked').length, 0);
const notLinked = results.flatMap((r, i) =>
  r.scans.filter((s) => !/^(linked|parent)$/.test(s.result)).map((s) => `${names[i]} ${s.code}: ${s.result} ${s.message}`),
);
if (notLinked.length) problems.push(`${notLinked.length} regular scans did not link, e.g. ${notLinked.slice(0, 3).join('; ')}`);
// A door that keeps up ends one interval after its last scan was due: RATE links a second exactly.
const spanS = results.map((r) => (most(r.scans.map((s) => s.done)) - t0 + every) / 1000);
const achieved = links / STATIONS / most(spanS);
const late = results.flatMap((r) => r.scans.map((s) => s.done - s.due));

// What the hubs applied: the run's ops answered while the doors scanned, and until the last one.
const applied = (
  await admin.query<{ during: number; total: number; last_ms: number | null }>(
    `SELECT count(*) FILTER (WHERE received_at <= to_timestamp($2 / 1000.0))::int AS during, count(*)::int AS total,
       extract(epoch FROM max(received_at)) * 1000 AS last_ms FROM received_ops WHERE station_id <> $1`,
    [historyStation, scannedAt],
  )
).rows[0];
const hubOpsPerS = applied.during / ((scannedAt - t0) / 1000);
const pushes = results.flatMap((r) => r.pushes);
const pushP99 = pct(
  pushes.map((p) => p.ms),
  99,
);
const perOpP99 = pct(
  pushes.map((p) => p.ms / p.ops),
  99,
);

// Feed lag per (entry, other station).
const feed = (
  await admin.query<{ seq: string; station: string; applied_ms: number; op: string; op_id: string }>(
    `SELECT f.seq, s.name AS station, extract(epoch FROM f.applied_at) * 1000 AS applied_ms, f.op, f.op_id FROM feed f JOIN stations s ON s.id = f.station_id WHERE f.seq > $1 ORDER BY f.seq`,
    [historyOps],
  )
).rows.map((r) => ({ seq: Number(r.seq), station: r.station, appliedMs: Number(r.applied_ms), op: r.op, opId: r.op_id }));
const lags: number[] = [];
let unapplied = 0;
results.forEach((r, i) => {
  const cursor = r.cursor;
  for (const e of feed) {
    if (e.station === names[i]) continue;
    let lo = 0;
    let hi = cursor.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cursor[mid][0] >= e.seq) hi = mid;
      else lo = mid + 1;
    }
    if (lo === cursor.length) unapplied++;
    else lags.push(cursor[lo][1] - e.appliedMs);
  }
});
if (unapplied) problems.push(`${unapplied} (entry, station) pairs never applied`);
const lagP99 = pct(lags, 99);

// Lost: every outbox op known to the hub, nothing left pending or stuck.
const outbox = results.flatMap((r) => r.outbox);
const ops = outbox.length;
const received = new Set(
  (await admin.query<{ op_id: string }>('SELECT op_id FROM received_ops WHERE op_id = ANY($1)', [outbox.map((o) => o.opId)])).rows.map(
    (r) => r.op_id,
  ),
);
const lostIds = new Set(
  [...outbox.filter((o) => !received.has(o.opId)), ...outbox.filter((o) => o.status === 'pending' || o.status === 'error')].map((o) => o.opId),
);
const lost = lostIds.size;
if (drained.some((d) => d.pending > 0)) problems.push(`outboxes still pending after the drain-out: ${drained.map((d) => d.pending).join(',')}`);

// Duplicates: an op on the feed twice, a child linked or a bag made twice on the feed.
const dup = (
  await admin.query<{ n: number }>(
    `SELECT (SELECT coalesce(sum(c - 1), 0) FROM (SELECT count(*) AS c FROM feed GROUP BY op_id HAVING count(*) > 1) a)::int
          + (SELECT coalesce(sum(c - 1), 0) FROM (SELECT count(*) AS c FROM feed WHERE seq > $1 AND op = 'link_child@1' GROUP BY payload->>'child' HAVING count(*) > 1) b)::int
          + (SELECT coalesce(sum(c - 1), 0) FROM (SELECT count(*) AS c FROM feed WHERE seq > $1 AND op = 'bag_created@1' GROUP BY payload->>'code' HAVING count(*) > 1) c)::int AS n`,
    [historyOps],
  )
).rows[0].n;

// Conflicts: one per planned pair, at one of its two doors; one link per contested child in PostgreSQL.
const conflicts = results.flatMap((r, i) => r.conflicts.map((c) => ({ ...c, station: names[i] })));
const contestedRows = new Map(
  (
    await admin.query<{ child_code: string; parent_code: string; n: number }>(
      `SELECT child_code, min(parent_code) AS parent_code, count(*)::int AS n FROM bag_links WHERE child_code = ANY($1) GROUP BY child_code`,
      [pairs.map((p) => p.code)],
    )
  ).rows.map((r) => [r.child_code, r]),
);
const skews: number[] = [];
for (const p of pairs) {
  const seen = conflicts.filter((c) => c.child === p.code);
  if (seen.length !== 1) problems.push(`${p.code}: ${seen.length} conflicts (${seen.map((c) => c.station).join(', ')}), expected 1`);
  const [sa, sb] = [p.a, p.b].map((s) => results[s].contested.find((c) => c.code === p.code)!);
  skews.push(Math.abs(sa.started - sb.started));
  const row = contestedRows.get(p.code);
  if (!row || row.n !== 1 || ![sa.parent, sb.parent].includes(row.parent_code))
    problems.push(`${p.code}: PostgreSQL has ${row?.n ?? 0} links (${row?.parent_code ?? '-'}), expected one on ${sa.parent} or ${sb.parent}`);
  for (const [s, rec] of [
    [p.a, sa],
    [p.b, sb],
  ] as const)
    if (rec.result !== 'linked') problems.push(`${p.code} at ${names[s]}: the scan answered ${rec.result} (${rec.message}), not linked`);
}

// Every replica holds PostgreSQL's bags and links of the run.
const RUN = `~ '^(S[0-9][0-9]-|X-|P2)'`;
const pgLinks = new Map(
  (await admin.query<{ child_code: string; parent_code: string }>(`SELECT child_code, parent_code FROM bag_links WHERE child_code ${RUN}`)).rows.map(
    (r) => [r.child_code, r.parent_code],
  ),
);
const pgBags = new Map(
  (await admin.query<{ code: string; kind: string }>(`SELECT code, kind FROM bags WHERE code ${RUN}`)).rows.map((r) => [r.code, r.kind]),
);
const sameMap = (a: Map<string, string>, b: [string, string][]) => b.length === a.size && b.every(([k, v]) => a.get(k) === v);
const replicaMismatch = results.map((r, i) => (sameMap(pgLinks, r.links) && sameMap(pgBags, r.bags) ? null : names[i])).filter((n) => n !== null);
if (replicaMismatch.length) problems.push(`replicas differing from PostgreSQL: ${replicaMismatch.join(', ')}`);
const hubErrors = hubs.map((h) => (h.stderr().match(/ failed: /g) ?? []).length);

await releaseAll();

const sizes = pushes.map((p) => p.ops);
log(
  `scans: ${links.toLocaleString('en-US')} links by ${STATIONS} stations, achieved ${achieved.toFixed(2)} links/s per station (planned ${RATE}); ` +
    `scan done − due p50 ${r1(pct(late, 50))} ms, p99 ${r1(pct(late, 99))} ms, max ${r1(most(late))} ms`,
);
log(
  `hubs: ${r1(hubOpsPerS)} ops/s applied while the doors scanned (they made ${r1(ops / scannedS)} ops/s); ` +
    `${applied.total.toLocaleString('en-US')} of ${ops.toLocaleString('en-US')} ops received by the end` +
    (applied.last_ms ? `, the last ${r1((Number(applied.last_ms) - t0) / 1000)} s after the start` : ''),
);
log(
  `pushes: ${pushes.length} batches of ${r1(pct(sizes, 50))} ops (p50; max ${most(sizes)}); round trip p50 ${r1(
    pct(
      pushes.map((p) => p.ms),
      50,
    ),
  )} ms, ` + `p99 ${r1(pushP99)} ms, max ${r1(most(pushes.map((p) => p.ms)))} ms; per op p99 ${r1(perOpP99)} ms`,
);
log(
  `feed lag over ${lags.length.toLocaleString('en-US')} (entry, station) pairs: p50 ${r1(pct(lags, 50))} ms, p99 ${r1(lagP99)} ms, max ${r1(most(lags))} ms`,
);
log(
  `conflicts: ${PAIRS} pairs scanned ${r1(pct(skews, 50))} ms apart (p50; max ${r1(most(skews))} ms) → ${conflicts.length} conflicts; ` +
    `hub errors logged: ${hubErrors.join(' + ')}; replicas checked: ${STATIONS - replicaMismatch.length} of ${STATIONS} match`,
);
for (const p of problems) log(`PROBLEM: ${p}`);
const figures = {
  stations: STATIONS,
  ops,
  apply_p99_ms: r1(pushP99),
  feed_lag_p99_ms: r1(lagP99),
  conflicts_expected: PAIRS,
  conflicts_seen: conflicts.length,
  lost,
  duplicates: dup,
};
fs.mkdirSync('bench/results', { recursive: true });
fs.appendFileSync(
  'bench/results/hub.jsonl',
  JSON.stringify({
    at: new Date().toISOString(),
    bags: counts.bags,
    seed_s: r1(seedS),
    seconds: SECONDS,
    rate: RATE,
    achieved_links_per_s: +achieved.toFixed(2),
    hub_ops_per_s: r1(hubOpsPerS),
    links,
    push_p50_ms: r1(
      pct(
        pushes.map((p) => p.ms),
        50,
      ),
    ),
    per_op_p99_ms: r1(perOpP99),
    feed_lag_p50_ms: r1(pct(lags, 50)),
    problems,
    ...figures,
  }) + '\n',
);
console.log(
  Object.entries(figures)
    .map(([k, v]) => `${k}=${v}`)
    .join(' '),
);
process.exit(lost > 0 || dup > 0 || conflicts.length !== PAIRS || problems.length > 0 ? 1 : 0);
