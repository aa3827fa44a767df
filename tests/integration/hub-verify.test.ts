import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeedEntry, VerifyBatchResponse, VerifyRecordedPayload } from '../../src/shared/hub';
import { releaseAll } from '../support/cleanup';
import { hubClient, until, type HubProcess, startTwoHubSite } from '../support/hub';

/** The hub's verification API, rack registry and notices on a real PostgreSQL, through two hub processes. */
let admin: pg.Pool;
let hubB: HubProcess;
/** Dock 1 talks to hub A, Dock 2 to hub B. */
let dock1: Client;
let dock2: Client;
type Client = ReturnType<typeof hubClient>;

beforeAll(async () => {
  ({ admin, hubB, dock1, dock2 } = await startTwoHubSite());
}, 120_000);

afterAll(releaseAll, 60_000);

/** Claims a rack for `user` and answers the lease id and the hub's clock at the claim (ms). */
async function claimRack(client: Client, rackId: string, user: string, ttlMs?: number): Promise<{ leaseId: string; now: number; resource: string }> {
  const resource = `rack:Ground/${rackId}`;
  const res = await client.claim({ resource, user, ...(ttlMs ? { ttlMs } : {}) });
  expect(res.status).toBe(200);
  expect(typeof res.body.now).toBe('string');
  return { leaseId: res.body.lease.leaseId, now: Date.parse(res.body.now), resource };
}

/** A counted line on `rackId` as a station sends it, made at `hubMadeAt` on the hub's clock. */
function record(rackId: string, user: string, station: string, leaseId: string | null, hubMadeAt: number, extra: Record<string, unknown> = {}) {
  return {
    clientRecordId: randomUUID(),
    sessionId: `S-${rackId}`,
    rack: { rackId, floor: 'Ground' },
    itemCode: 'ITEM-1',
    verified: 3,
    damaged: 1,
    serials: [] as string[],
    madeAt: hubMadeAt - 250,
    leaseId,
    hubMadeAt,
    user,
    station,
    ...extra,
  };
}

async function verify(client: Client, records: unknown[]): Promise<VerifyBatchResponse> {
  const res = await client.verify(records);
  expect(res.status).toBe(200);
  return res.body as VerifyBatchResponse;
}

async function feedEntries(client: Client, op: string): Promise<FeedEntry[]> {
  const found: FeedEntry[] = [];
  for (let since = 0, more = true; more;) {
    const page = await client.feed(since, 1000);
    found.push(...(page.body.entries as FeedEntry[]).filter((e) => e.op === op));
    since = page.body.next;
    more = page.body.more;
  }
  return found;
}

const count = async (sql: string, params: unknown[] = []) => Number((await admin.query<{ n: string }>(sql, params)).rows[0].n);

describe('hub verification records', () => {
  it('the same serial in two records through two hubs at once, 10 rounds: one is ok, the other serial_taken naming the first', async () => {
    const a = await claimRack(dock1, 'RA', 'anna');
    const b = await claimRack(dock2, 'RB', 'bob');
    for (let round = 0; round < 10; round++) {
      const serial = `SN-RACE-${round}`;
      const ra = record('RA', 'anna', 'Dock 1', a.leaseId, a.now + 10, { serials: [serial, `SN-A-${round}`] });
      const rb = record('RB', 'bob', 'Dock 2', b.leaseId, b.now + 10, { serials: [`SN-B-${round}`, serial] });
      const [ansA, ansB] = await Promise.all([verify(dock1, [ra]), verify(dock2, [rb])]);
      const outcomes = [ansA.ok.length, ansB.ok.length].sort();
      expect(outcomes).toEqual([0, 1]);
      const [lost, winner] =
        ansA.ok.length === 1
          ? [ansB, { rack: 'RA', station: 'Dock 1', user: 'anna', id: ra.clientRecordId, at: ra.hubMadeAt }]
          : [ansA, { rack: 'RB', station: 'Dock 2', user: 'bob', id: rb.clientRecordId, at: rb.hubMadeAt }];
      expect(lost.errors).toEqual([]);
      expect(lost.conflicts).toHaveLength(1);
      const c = lost.conflicts[0];
      expect(c.code).toBe('serial_taken');
      expect(c.reason).toContain(`serial ${serial} is already counted on rack ${winner.rack} (Ground) at ${winner.station} by ${winner.user}`);
      expect(c.taken).toEqual([
        {
          serial,
          rack: { rackId: winner.rack, floor: 'Ground' },
          station: winner.station,
          user: winner.user,
          at: winner.at,
          clientRecordId: winner.id,
        },
      ]);
      // Only the winner's serials were kept: the loser's own other serial went with its record.
      expect(await count('SELECT count(*) n FROM verify_serials WHERE serial = ANY($1)', [[serial, `SN-A-${round}`, `SN-B-${round}`]])).toBe(2);
      expect((await admin.query('SELECT client_record_id FROM verify_serials WHERE serial = $1', [serial])).rows).toEqual([
        { client_record_id: winner.id },
      ]);
    }
  }, 120_000);

  it('a record whose damaged is more than verified is a damage_exceeds_verified conflict; its serials are not taken', async () => {
    const a = await claimRack(dock1, 'RD', 'anna');
    const bad = record('RD', 'anna', 'Dock 1', a.leaseId, a.now + 5, { verified: 2, damaged: 5, serials: ['SN-DMG-1'] });
    const answer = await verify(dock1, [bad]);
    expect(answer.ok).toEqual([]);
    expect(answer.conflicts).toEqual([
      { id: bad.clientRecordId, code: 'damage_exceeds_verified', reason: 'ITEM-1 on rack RD (Ground): damaged (5) is more than verified (2)' },
    ]);
    expect(await count('SELECT count(*) n FROM verify_serials WHERE serial = $1', ['SN-DMG-1'])).toBe(0);
  });

  it('records under a held lease are ok; after a break, after expiry, before the claim, under another lease or none: lease_lapsed', async () => {
    const held = await claimRack(dock1, 'RL1', 'anna');
    const during = record('RL1', 'anna', 'Dock 1', held.leaseId, held.now + 1, { serials: ['SN-L-1'] });
    const before = record('RL1', 'anna', 'Dock 1', held.leaseId, held.now - 60_000);
    const none = record('RL1', 'anna', 'Dock 1', null, held.now + 1);
    const otherPerson = record('RL1', 'carl', 'Dock 1', held.leaseId, held.now + 1);
    const future = record('RL1', 'anna', 'Dock 1', held.leaseId, held.now + 3_600_000);
    const r1 = await verify(dock1, [during, before, none, otherPerson, future]);
    expect(r1.ok).toEqual([during.clientRecordId]);
    expect(r1.conflicts.map((c) => [c.id, c.code])).toEqual([
      [before.clientRecordId, 'lease_lapsed'],
      [none.clientRecordId, 'lease_lapsed'],
      [otherPerson.clientRecordId, 'lease_lapsed'],
      [future.clientRecordId, 'lease_lapsed'],
    ]);
    expect(r1.conflicts[3].reason).toContain("is stamped later than the hub's clock now: the station's clock is off");
    expect(r1.conflicts[0].reason).toBe(
      'ITEM-1 on rack RL1 (Ground) was made before its lease was claimed: it is for review; rack:Ground/RL1 is held by anna at Dock 1 now',
    );
    expect(r1.conflicts[1].reason).toContain('was counted under no lease');
    expect(r1.conflicts[2].reason).toContain(`which is not carl's lease on rack:Ground/RL1 at Dock 1`);
    // The same lease id from another station is not that station's lease.
    const elsewhere = record('RL1', 'anna', 'Dock 2', held.leaseId, held.now + 1);
    expect((await verify(dock2, [elsewhere])).conflicts[0]).toMatchObject({ code: 'lease_lapsed', lease: { leaseId: held.leaseId } });

    // Broken by an admin: a line made before the break is still ok, one made after is for review, naming who holds it now.
    const broken = await dock2.breakLease({ resource: held.resource, by: 'boss', reason: 'shift change' });
    expect(broken.status).toBe(200);
    const brokeAt = Date.parse(broken.body.now);
    const taken = await claimRack(dock2, 'RL1', 'bob');
    const beforeBreak = record('RL1', 'anna', 'Dock 1', held.leaseId, brokeAt - 1);
    const afterBreak = record('RL1', 'anna', 'Dock 1', held.leaseId, brokeAt + 1_000);
    const r2 = await verify(dock1, [beforeBreak, afterBreak]);
    expect(r2.ok).toEqual([beforeBreak.clientRecordId]);
    expect(r2.conflicts).toHaveLength(1);
    expect(r2.conflicts[0]).toMatchObject({
      id: afterBreak.clientRecordId,
      code: 'lease_lapsed',
      reason: 'ITEM-1 on rack RL1 (Ground) was made after its lease ended (broken): it is for review; rack:Ground/RL1 is held by bob at Dock 2 now',
      lease: { leaseId: held.leaseId, endedHow: 'broken', endedAt: new Date(brokeAt).toISOString() },
      holder: { user: 'bob', station: 'Dock 2' },
    });
    expect(taken.leaseId).not.toBe(held.leaseId);

    // Expired: the lease history ends at the expiry (the sweeper's), and a line made after it is for review.
    const short = await claimRack(dock1, 'RL2', 'anna', 5_000);
    const ended = await until('the short lease to expire and be swept', async () => {
      const { rows } = await admin.query<{ ended_at: Date; ended_how: string }>('SELECT ended_at, ended_how FROM lease_history WHERE lease_id = $1', [
        short.leaseId,
      ]);
      return rows[0]?.ended_at ? rows[0] : null;
    });
    expect(ended.ended_how).toBe('expired');
    const late = record('RL2', 'anna', 'Dock 1', short.leaseId, ended.ended_at.getTime() + 500);
    const inTime = record('RL2', 'anna', 'Dock 1', short.leaseId, short.now + 100);
    const r3 = await verify(dock1, [late, inTime]);
    expect(r3.ok).toEqual([inTime.clientRecordId]);
    expect(r3.conflicts[0]).toMatchObject({ id: late.clientRecordId, code: 'lease_lapsed', lease: { endedHow: 'expired' }, holder: null });
    expect(r3.conflicts[0].reason).toBe(
      'ITEM-1 on rack RL2 (Ground) was made after its lease ended (expired): it is for review; rack:Ground/RL2 is free now',
    );
  }, 120_000);

  it('a batch sent again answers as before through either hub, and nothing is kept or put on the feed twice', async () => {
    const a = await claimRack(dock1, 'RR', 'anna');
    const good = record('RR', 'anna', 'Dock 1', a.leaseId, a.now + 1, { serials: ['SN-R-1', 'SN-R-2'] });
    const dup = record('RR', 'anna', 'Dock 1', a.leaseId, a.now + 1, { serials: ['SN-R-2'] });
    const first = await verify(dock1, [good, dup]);
    expect(first.ok).toEqual([good.clientRecordId]);
    expect(first.conflicts.map((c) => [c.id, c.code])).toEqual([[dup.clientRecordId, 'serial_taken']]);
    expect(first.total_records).toBe(2);
    expect(first.batch_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.processing_time_ms).toBeGreaterThanOrEqual(0);

    const again = await verify(hubClient(hubB.url, dock1.token), [good, dup]);
    expect(again.ok).toEqual(first.ok);
    expect(again.conflicts).toEqual(first.conflicts);
    expect(again.batch_id).not.toBe(first.batch_id);
    expect(
      await count('SELECT count(*) n FROM verify_records WHERE client_record_id = ANY($1::uuid[])', [[good.clientRecordId, dup.clientRecordId]]),
    ).toBe(2);
    expect(await count('SELECT count(*) n FROM verify_serials WHERE client_record_id = $1', [good.clientRecordId])).toBe(2);
    const onFeed = (await feedEntries(dock2, 'verify_recorded@1')).filter((e) =>
      (e.payload as VerifyRecordedPayload).records.some((r) => r.id === good.clientRecordId),
    );
    expect(onFeed).toHaveLength(1);
    expect(onFeed[0].station).toBe('Dock 1');
    expect((onFeed[0].payload as VerifyRecordedPayload).records).toEqual([
      {
        id: good.clientRecordId,
        sessionId: 'S-RR',
        rackId: 'RR',
        floor: 'Ground',
        itemCode: 'ITEM-1',
        verified: 3,
        damaged: 1,
        serials: ['SN-R-1', 'SN-R-2'],
        user: 'anna',
        hubMadeAt: a.now + 1,
      },
    ]);

    // The same new batch through both hubs at once: both answer it the same, it is kept and fed once.
    const twin = [
      record('RR', 'anna', 'Dock 1', a.leaseId, a.now + 2, { serials: ['SN-R-3'] }),
      record('RR', 'anna', 'Dock 1', a.leaseId, a.now + 2, { serials: ['SN-R-4', 'SN-R-5'] }),
    ];
    const [viaA, viaB] = await Promise.all([verify(dock1, twin), verify(hubClient(hubB.url, dock1.token), twin)]);
    expect(viaA.ok).toEqual(twin.map((r) => r.clientRecordId));
    expect(viaB.ok).toEqual(viaA.ok);
    expect(await count('SELECT count(*) n FROM verify_serials WHERE serial = ANY($1)', [['SN-R-3', 'SN-R-4', 'SN-R-5']])).toBe(3);
    const twinFed = (await feedEntries(dock2, 'verify_recorded@1')).flatMap((e) => (e.payload as VerifyRecordedPayload).records.map((r) => r.id));
    expect(twinFed.filter((id) => id === twin[0].clientRecordId || id === twin[1].clientRecordId).sort()).toEqual(
      twin.map((r) => r.clientRecordId).sort(),
    );

    // Ids in capitals (a UUID is a UUID): answered as sent, and the same record when sent in lower case.
    const upperId = randomUUID().toUpperCase();
    const upper = record('RR', 'anna', 'Dock 1', a.leaseId.toUpperCase(), a.now + 3, { serials: ['SN-R-6'], clientRecordId: upperId });
    expect((await verify(dock1, [upper])).ok).toEqual([upper.clientRecordId]);
    const lower = { ...upper, clientRecordId: upper.clientRecordId.toLowerCase() };
    expect((await verify(dock1, [lower])).ok).toEqual([lower.clientRecordId]);
    expect(await count('SELECT count(*) n FROM verify_serials WHERE serial = $1', ['SN-R-6'])).toBe(1);

    // Another station reusing the id is told so, and changes nothing.
    const stolen = await verify(dock2, [good]);
    expect(stolen.ok).toEqual([]);
    expect(stolen.errors).toEqual([
      { id: good.clientRecordId, message: 'This clientRecordId was already used by another station: every record needs its own id' },
    ]);
  });

  it('101 records are refused whole in words; bad records answer in errors naming the field while the rest of the batch is kept', async () => {
    const a = await claimRack(dock1, 'RS', 'anna');
    const tooMany = Array.from({ length: 101 }, () => record('RS', 'anna', 'Dock 1', a.leaseId, a.now + 1));
    const refused = await dock1.verify(tooMany);
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toBe('The request was refused: records: a batch has at most 100 records: send the rest in another batch');
    expect(await count('SELECT count(*) n FROM verify_records WHERE client_record_id = $1', [tooMany[0].clientRecordId])).toBe(0);

    const good = record('RS', 'anna', 'Dock 1', a.leaseId, a.now + 1, { serials: ['SN-S-1'] });
    const noVerified = record('RS', 'anna', 'Dock 1', a.leaseId, a.now + 1);
    delete (noVerified as Partial<typeof noVerified>).verified;
    const badSerials = record('RS', 'anna', 'Dock 1', a.leaseId, a.now + 1, { serials: 'SN-X' });
    const twiceSerial = record('RS', 'anna', 'Dock 1', a.leaseId, a.now + 1, { serials: ['SN-T', 'SN-T'] });
    const badRack = record('RS', 'anna', 'Dock 1', a.leaseId, a.now + 1, { rack: { rackId: '', floor: 'Ground' } });
    const answer = await verify(dock1, [noVerified, good, badSerials, 'junk', twiceSerial, badRack]);
    expect(answer.ok).toEqual([good.clientRecordId]);
    expect(answer.conflicts).toEqual([]);
    expect(answer.total_records).toBe(6);
    expect(answer.errors).toEqual([
      { id: noVerified.clientRecordId, message: 'Record 1 was refused: verified: verified is a number' },
      { id: badSerials.clientRecordId, message: 'Record 3 was refused: serials: serials is a list of serial numbers' },
      { id: '#3', message: expect.stringMatching(/^Record 4 was refused: /) },
      { id: twiceSerial.clientRecordId, message: 'Record 5 was refused: serials.1: serial SN-T appears twice in this record' },
      { id: badRack.clientRecordId, message: 'Record 6 was refused: rack.rackId: rackId is required (e.g. "R1")' },
    ]);
    expect(
      await count('SELECT count(*) n FROM verify_records WHERE client_record_id = ANY($1::uuid[])', [
        [noVerified.clientRecordId, badSerials.clientRecordId],
      ]),
    ).toBe(0);
    // A refused record may be sent again once corrected.
    const fixed = await verify(dock1, [{ ...noVerified, verified: 2 }]);
    expect(fixed.ok).toEqual([noVerified.clientRecordId]);
  });
});

describe('hub rack registry and notices', () => {
  const rack = (rackId: string, updatedAt: number, name: string) => ({
    opId: randomUUID(),
    op: 'rack_saved@1',
    payload: { rackId, floor: 'First', name, active: true, updatedAt, at: updatedAt, by: 'admin' },
  });
  const siteRack = async (rackId: string) =>
    (
      await admin.query('SELECT r.name, s.name AS station FROM racks r JOIN stations s ON s.id = r.station_id WHERE floor = $1 AND rack_id = $2', [
        'First',
        rackId,
      ])
    ).rows;

  it('rack_saved@1: the later version wins (then the greater station name); an older one changes nothing', async () => {
    expect((await dock1.push([rack('R9', 2_000, 'nine (Dock 1)')])).body.results[0].status).toBe('ok');
    const older = await dock2.push([rack('R9', 1_000, 'nine (Dock 2, older)')]);
    expect(older.body.results[0]).toMatchObject({ status: 'ok' });
    expect(older.body.results[0].message).toContain('A newer version of rack R9 (First) is on the site (saved at Dock 1 by admin');
    expect(await siteRack('R9')).toEqual([{ name: 'nine (Dock 1)', station: 'Dock 1' }]);
    // Same updatedAt: the greater station name ("Dock 2") wins.
    expect((await dock2.push([rack('R9', 2_000, 'nine (Dock 2, tie)')])).body.results[0].status).toBe('ok');
    expect(await siteRack('R9')).toEqual([{ name: 'nine (Dock 2, tie)', station: 'Dock 2' }]);
    expect((await dock1.push([rack('R9', 2_000, 'nine (Dock 1, tie)')])).body.results[0].message).toContain('A newer version');
    expect((await dock1.push([rack('R9', 3_000, 'nine (Dock 1, later)')])).body.results[0].status).toBe('ok');
    expect(await siteRack('R9')).toEqual([{ name: 'nine (Dock 1, later)', station: 'Dock 1' }]);
    const names = (await feedEntries(dock2, 'rack_saved@1')).map((e) => (e.payload as { name: string }).name);
    expect(names).toEqual(['nine (Dock 1)', 'nine (Dock 2, tie)', 'nine (Dock 1, later)']);
    const bad = await dock1.push([{ ...rack('R/1', 1, 'x'), payload: { ...rack('R/1', 1, 'x').payload, rackId: 'R/1' } }]);
    expect(bad.body.results[0]).toMatchObject({ status: 'error', message: 'rack_saved@1 payload refused: rackId: rackId cannot contain "/"' });
  });

  it('a notice goes on the feed as notice@1 and is listed after since; a bad one is refused naming the field', async () => {
    const posted = await dock1.notice({ text: 'System maintenance at 14:00', by: 'boss' });
    expect(posted.status).toBe(200);
    expect(posted.body.notice).toMatchObject({ text: 'System maintenance at 14:00', by: 'boss', station: 'Dock 1', id: expect.any(Number) });
    const onFeed = await until('the notice on the feed', async () =>
      (await feedEntries(dock2, 'notice@1')).find((e) => (e.payload as { id: number }).id === posted.body.notice.id),
    );
    expect(onFeed.payload).toEqual(posted.body.notice);
    const listed = await dock2.notices(posted.body.notice.id - 1);
    expect(listed.body.notices).toEqual([posted.body.notice]);
    expect((await dock2.notices(posted.body.notice.id)).body.notices).toEqual([]);

    const tooLong = await dock1.notice({ text: 'x'.repeat(501), by: 'boss' });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.message).toBe('The request was refused: text: text is at most 500 characters');
    const noBy = await dock1.notice({ text: 'hello', by: '' });
    expect(noBy.body.error.message).toBe('The request was refused: by: by (the person) is required');
    expect(await count('SELECT count(*) n FROM notices')).toBe(1);
  });

  it('every lease answer carries the hub clock; lease_history records the claim and its release', async () => {
    const claimed = await dock1.claim({ resource: 'rack:Ground/RH', user: 'anna' });
    expect(Date.parse(claimed.body.now)).toBeGreaterThanOrEqual(Date.parse(claimed.body.lease.claimedAt));
    const renewed = await dock1.renew({ resource: 'rack:Ground/RH', leaseId: claimed.body.lease.leaseId });
    expect(typeof renewed.body.now).toBe('string');
    const refused = await dock2.claim({ resource: 'rack:Ground/RH', user: 'bob' });
    expect(refused.status).toBe(409);
    expect(typeof refused.body.now).toBe('string');
    const released = await dock1.release({ resource: 'rack:Ground/RH', leaseId: claimed.body.lease.leaseId });
    expect(typeof released.body.now).toBe('string');
    const { rows } = await admin.query('SELECT holder_user, claimed_at, ended_at, ended_how FROM lease_history WHERE lease_id = $1', [
      claimed.body.lease.leaseId,
    ]);
    expect(rows).toEqual([
      { holder_user: 'anna', claimed_at: new Date(claimed.body.lease.claimedAt), ended_at: new Date(released.body.now), ended_how: 'released' },
    ]);
  });
});
