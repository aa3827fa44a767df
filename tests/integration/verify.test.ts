import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnrolmentCode } from '../../src/hub/enrolment';
import { startErpSimulator, type ErpSimulator } from '../../src/simulators/odata-erp';
import type { VerifyChanged, VerifyLineView, VerifySessionView } from '../../src/shared/contract/verify';
import { releaseAll } from '../support/cleanup';
import { signInAs } from '../support/station';
import { stationOnErp } from '../support/erp';
import { hubClient, startHubDatabase, startHubProcess, until, type HubProcess } from '../support/hub';
import type { TestPostgres } from '../support/postgres';
import { eventually } from '../support/sheets';

/**
 * Stock verification on two stations (in this process, each with its own SQLite, both on the ERP
 * simulator for items) joined to one site through two hub processes on a real PostgreSQL. Leases
 * are the hub's (PostgreSQL's clock); heartbeats run when a test calls them, and records are sent
 * when a test drains the `verify` upstream.
 */
let postgres: TestPostgres;
let admin: pg.Pool;
let erp: ErpSimulator;
let hubs: HubProcess[];

async function stationAt(hubUrl: string, name: string, person: string) {
  const key = name.toLowerCase().replace(/\s+/g, '');
  // People are site-wide: each station's admin and counter are their own people.
  const t = await stationOnErp(erp.url, erp.users, { verifyHeartbeatMs: 0, syncIntervalMs: 0 }, `boss-${key}`);
  // A rack saved while the station is still on its own goes to the site when it joins.
  await t.admin.ok('verify/rack-save', { rackId: `PRE-${key}`, floor: 'Ground', name: 'Saved before joining' });
  const { code } = await createEnrolmentCode(admin, 1);
  await t.admin.ok('site/join', { url: hubUrl, code, stationName: name });
  const w = await t.signedIn('dispatcher', person);
  await w.ok('verify/items-refresh', {});
  const rack = async (rackId: string) => t.admin.ok('verify/rack-save', { rackId, floor: 'Ground' });
  const sendRecords = () => t.station.sync.drain('verify', { force: true });
  const sendOps = () => t.station.sync.drain('bags', { force: true });
  return { ...t, w, key, rack, sendRecords, sendOps, name, person };
}
type At = Awaited<ReturnType<typeof stationAt>>;
let a: At;
let b: At;

/** The rack exists at both stations (saved at each; the site keeps the newer). */
async function rackAtBoth(rackId: string) {
  await a.rack(rackId);
  await b.rack(rackId);
}
const item = (t: At, n: number) => t.station.items.byCode(`DD-ITEM-${String(n).padStart(4, '0')}`)!;
const line = (t: At, s: VerifySessionView, n: number, verified: number, damaged: number, serials: string[] = []) =>
  t.w.call('verify/line-save', { sessionId: s.id, itemCode: item(t, n).itemCode, verified, damaged, serials });

beforeAll(async () => {
  ({ postgres, admin } = await startHubDatabase());
  erp = await startErpSimulator({ ordersPerOrg: 5, itemsPerOrg: 40 });
  hubs = await Promise.all([startHubProcess(postgres.url), startHubProcess(postgres.url)]);
  a = await stationAt(hubs[0].url, 'Dock 1', 'dana');
  b = await stationAt(hubs[1].url, 'Dock 2', 'bob');
  await eventually(() => a.station.site.status().connected && b.station.site.status().connected, 'both stations follow the feed', 30_000);
}, 180_000);
afterAll(releaseAll, 60_000);

describe('items from the ERP', () => {
  it('finds items by the start of words in code, name or description (FTS5), accents ignored, and by scanned barcode or code', async () => {
    const found = await a.w.ok('verify/items-search', { text: 'blue dre', limit: 50 });
    expect(found.length).toBeGreaterThan(0);
    for (const i of found) expect(i.name).toMatch(/Blue Dream/);
    const cafe = await a.w.ok('verify/items-search', { text: 'cafe ole', limit: 50 });
    expect(cafe.length).toBeGreaterThan(0);
    for (const i of cafe) expect(i.name).toContain('Café Olé');
    expect(await a.w.ok('verify/items-search', { text: '"* OR (', limit: 5 })).toEqual([]);
    const first = erp.items.DD[0];
    expect(await a.w.ok('verify/item-by-code', { code: first.BarcodeNo })).toMatchObject({ itemCode: first.ItemCode, name: first.ItemName });
    expect(await a.w.ok('verify/item-by-code', { code: first.ItemCode })).toMatchObject({ barcode: first.BarcodeNo });
    expect(await a.w.ok('verify/item-by-code', { code: 'NOPE' })).toBeNull();
  });
});

describe('racks', () => {
  it('a rack an admin saves at one station reaches the other through the hub, audited at both', async () => {
    const saved = await a.admin.ok('verify/rack-save', { rackId: 'R100', floor: 'Mezzanine', name: 'Returns' });
    expect(saved).toMatchObject({ rackId: 'R100', floor: 'Mezzanine', name: 'Returns', active: true, updatedBy: 'boss-dock1' });
    await a.sendOps();
    await eventually(() => b.station.racks.get('R100', 'Mezzanine')?.name === 'Returns', 'the rack reaches Dock 2', 30_000);
    expect(b.station.racks.get('PRE-dock1', 'Ground')).toMatchObject({ name: 'Saved before joining', station: 'Dock 1' });
    const audit = b.station.database.sqlite
      .prepare("SELECT detail FROM audit_log WHERE action = 'rack.synced' AND entity_id = ?")
      .pluck()
      .all('rack:Mezzanine/R100');
    expect(audit).toEqual([expect.stringMatching(/^saved at Dock 1 by boss-dock1; site feed seq \d+$/)]);
    expect(a.station.database.sqlite.prepare("SELECT count(*) FROM audit_log WHERE action = 'rack.created'").pluck().get()).toBeGreaterThan(0);
  });

  it('refuses a rack id with a slash in words, naming the field', async () => {
    const r = await a.admin.call('verify/rack-save', { rackId: 'R/1', floor: 'Ground' });
    expect(r).toMatchObject({ ok: false, error: { code: 'invalid', issues: [{ path: 'rackId' }] } });
  });

  it('imports racks from a CSV file with Rack and Floor columns; a bad row refuses the file naming its line', async () => {
    const csv = 'Rack,Floor,Name\nC1,Upper,Cold room\nC2,Upper,\n';
    const r = await a.admin.ok('verify/racks-import', { fileName: 'racks.csv', content: Buffer.from(csv).toString('base64') });
    expect(r).toEqual({ created: 2, updated: 0, unchanged: 0 });
    expect(a.station.racks.get('C1', 'Upper')?.name).toBe('Cold room');
    const bad = await a.admin.call('verify/racks-import', { fileName: 'racks.csv', content: Buffer.from('Rack,Floor\nC3,\n').toString('base64') });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid', message: 'racks.csv, line 2: the floor is empty; nothing was imported' } });
    expect(a.station.racks.get('C3', 'Upper')).toBeNull();
  });
});

describe('claiming a rack', () => {
  it('a second person is refused naming who holds the rack and since when; the claim reaches the other station live', async () => {
    await rackAtBoth('R1');
    const s = await a.w.ok('verify/claim', { rackId: 'R1', floor: 'Ground' });
    expect(s).toMatchObject({ rackId: 'R1', floor: 'Ground', user: 'dana', status: 'open', lapsed: false, linesCounted: 0 });
    expect(s.leaseRemainingMs).toBeGreaterThan(50_000);
    const refused = await b.w.call('verify/claim', { rackId: 'R1', floor: 'Ground' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'conflict' } });
    if (!refused.ok) expect(refused.error.message).toMatch(/^R1 on Ground is being counted by dana at Dock 1 since \d\d:\d\d$/);
    await eventually(() => b.station.racks.list(false).find((r) => r.rackId === 'R1')?.lease?.user === 'dana', 'Dock 2 sees the claim', 30_000);
    await b.w.event((e) => e.event === 'verify/changed' && (e.data as VerifyChanged).what === 'leases');
  });

  it('the heartbeat renews the lease at the hub while the session is open', async () => {
    const held = (await a.w.ok('verify/session', {}))!;
    const token = a.station.secrets.get('hub-token')!;
    const leaseAtHub = async () =>
      ((await hubClient(hubs[0].url, token).leases(`rack:Ground/${held.rackId}`)).body as { leases: { expiresAt: string }[] }).leases[0]?.expiresAt;
    const before = Date.parse((await leaseAtHub())!);
    // PostgreSQL's clock moves on (real time) before the renewal.
    await until('a little time to pass', async () => Date.now() >= before - 60_000 + 100);
    await a.station.verify.heartbeat();
    expect(Date.parse((await leaseAtHub())!)).toBeGreaterThan(before);
    expect((await a.w.ok('verify/session', {}))?.lapsed).toBe(false);
  });

  it('a claim is renewed only while its person is signed in at the station; signed in again, the heartbeat renews it', async () => {
    const held = (await a.w.ok('verify/session', {}))!;
    const token = a.station.secrets.get('hub-token')!;
    const leaseAtHub = async () =>
      ((await hubClient(hubs[0].url, token).leases(`rack:Ground/${held.rackId}`)).body as { leases: { expiresAt: string }[] }).leases[0]?.expiresAt;
    await a.w.ok('auth/logout', {});
    const before = await leaseAtHub();
    await until('a little time to pass', async () => Date.now() >= Date.parse(before!) - 60_000 + 100);
    await a.station.verify.heartbeat();
    // Nobody renewed it: it runs out at the hub by itself and the rack is free for others.
    expect(await leaseAtHub()).toBe(before);
    await signInAs(a, a.w, 'dana', 'password-123');
    await a.station.verify.heartbeat();
    expect(Date.parse((await leaseAtHub())!)).toBeGreaterThan(Date.parse(before!));
  });

  it('only the holder releases: after the holder cancels, the other station sees the rack free live and claims it', async () => {
    const held = (await a.w.ok('verify/session', {}))!;
    await a.w.ok('verify/release', { sessionId: held.id });
    await eventually(() => !b.station.racks.list(false).find((r) => r.rackId === held.rackId)?.lease, 'Dock 2 sees the rack free', 30_000);
    const s = await b.w.ok('verify/claim', { rackId: held.rackId, floor: 'Ground' });
    expect(s.user).toBe('bob');
    const audit = a.station.database.sqlite.prepare("SELECT action FROM audit_log WHERE action LIKE 'verify.%' ORDER BY id").pluck().all();
    expect(audit).toEqual(expect.arrayContaining(['verify.claimed', 'verify.cancelled']));
  });

  it('a renewal the hub refuses (the lease was ended behind the session) lapses the session and tells the person', async () => {
    await rackAtBoth('R10');
    const open = await a.w.ok('verify/session', {});
    if (open) await a.w.ok('verify/release', { sessionId: open.id });
    const s = await a.w.ok('verify/claim', { rackId: 'R10', floor: 'Ground' });
    // Ended at the hub with this station's own token: its feed skips its own entries, so only the renewal finds out.
    const ended = await hubClient(hubs[0].url, a.station.secrets.get('hub-token')!).release({ resource: 'rack:Ground/R10', leaseId: s.leaseId! });
    expect(ended.status).toBe(200);
    await a.station.verify.heartbeat();
    const told = await a.w.event((e) => e.event === 'verify/changed' && !!(e.data as VerifyChanged).message?.includes('R10'));
    expect((told.data as VerifyChanged).message).toBe('Your claim on R10 on Ground was lost: lines counted from now are flagged for review');
    const hud = (await a.w.ok('verify/session', {}))!;
    expect(hud).toMatchObject({ lapsed: true, leaseRemainingMs: null });
    expect(hud.lapsedReason).toMatch(/^The claim on R10 on Ground was lost: /);
    const l = await line(a, hud, 3, 1, 0);
    expect(l.ok && l.value.lapsed).toBe(true);
    // Claimed again, the same session counts on under a new lease.
    const again = await a.w.ok('verify/claim', { rackId: 'R10', floor: 'Ground' });
    expect(again).toMatchObject({ id: s.id, lapsed: false, linesCounted: 1 });
    expect(again.leaseId).not.toBe(s.leaseId);
    const fresh = await line(a, again, 4, 1, 0);
    expect(fresh.ok && fresh.value.lapsed).toBe(false);
    await a.w.ok('verify/release', { sessionId: s.id });
  });

  it('an admin at one station breaks a claim held at the other: audited, the holder is told why, and their later lines are flagged lapsed', async () => {
    const held = (await b.w.ok('verify/session', {}))!;
    await a.admin.ok('verify/break', { rackId: held.rackId, floor: 'Ground', reason: 'Bob went home' });
    const told = await b.w.event((e) => e.event === 'verify/changed' && !!(e.data as VerifyChanged).message?.includes('Bob went home'));
    expect((told.data as VerifyChanged).message).toBe(
      `boss-dock1 at Dock 1 broke your claim on ${held.rackId} on Ground: Bob went home. Lines counted from now are flagged for review`,
    );
    const now = (await b.w.ok('verify/session', {}))!;
    expect(now).toMatchObject({ lapsed: true, leaseRemainingMs: null });
    const l = await line(b, now, 1, 2, 0);
    expect(l.ok && l.value.lapsed).toBe(true);
    const audit = a.station.database.sqlite.prepare("SELECT detail, before FROM audit_log WHERE action = 'verify.lease-broken'").all();
    expect(audit).toEqual([{ detail: 'Bob went home', before: expect.stringContaining('"user":"bob"') }]);
    await b.w.ok('verify/release', { sessionId: now.id });
  });
});

describe('counting', () => {
  it('damage above verified and a serial already counted are refused in words, naming the field and where the serial is', async () => {
    await rackAtBoth('R3');
    await rackAtBoth('R4');
    const s = await a.w.ok('verify/claim', { rackId: 'R3', floor: 'Ground' });
    const over = await line(a, s, 1, 2, 3);
    expect(over).toMatchObject({
      ok: false,
      error: { code: 'invalid', message: 'Damaged (3) cannot be more than verified (2)', issues: [{ path: 'damaged' }] },
    });
    expect((await line(a, s, 1, 3, 1, ['SN-A1', 'SN-A2'])).ok).toBe(true);
    const dup = await line(a, s, 2, 1, 0, ['SN-A2']);
    expect(dup).toMatchObject({
      ok: false,
      error: { code: 'conflict', message: 'Serial SN-A2 is already counted on R3 on Ground (item DD-ITEM-0001) by dana at this station' },
    });
    const twice = await line(a, s, 2, 2, 0, ['SN-A9', 'SN-A9']);
    expect(twice).toMatchObject({ ok: false, error: { code: 'invalid', issues: [{ path: 'serials' }] } });
    expect((await a.w.ok('verify/session', {}))?.linesCounted).toBe(1);
  });

  it('lines can be edited and deleted before finalize; finalized lines sync as records and their serials are refused at the other station', async () => {
    const s = (await a.w.ok('verify/session', {}))!;
    const extra = await line(a, s, 5, 1, 0);
    if (!extra.ok) throw new Error(extra.error.message);
    const edited = await a.w.ok('verify/line-save', {
      sessionId: s.id,
      clientRecordId: extra.value.clientRecordId,
      itemCode: item(a, 5).itemCode,
      verified: 4,
      damaged: 1,
      serials: ['SN-A3'],
    });
    expect(edited).toMatchObject({ verified: 4, damaged: 1, serials: ['SN-A3'], status: 'draft' });
    const gone = await line(a, s, 6, 1, 0);
    if (!gone.ok) throw new Error(gone.error.message);
    await a.w.ok('verify/line-delete', { clientRecordId: gone.value.clientRecordId });
    const done = await a.w.ok('verify/finalize', { sessionId: s.id });
    expect(done).toMatchObject({ status: 'finalized', linesCounted: 2, recordsWaiting: 2 });
    await a.sendRecords();
    const lines = a.station.database.sqlite.prepare('SELECT status FROM verify_lines WHERE session_id = ?').pluck().all(s.id);
    expect(lines).toEqual(['ok', 'ok']);
    // The hub's verify_recorded@1 tells Dock 2 where the serials are.
    const sb = await b.w.ok('verify/claim', { rackId: 'R4', floor: 'Ground' });
    await until('Dock 2 knows the serial', async () => {
      const r = await line(b, sb, 2, 1, 0, ['SN-A1']);
      return !r.ok && r.error.message === 'Serial SN-A1 is already recorded on R3 on Ground by dana at Dock 1';
    });
    await b.w.ok('verify/release', { sessionId: sb.id });
  });

  it('lines made after the lease ran out on the station clock are flagged; the hub answers lease_lapsed; the conflict is listed with its reason and resolved (audited)', async () => {
    const s = await a.w.ok('verify/claim', { rackId: 'R4', floor: 'Ground' });
    const inTime = await line(a, s, 7, 1, 0);
    expect(inTime.ok && inTime.value.lapsed).toBe(false);
    a.clock.advance(61_000);
    const hud = (await a.w.ok('verify/session', {}))!;
    expect(hud).toMatchObject({ lapsed: true, leaseRemainingMs: 0 });
    const late = await line(a, s, 8, 2, 1);
    if (!late.ok) throw new Error(late.error.message);
    expect(late.value.lapsed).toBe(true);
    await a.w.ok('verify/finalize', { sessionId: s.id });
    await a.sendRecords();
    const open = await a.w.ok('verify/conflicts', { status: 'open' });
    const refused = open.find((c) => c.clientRecordId === late.value.clientRecordId) as VerifyLineView;
    expect(refused).toMatchObject({ status: 'conflict', hubCode: 'lease_lapsed', lapsed: true });
    expect(refused.hubReason).toBeTruthy();
    expect(open.map((c) => c.clientRecordId)).not.toContain(inTime.ok && inTime.value.clientRecordId);

    const other = await a.signedIn('dispatcher', 'otto');
    expect(await other.call('verify/resolve', { clientRecordId: refused.clientRecordId, action: 'accept' })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    const resolved = await a.w.ok('verify/resolve', { clientRecordId: refused.clientRecordId, action: 'discard' });
    expect(resolved).toMatchObject({ status: 'discarded', resolvedBy: 'dana' });
    expect(await a.w.ok('verify/conflicts', { status: 'open' })).toEqual([]);
    const audit = a.station.database.sqlite.prepare("SELECT username, before, after FROM audit_log WHERE action = 'verify.resolved'").all();
    expect(audit).toEqual([{ username: 'dana', before: expect.stringContaining('lease_lapsed'), after: '{"action":"discard"}' }]);
  });

  it('the same serial counted at both stations before either synced: the hub takes the first and lists serial_taken at the other, which recounts', async () => {
    await rackAtBoth('R5');
    await rackAtBoth('R6');
    const sa = await a.w.ok('verify/claim', { rackId: 'R5', floor: 'Ground' });
    const sb = await b.w.ok('verify/claim', { rackId: 'R6', floor: 'Ground' });
    expect((await line(a, sa, 9, 1, 0, ['SN-BOTH'])).ok).toBe(true);
    const atB = await line(b, sb, 9, 1, 0, ['SN-BOTH']);
    if (!atB.ok) throw new Error(atB.error.message);
    await a.w.ok('verify/finalize', { sessionId: sa.id });
    await a.sendRecords();
    await b.w.ok('verify/finalize', { sessionId: sb.id });
    await b.sendRecords();
    const [c] = await b.w.ok('verify/conflicts', { status: 'open' });
    expect(c).toMatchObject({ clientRecordId: atB.value.clientRecordId, hubCode: 'serial_taken' });
    expect(c.hubReason).toContain('SN-BOTH');
    // Recount: a draft line in a new session on the same rack.
    const again = await b.w.ok('verify/claim', { rackId: 'R6', floor: 'Ground' });
    await b.w.ok('verify/resolve', { clientRecordId: c.clientRecordId, action: 'recount' });
    const hud = (await b.w.ok('verify/session', {}))!;
    expect(hud.id).toBe(again.id);
    expect(hud.lines).toEqual([expect.objectContaining({ itemCode: item(b, 9).itemCode, verified: 1, serials: [], status: 'draft' })]);
    await b.w.ok('verify/release', { sessionId: again.id });
  });
});

describe('records in batches', () => {
  it('150 finalized lines go to the hub in batches of at most 100 and every one is answered ok', async () => {
    await rackAtBoth('R9');
    const s = await a.w.ok('verify/claim', { rackId: 'R9', floor: 'Ground' });
    for (let i = 0; i < 150; i++) {
      const r = await line(a, s, (i % 40) + 1, 1, 0, [`SN-R9-${i}`]);
      if (!r.ok) throw new Error(r.error.message);
    }
    const before = ((await hubClient(hubs[0].url, a.station.secrets.get('hub-token')!).feed(0, 1000)).body as { next: number }).next;
    await a.w.ok('verify/finalize', { sessionId: s.id });
    await a.sendRecords();
    const statuses = a.station.database.sqlite
      .prepare('SELECT status, count(*) AS n FROM verify_lines WHERE session_id = ? GROUP BY status')
      .all(s.id);
    expect(statuses).toEqual([{ status: 'ok', n: 150 }]);
    // The hub puts each accepted batch on the feed as one verify_recorded@1.
    const page = (await hubClient(hubs[0].url, a.station.secrets.get('hub-token')!).feed(before, 1000)).body as {
      entries: { op: string; payload: { records: unknown[] } }[];
    };
    const batches = page.entries.filter((e) => e.op === 'verify_recorded@1').map((e) => e.payload.records.length);
    expect(batches).toEqual([100, 50]);
    expect((await a.w.ok('verify/session', {})) ?? null).toBeNull();
  });
});

describe('notices and the hub away', () => {
  it('a notice an admin posts at one station reaches the other', async () => {
    const posted = await a.admin.ok('verify/notice-post', { text: 'System maintenance at 14:00' });
    expect(posted).toMatchObject({ text: 'System maintenance at 14:00', by: 'boss-dock1', station: 'Dock 1' });
    expect((await b.w.call('verify/notice-post', { text: 'x' })).ok).toBe(false);
    await until('Dock 2 shows the notice', async () => (await b.w.ok('verify/notices', {})).some((n) => n.text === 'System maintenance at 14:00'));
  });

  it('without the hub a new claim is refused in words; a held claim shows its time left, counting goes on and lines after it ran out are flagged', async () => {
    const hub = await startHubProcess(postgres.url);
    const c = await stationAt(hub.url, 'Dock 3', 'cara');
    await c.rack('R7');
    await c.rack('R8');
    const s = await c.w.ok('verify/claim', { rackId: 'R7', floor: 'Ground' });
    hub.kill('SIGKILL');
    await hub.closed;
    const refused = await c.admin.call('verify/claim', { rackId: 'R8', floor: 'Ground' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    if (!refused.ok) expect(refused.error.message).toMatch(/^The site hub cannot be reached: R8 on Ground cannot be claimed offline/);
    await c.station.verify.heartbeat();
    c.clock.advance(30_000);
    const hud = (await c.w.ok('verify/session', {}))!;
    expect(hud).toMatchObject({ hubReachable: false, lapsed: false });
    expect(hud.leaseRemainingMs).toBeGreaterThan(0);
    expect(hud.leaseRemainingMs).toBeLessThanOrEqual(30_000);
    const before = await line(c, s, 1, 1, 0);
    expect(before.ok && before.value.lapsed).toBe(false);
    c.clock.advance(31_000);
    await c.station.verify.heartbeat();
    const after = await line(c, s, 2, 1, 0);
    expect(after.ok && after.value.lapsed).toBe(true);
    expect((await c.w.ok('verify/session', {}))?.lapsedReason).toBe('The claim on R7 on Ground ran out while the site hub could not be reached');
  }, 120_000);
});
