import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import {
  describeIssues,
  rackResource,
  verifyRecordSchema,
  type LeaseEndedHow,
  type LeaseHolder,
  type VerifyBatchResponse,
  type VerifyConflict,
  type VerifyRecord,
  type VerifyRecordedPayload,
  type VerifyRecordError,
} from '../shared/hub';
import { inTransaction } from './db';
import type { StationIdentity } from './enrolment';
import { appendFeed } from './feed-append';

/**
 * POST /v1/verify/records: a station's counted lines (up to 100) checked again and kept, in one
 * transaction a batch. The rules, in order: damaged ≤ verified; the record was made (hubMadeAt, the
 * hub's clock) while the lease it names — this rack's, this person's, at this station — was held;
 * its serials are free site-wide. The last is the primary key of verify_serials, not a look-up: two
 * hubs taking the same serial at once are ordered by PostgreSQL, and the later one finds it taken.
 *
 * Every record answered ok or conflict is kept with its answer (verify_records, keyed by
 * clientRecordId): sent again, it answers the same and nothing is added twice.
 */

/** What one record was answered, as kept in verify_records.answer. */
type Answer = { status: 'ok' } | ({ status: 'conflict' } & Omit<VerifyConflict, 'id'>);
type Answered = Answer | { status: 'error'; message: string };
/** An answer, and whether this batch kept the record (false: it was answered before). */
interface Kept {
  answer: Answered;
  mine: boolean;
}

interface HistoryRow {
  lease_id: string;
  resource: string;
  holder_user: string;
  station_id: number;
  claimed_at: Date;
  ended_at: Date | null;
  ended_how: LeaseEndedHow | null;
  /** The lease's expiry once it has passed while its leases row is still there (lapsed, not yet swept); else null. */
  expires_at: Date | null;
}

const rackWords = (r: VerifyRecord) => `rack ${r.rack.rackId} (${r.rack.floor})`;

/** Whether PostgreSQL gave up on the transaction (a deadlock between two batches): it is run again. */
const retryable = (error: unknown) => ['40P01', '40001'].includes((error as { code?: string }).code ?? '');

export async function recordVerification(pool: pg.Pool, station: StationIdentity, raw: unknown[]): Promise<VerifyBatchResponse> {
  const started = performance.now();
  const batchId = randomUUID();
  const errors: VerifyRecordError[] = [];
  /** Each good record with the id as sent (answered so); ids are kept lower case, as PostgreSQL answers a uuid. */
  const records: { sentId: string; record: VerifyRecord }[] = [];
  raw.forEach((r, i) => {
    const sent = typeof r === 'object' && r !== null ? (r as { clientRecordId?: unknown }).clientRecordId : undefined;
    const id = typeof sent === 'string' && sent.length > 0 ? sent.slice(0, 100) : `#${i}`;
    const parsed = verifyRecordSchema.safeParse(r);
    if (!parsed.success) errors.push({ id, message: `Record ${i + 1} was refused: ${describeIssues(parsed.error)}` });
    else {
      const { clientRecordId, leaseId } = parsed.data;
      records.push({
        sentId: clientRecordId,
        record: { ...parsed.data, clientRecordId: clientRecordId.toLowerCase(), leaseId: leaseId?.toLowerCase() ?? null },
      });
    }
  });
  // The same id twice in one batch is one record: the later copies answer as the first.
  const firstOf = new Map<string, VerifyRecord>();
  for (const { record: r } of records) if (!firstOf.has(r.clientRecordId)) firstOf.set(r.clientRecordId, r);

  let answers = new Map<string, Answered>();
  if (firstOf.size > 0) {
    for (let attempt = 0; ; attempt++) {
      try {
        answers = await inTransaction(pool, (client) => applyBatch(client, station, batchId, [...firstOf.values()]));
        break;
      } catch (error) {
        if (!retryable(error) || attempt >= 4) throw error;
      }
    }
  }

  const ok: string[] = [];
  const conflicts: VerifyConflict[] = [];
  for (const { sentId, record: r } of records) {
    const a = answers.get(r.clientRecordId) ?? { status: 'error', message: 'This record was not answered: send it again' };
    if (a.status === 'ok') ok.push(sentId);
    else if (a.status === 'conflict') {
      const { status: _status, ...conflict } = a;
      conflicts.push({ id: sentId, ...conflict });
    } else errors.push({ id: sentId, message: a.message });
  }
  return {
    ok,
    conflicts,
    errors,
    batch_id: batchId,
    processing_time_ms: Math.round((performance.now() - started) * 10) / 10,
    total_records: raw.length,
  };
}

async function applyBatch(client: pg.PoolClient, station: StationIdentity, batchId: string, records: VerifyRecord[]): Promise<Map<string, Answered>> {
  const answers = new Map<string, Answered>();
  const ids = records.map((r) => r.clientRecordId);

  // Answered before: the same answer again.
  const earlier = await client.query<{ client_record_id: string; station_id: number; answer: Answer }>(
    'SELECT client_record_id, station_id, answer FROM verify_records WHERE client_record_id = ANY($1::uuid[])',
    [ids],
  );
  for (const row of earlier.rows) answers.set(row.client_record_id, earlierAnswer(row, station));
  const fresh = records.filter((r) => !answers.has(r.clientRecordId));
  if (fresh.length === 0) return answers;

  const leaseIds = [...new Set(fresh.map((r) => r.leaseId).filter((l): l is string => l !== null))];
  const history = new Map(
    (
      await client.query<HistoryRow>(
        `SELECT h.lease_id, h.resource, h.holder_user, h.station_id, h.claimed_at, h.ended_at, h.ended_how,
           CASE WHEN l.expires_at <= now() THEN l.expires_at END AS expires_at
         FROM lease_history h LEFT JOIN leases l ON l.lease_id = h.lease_id WHERE h.lease_id = ANY($1::uuid[])`,
        [leaseIds],
      )
    ).rows.map((h) => [h.lease_id, h]),
  );

  const passing: VerifyRecord[] = [];
  const refused: [VerifyRecord, Answer][] = [];
  for (const r of fresh) {
    if (r.damaged > r.verified) {
      refused.push([
        r,
        {
          status: 'conflict',
          code: 'damage_exceeds_verified',
          reason: `${r.itemCode} on ${rackWords(r)}: damaged (${r.damaged}) is more than verified (${r.verified})`,
        },
      ]);
      continue;
    }
    const lapsed = await leaseLapse(client, station, r, history);
    if (lapsed) refused.push([r, lapsed]);
    else passing.push(r);
  }

  for (const [r, answer] of refused) answers.set(r.clientRecordId, (await keep(client, station, batchId, r, answer)).answer);

  // The common case in one statement: every record new and every serial free. Otherwise that is undone and
  // each record goes in its own savepoint, so one taken serial refuses only its own record.
  const accepted: VerifyRecord[] = [];
  if (passing.length > 0) {
    await client.query('SAVEPOINT batch');
    if (await insertAll(client, station, batchId, passing)) {
      for (const r of passing) answers.set(r.clientRecordId, { status: 'ok' });
      accepted.push(...passing);
    } else {
      await client.query('ROLLBACK TO SAVEPOINT batch');
      for (const r of passing) {
        const kept = await insertOne(client, station, batchId, r);
        answers.set(r.clientRecordId, kept.answer);
        if (kept.mine && kept.answer.status === 'ok') accepted.push(r);
      }
    }
  }

  if (accepted.length > 0) {
    const payload: VerifyRecordedPayload = {
      batchId,
      station: station.name,
      records: accepted.map((r) => ({
        id: r.clientRecordId,
        sessionId: r.sessionId,
        rackId: r.rack.rackId,
        floor: r.rack.floor,
        itemCode: r.itemCode,
        verified: r.verified,
        damaged: r.damaged,
        serials: r.serials,
        user: r.user,
        hubMadeAt: r.hubMadeAt,
      })),
    };
    await appendFeed(client, {
      opId: `verify:${batchId}`,
      op: 'verify_recorded@1',
      payload,
      stationId: station.id,
      user: accepted[0].user,
      at: Date.now(),
    });
  }
  return answers;
}

function earlierAnswer(row: { station_id: number; answer: Answer }, station: StationIdentity): Answered {
  if (row.station_id !== station.id)
    return { status: 'error', message: 'This clientRecordId was already used by another station: every record needs its own id' };
  return row.answer;
}

/**
 * Why a record's lease does not cover it, or null when it does: the lease must be this rack's, this
 * person's at this station, claimed at or before hubMadeAt and not ended before it.
 */
async function leaseLapse(
  client: pg.PoolClient,
  station: StationIdentity,
  r: VerifyRecord,
  history: Map<string, HistoryRow>,
): Promise<Answer | null> {
  const resource = rackResource(r.rack);
  const h = r.leaseId === null ? undefined : history.get(r.leaseId);
  const conflict = async (why: string): Promise<Answer> => {
    const holder = await holderOf(client, resource);
    const now = holder ? `; ${resource} is held by ${holder.user} at ${holder.station} now` : `; ${resource} is free now`;
    return {
      status: 'conflict',
      code: 'lease_lapsed',
      reason: `${r.itemCode} on ${rackWords(r)} ${why}: it is for review${now}`,
      lease: h ? { leaseId: h.lease_id, claimedAt: h.claimed_at.toISOString(), endedAt: endOf(h)?.toISOString() ?? null, endedHow: howOf(h) } : null,
      holder,
    };
  };
  if (r.leaseId === null) return conflict('was counted under no lease');
  if (!h) return conflict(`names lease ${r.leaseId}, which the hub does not know`);
  if (h.resource !== resource || h.holder_user !== r.user || h.station_id !== station.id) {
    return conflict(`names lease ${r.leaseId}, which is not ${r.user}'s lease on ${resource} at ${station.name}`);
  }
  if (r.hubMadeAt < h.claimed_at.getTime()) return conflict('was made before its lease was claimed');
  // A time past the hub's clock cannot be checked against a lease that may yet end (the station's clock is off).
  if (r.hubMadeAt > Date.now() + FUTURE_SLACK_MS) return conflict(`is stamped later than the hub's clock now: the station's clock is off`);
  const end = endOf(h);
  if (end && r.hubMadeAt > end.getTime()) return conflict(`was made after its lease ended (${howOf(h) ?? 'expired'})`);
  return null;
}

/** How far past the hub's clock a record's hubMadeAt may be (the offset a station measures is not exact). */
const FUTURE_SLACK_MS = 60_000;

/** When a lease ended: its history's end, or (not yet swept) its expiry; null while held. */
const endOf = (h: HistoryRow): Date | null => h.ended_at ?? h.expires_at;
const howOf = (h: HistoryRow): LeaseEndedHow | null => h.ended_how ?? (endOf(h) ? 'expired' : null);

async function holderOf(client: pg.PoolClient, resource: string): Promise<LeaseHolder | null> {
  const { rows } = await client.query<{ holder_user: string; name: string; claimed_at: Date; expires_at: Date }>(
    `SELECT l.holder_user, s.name, l.claimed_at, l.expires_at FROM leases l JOIN stations s ON s.id = l.holder_station_id
     WHERE l.resource = $1 AND l.expires_at > now()`,
    [resource],
  );
  const h = rows[0];
  return h ? { user: h.holder_user, station: h.name, since: h.claimed_at.toISOString(), expiresAt: h.expires_at.toISOString() } : null;
}

const RECORD_COLUMNS =
  'client_record_id, station_id, status, answer, session_id, floor, rack_id, item_code, verified, damaged, serial_count, made_at, hub_made_at, lease_id, user_name, batch_id';
const recordValues = (station: StationIdentity, batchId: string, r: VerifyRecord, answer: Answer) => [
  r.clientRecordId,
  station.id,
  answer.status,
  JSON.stringify(answer),
  r.sessionId,
  r.rack.floor,
  r.rack.rackId,
  r.itemCode,
  r.verified,
  r.damaged,
  r.serials.length,
  r.madeAt,
  r.hubMadeAt,
  r.leaseId,
  r.user,
  batchId,
];

/**
 * Keeps one record with its answer. Another hub keeping the same id at the same moment: this insert
 * waits for that transaction and then answers what it answered.
 */
async function keep(client: pg.PoolClient, station: StationIdentity, batchId: string, r: VerifyRecord, answer: Answer): Promise<Kept> {
  const inserted = await client.query(
    `INSERT INTO verify_records (${RECORD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
     ON CONFLICT (client_record_id) DO NOTHING RETURNING client_record_id`,
    recordValues(station, batchId, r, answer),
  );
  if (inserted.rowCount === 1) return { answer, mine: true };
  const { rows } = await client.query<{ station_id: number; answer: Answer }>(
    'SELECT station_id, answer FROM verify_records WHERE client_record_id = $1',
    [r.clientRecordId],
  );
  return {
    answer: rows[0] ? earlierAnswer(rows[0], station) : { status: 'error', message: 'This record is being kept by another request: send it again' },
    mine: false,
  };
}

/** Every passing record and all their serials in one statement; false (and the caller undoes it) when any id or serial was taken. */
async function insertAll(client: pg.PoolClient, station: StationIdentity, batchId: string, records: VerifyRecord[]): Promise<boolean> {
  const cols = records.map((r) => recordValues(station, batchId, r, { status: 'ok' }));
  const column = (i: number) => cols.map((c) => c[i]);
  const serials = records.flatMap((r) => r.serials.map((s) => [s, r.clientRecordId] as const));
  // The serials' foreign key is checked at the statement's end, when the records are in.
  const { rows } = await client.query<{ records: number; serials: number }>(
    `WITH kept AS (
       INSERT INTO verify_records (${RECORD_COLUMNS})
       SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::jsonb[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int[], $10::int[],
         $11::int[], $12::bigint[], $13::bigint[], $14::uuid[], $15::text[], $16::uuid[])
       ON CONFLICT (client_record_id) DO NOTHING RETURNING client_record_id),
     taken AS (
       INSERT INTO verify_serials (serial, client_record_id) SELECT * FROM unnest($17::text[], $18::uuid[]) ORDER BY 1
       ON CONFLICT (serial) DO NOTHING RETURNING serial)
     SELECT (SELECT count(*) FROM kept)::int AS records, (SELECT count(*) FROM taken)::int AS serials`,
    [...Array.from({ length: 16 }, (_, i) => column(i)), serials.map(([s]) => s), serials.map(([, id]) => id)],
  );
  return rows[0].records === records.length && rows[0].serials === serials.length;
}

/** One record in its own savepoint: a serial taken (by anyone, this batch too) refuses this record alone, naming who has it. */
async function insertOne(client: pg.PoolClient, station: StationIdentity, batchId: string, r: VerifyRecord): Promise<Kept> {
  await client.query('SAVEPOINT record');
  const kept = await keep(client, station, batchId, r, { status: 'ok' });
  if (!kept.mine || r.serials.length === 0) return kept; // answered before (by another hub meanwhile), or nothing to take
  const sorted = [...r.serials].sort();
  const inserted = await client.query<{ serial: string }>(
    `INSERT INTO verify_serials (serial, client_record_id) SELECT s, $2 FROM unnest($1::text[]) AS s ORDER BY s
     ON CONFLICT (serial) DO NOTHING RETURNING serial`,
    [sorted, r.clientRecordId],
  );
  if (inserted.rowCount === sorted.length) return kept;
  const got = new Set(inserted.rows.map((x) => x.serial));
  const missing = sorted.filter((s) => !got.has(s));
  await client.query('ROLLBACK TO SAVEPOINT record');
  const { rows } = await client.query<{
    serial: string;
    floor: string;
    rack_id: string;
    name: string;
    user_name: string;
    hub_made_at: string;
    client_record_id: string;
  }>(
    `SELECT v.serial, r.floor, r.rack_id, s.name, r.user_name, r.hub_made_at, r.client_record_id
     FROM verify_serials v JOIN verify_records r ON r.client_record_id = v.client_record_id JOIN stations s ON s.id = r.station_id
     WHERE v.serial = ANY($1::text[]) ORDER BY v.serial`,
    [missing],
  );
  const taken = rows.map((t) => ({
    serial: t.serial,
    rack: { rackId: t.rack_id, floor: t.floor },
    station: t.name,
    user: t.user_name,
    at: Number(t.hub_made_at),
    clientRecordId: t.client_record_id,
  }));
  const words = taken
    .slice(0, 5)
    .map((t) => `serial ${t.serial} is already counted on rack ${t.rack.rackId} (${t.rack.floor}) at ${t.station} by ${t.user}`);
  const more = missing.length - words.length;
  const answer: Answer = {
    status: 'conflict',
    code: 'serial_taken',
    reason: `${r.itemCode} on ${rackWords(r)}: ${words.join('; ') || `serials ${missing.join(', ')} are already counted`}${more > 0 ? `; and ${more} more` : ''}`,
    taken,
  };
  return keep(client, station, batchId, r, answer);
}
