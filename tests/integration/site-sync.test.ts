import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnrolmentCode, revokeStation } from '../../src/hub/enrolment';
import { releaseAll } from '../support/cleanup';
import { startHubDatabase, startHubProcess, until, type HubProcess } from '../support/hub';
import type { TestPostgres } from '../support/postgres';
import { freePort } from '../support/postgres';
import { eventually } from '../support/sheets';
import { makeStation, tempDir, withAdmin } from '../support/station';

/**
 * Two stations (in this process, each with its own SQLite) joined to one site through two hub
 * processes on a real PostgreSQL: the station's hub transport, feed follower and conflicts.
 * Pushes happen when a test drains a station's outbox, so "offline" is a station that has not
 * sent yet; the feed follows by itself.
 */
let postgres: TestPostgres;
let admin: pg.Pool;
let hubs: HubProcess[];
let hubPorts: number[];

const adminOf = (name: string) => `boss-${name.toLowerCase().replace(/\s+/g, '')}`;

async function stationAt(hubUrl: string, name: string) {
  // People are site-wide: each station's first admin is its own person.
  const t = await withAdmin({ syncIntervalMs: 0 }, adminOf(name));
  await t.admin.ok('settings/update', { targetChildrenPerParent: 30 });
  const { code } = await createEnrolmentCode(admin, 1);
  const joined = await t.admin.ok('site/join', { url: hubUrl, code, stationName: name });
  const w = await t.signedIn('dispatcher', `${name.toLowerCase().replace(/\s+/g, '')}d`);
  const scan = (code: string) => w.ok('bags/scan', { code, source: 'wedge' });
  const parentOf = (child: string) =>
    (t.station.database.sqlite
      .prepare('SELECT p.code FROM bag_links l JOIN bags c ON c.id = l.child_id JOIN bags p ON p.id = l.parent_id WHERE c.code = ?')
      .pluck()
      .get(child) as string | undefined) ?? null;
  const push = () => t.station.sync.drain('bags', { force: true });
  return { ...t, w, scan, parentOf, push, joined };
}

let a: Awaited<ReturnType<typeof stationAt>>;
let b: Awaited<ReturnType<typeof stationAt>>;

beforeAll(async () => {
  ({ postgres, admin } = await startHubDatabase());
  hubPorts = [await freePort(), await freePort()];
  hubs = await Promise.all(hubPorts.map((p) => startHubProcess(postgres.url, ['--port', String(p)])));
  a = await stationAt(hubs[0].url, 'Dock 1');
  b = await stationAt(hubs[1].url, 'Dock 2');
  await eventually(() => a.station.site.status().connected && b.station.site.status().connected, 'both stations follow the feed', 30_000);
}, 180_000);
afterAll(releaseAll, 60_000);

describe('a station joined to a site hub', () => {
  it('joins with a one-time code: the membership is kept, the station takes its site name, the token only in the secret store, the join audited', async () => {
    expect(a.joined.member).toMatchObject({ url: hubs[0].url, stationName: 'Dock 1', joinedBy: 'boss-dock1' });
    expect((await a.admin.ok('settings/get', {})).stationName).toBe('Dock 1');
    expect(a.station.secrets.get('hub-token')).toMatch(/\S{16,}/);
    const settingsText = JSON.stringify(a.station.database.sqlite.prepare('SELECT value FROM settings').pluck().all());
    expect(settingsText).not.toContain(a.station.secrets.get('hub-token'));
    const audit = await a.admin.ok('audit/list', { action: 'site.joined' });
    expect(JSON.stringify(audit)).toContain('Dock 1');
  });

  it('refuses a used code and a wrong address in words, and stays standalone', async () => {
    const t = await withAdmin({ syncIntervalMs: 0 });
    const { code } = await createEnrolmentCode(admin, 1);
    await t.admin.ok('site/join', { url: hubs[0].url, code, stationName: 'Dock 9' });
    const again = await withAdmin({ syncIntervalMs: 0 });
    const used = await again.admin.call('site/join', { url: hubs[0].url, code, stationName: 'Dock 10' });
    expect(used).toMatchObject({ ok: false, error: { code: 'invalid' } });
    if (!used.ok) expect(used.error.message).toMatch(/enrolment/i);
    const nowhere = await again.admin.call('site/join', { url: `http://127.0.0.1:${await freePort()}`, code: 'ABCD-EFGH', stationName: 'Dock 10' });
    expect(nowhere).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    const { code: fresh } = await createEnrolmentCode(admin, 1);
    const taken = await again.admin.call('site/join', { url: hubs[0].url, code: fresh, stationName: 'Dock 1' });
    expect(taken).toMatchObject({ ok: false, error: { code: 'invalid', issues: [{ path: 'stationName' }] } });
    if (!taken.ok) expect(taken.error.message).toContain('A station named “Dock 1” is already enrolled');
    const bad = await again.admin.call('site/join', { url: 'ftp://hub', code: '', stationName: 'Dock 10' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid' } });
    expect((await again.admin.ok('site/status', {})).member).toBeNull();
    // A dispatcher cannot join or leave a site.
    const d = await again.signedIn('dispatcher', 'd9');
    expect(await d.call('site/join', { url: hubs[0].url, code: 'X', stationName: 'Y' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('a link made at door 1 reaches door 2 through the feed, and door 2 refuses the same child naming door 1', async () => {
    await a.scan('SB10001');
    expect(await a.scan('C-100')).toMatchObject({ result: 'linked' });
    await a.push();
    await eventually(() => b.parentOf('C-100') === 'SB10001', 'door 2 has the link', 30_000);
    await b.scan('SB20001');
    const refused = await b.scan('C-100');
    expect(refused).toMatchObject({ result: 'conflict', otherParent: 'SB10001' });
    expect(refused.message).toBe('C-100 is already on parent SB10001 (linked at Dock 1 by dock1d)');
  });

  it('two doors offline link one child to two parents: the first to reach the hub wins, the other gets a conflict naming it, and both replicas end with the winner', async () => {
    await a.scan('SB10002');
    await a.scan('C-200');
    await b.scan('SB20002');
    await b.scan('C-200');
    await a.push();
    await b.push();
    await eventually(() => b.station.site.conflicts.openCount() === 1, 'door 2 shows the conflict', 30_000);
    const [c] = b.station.site.conflicts.list();
    expect(c).toMatchObject({
      what: 'Linked C-200 to SB20002',
      child: 'C-200',
      parent: 'SB20002',
      winner: { parent: 'SB10002', station: 'Dock 1', user: 'dock1d' },
      by: 'dock2d',
      canMove: true,
      status: 'open',
    });
    expect(c.message).toContain('C-200 is on SB10002');
    await eventually(() => b.parentOf('C-200') === 'SB10002', 'door 2 follows the site', 30_000);
    expect(a.parentOf('C-200')).toBe('SB10002');
    const { rows } = await admin.query('SELECT parent_code FROM bag_links WHERE child_code = $1', ['C-200']);
    expect(rows).toEqual([{ parent_code: 'SB10002' }]);
    // Door 2's refused op is answered, not waiting and not stuck.
    expect(b.station.sync.stuck()).toEqual([]);
  });

  it('the dispatcher moves the bag to their parent: audited, applied at the hub, and door 1 follows', async () => {
    const [c] = b.station.site.conflicts.list();
    const moved = await b.w.ok('site/resolve', { id: c.id, action: 'move' });
    expect(moved).toMatchObject({ status: 'moved', resolvedBy: 'dock2d' });
    expect(b.parentOf('C-200')).toBe('SB20002');
    expect(b.station.site.conflicts.openCount()).toBe(0);
    await b.push();
    const { rows } = await admin.query('SELECT parent_code FROM bag_links WHERE child_code = $1', ['C-200']);
    expect(rows).toEqual([{ parent_code: 'SB20002' }]);
    await eventually(() => a.parentOf('C-200') === 'SB20002', 'door 1 follows the move', 30_000);
    const audit = await b.admin.ok('audit/list', { action: 'site.conflict_moved' });
    expect(JSON.stringify(audit)).toContain('C-200');
    // Resolved once: a second resolution is refused in words.
    const twice = await b.w.call('site/resolve', { id: c.id, action: 'accept' });
    expect(twice).toMatchObject({ ok: false, error: { code: 'conflict' } });
  });

  it('keeping the site’s version leaves the replica on the winner, audited; a biller may not resolve', async () => {
    await a.scan('SB10003');
    await a.scan('C-300');
    await b.scan('SB20003');
    await b.scan('C-300');
    await a.push();
    await b.push();
    await eventually(() => b.station.site.conflicts.openCount() === 1, 'door 2 shows the conflict', 30_000);
    const [c] = b.station.site.conflicts.list();
    const biller = await b.signedIn('biller', 'bill2');
    expect(await biller.call('site/resolve', { id: c.id, action: 'accept' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect((await biller.ok('site/conflicts', { status: 'open' })).map((x) => x.id)).toEqual([c.id]);
    expect(await b.w.ok('site/resolve', { id: c.id, action: 'accept' })).toMatchObject({ status: 'accepted' });
    await eventually(() => b.parentOf('C-300') === 'SB10003', 'door 2 keeps the site’s link', 30_000);
    const { rows } = await admin.query('SELECT count(*)::int AS n FROM feed WHERE op = $1', ['move_child@1']);
    expect(rows[0].n).toBe(1); // only the earlier move
  });

  it('a bill finalized at door 1 closes its parent at door 2', async () => {
    await a.scan('SB10004');
    await a.scan('C-400');
    const biller = await a.signedIn('biller', 'bill1');
    const bill = await biller.ok('bills/create', {});
    await biller.ok('bills/add-parent', { billId: bill.id, code: 'SB10004' });
    await biller.ok('bills/finalize', { billId: bill.id });
    await a.push();
    await eventually(
      () => !!b.station.database.sqlite.prepare("SELECT 1 FROM site_bill_parents WHERE parent_code = 'SB10004'").get(),
      'door 2 knows the bill',
      30_000,
    );
    const scanned = await b.scan('SB10004');
    expect(scanned).toMatchObject({ result: 'bill_closed' });
    expect(scanned.message).toContain('(Dock 1)');
  });

  it('a hub that stops and starts again: the station reconnects and catches up from its last applied seq', async () => {
    hubs[1].kill('SIGKILL');
    await hubs[1].closed;
    await eventually(() => !b.station.site.status().connected, 'door 2 sees the hub gone', 30_000);
    expect(b.station.site.status().problem).toBeTruthy();
    await a.scan('SB10005');
    await a.scan('C-500');
    await a.push();
    hubs[1] = await startHubProcess(postgres.url, ['--port', String(hubPorts[1])]);
    await eventually(() => b.parentOf('C-500') === 'SB10005', 'door 2 caught up', 30_000);
    expect(b.station.site.status()).toMatchObject({ connected: true, problem: null });
    const { rows } = await admin.query('SELECT max(seq)::int AS seq FROM feed');
    await eventually(() => b.station.site.status().lastSeq === rows[0].seq, 'door 2 is at the last seq', 30_000);
  });

  it('the hub killed in the middle of the station’s batch: the station sends it again and every op is applied once', async () => {
    await a.scan('SB10006');
    for (let i = 0; i < 20; i++) await a.scan(`C-6${String(i).padStart(2, '0')}`);
    await a.scan('SB10007'); // the row the test holds: the hub applies what comes before it, then waits
    await a.scan('C-700');
    const ops = a.station.database.sqlite
      .prepare("SELECT op_id FROM outbox WHERE upstream = 'bags' AND status = 'pending'")
      .pluck()
      .all() as string[];
    const blocker = new pg.Client({ connectionString: postgres.url });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query(
      `INSERT INTO bags (code, kind, station_id, user_name, at) SELECT 'SB10007', 'parent', id, 'test', 0 FROM stations WHERE name = 'Dock 2'`,
    );
    const sending = a.push();
    await until('the hub to wait in the middle of the batch', async () => {
      const applied = await admin.query('SELECT count(*)::int AS n FROM received_ops WHERE op_id = ANY($1)', [ops]);
      const waiting = await admin.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`);
      return applied.rows[0].n > 0 && waiting.rowCount! > 0;
    });
    hubs[0].kill('SIGKILL');
    await hubs[0].closed;
    await sending;
    await blocker.query('ROLLBACK');
    await blocker.end();
    expect(a.station.sync.status().find((u) => u.upstream === 'bags')!.queued).toBe(ops.length); // no answer came: all still waiting
    hubs[0] = await startHubProcess(postgres.url, ['--port', String(hubPorts[0])]);
    await a.push();
    expect(a.station.sync.status().find((u) => u.upstream === 'bags')!.queued).toBe(0);
    const feed = await admin.query('SELECT op_id, count(*)::int AS n FROM feed WHERE op_id = ANY($1) GROUP BY op_id', [ops]);
    expect(feed.rows.every((r) => r.n === 1)).toBe(true);
    const received = await admin.query('SELECT count(*)::int AS n FROM received_ops WHERE op_id = ANY($1)', [ops]);
    expect(received.rows[0].n).toBe(ops.length);
    await eventually(() => b.parentOf('C-700') === 'SB10007' && b.parentOf('C-619') === 'SB10006', 'door 2 has the batch', 30_000);
  });

  it('PostgreSQL restarted: the hubs reconnect and the stations catch up', async () => {
    await postgres.restart('immediate');
    await a.scan('SB10008');
    await a.scan('C-800');
    await until('door 1 to reach the site after the restart', async () => {
      await a.push();
      return a.station.sync.status().find((u) => u.upstream === 'bags')!.queued === 0;
    });
    await eventually(() => b.parentOf('C-800') === 'SB10008', 'door 2 caught up after the restart', 60_000);
  });

  it('a station that worked alone before it joined sends what it holds: its links in requests of at most 5,000, and its finalized bills', async () => {
    const t = await withAdmin({ syncIntervalMs: 0 }, 'boss-alone');
    const sqlite = t.station.database.sqlite;
    // Months alone: 6,500 children on 65 parents, and one finalized bill.
    sqlite.transaction(() => {
      const bag = sqlite.prepare("INSERT INTO bags (code, kind, created_at, station_id, origin) VALUES (?, ?, 0, 'alone', 'import')");
      const link = sqlite.prepare('INSERT INTO bag_links (child_id, parent_id, linked_at) VALUES (?, ?, 0)');
      for (let p = 0; p < 65; p++) {
        const parent = Number(bag.run(`SB4${String(p).padStart(4, '0')}`, 'parent').lastInsertRowid);
        for (let c = 0; c < 100; c++) link.run(Number(bag.run(`C-ALONE-${p}-${c}`, 'child').lastInsertRowid), parent);
      }
    })();
    const biller = await t.signedIn('biller', 'billalone');
    const bill = await biller.ok('bills/create', {});
    await biller.ok('bills/add-parent', { billId: bill.id, code: 'SB40000' });
    await biller.ok('bills/finalize', { billId: bill.id });
    const { code } = await createEnrolmentCode(admin, 1);
    await t.admin.ok('site/join', { url: hubs[0].url, code, stationName: 'Dock Alone' });
    const pushed: number[] = [];
    for (let i = 0; i < 20 && t.station.sync.status().find((u) => u.upstream === 'bags')!.queued > 0; i++) {
      pushed.push((await t.station.sync.drainOnce('bags')).sent);
    }
    expect(t.station.sync.status().find((u) => u.upstream === 'bags')!.queued).toBe(0);
    // Seven import ops of up to 1,000 links, the bill and the people: the first request stops at 5,000 links.
    // (The bill's own op, queued before the join, went with the join.)
    expect(pushed[0]).toBe(5);
    const links = await admin.query("SELECT count(*)::int AS n FROM bag_links WHERE child_code LIKE 'C-ALONE-%'");
    expect(links.rows[0].n).toBe(6500);
    const billed = await admin.query("SELECT bill_number FROM bill_parents WHERE parent_code = 'SB40000'");
    expect(billed.rows).toEqual([{ bill_number: bill.number }]);
    await eventually(() => a.parentOf('C-ALONE-64-99') === 'SB40064', 'door 1 has the newcomer’s links', 30_000);
  }, 120_000);

  it('a person made at door 1 signs in at door 2 through the feed, and disabling them at door 1 signs them out at door 2', async () => {
    const made = await a.admin.ok('users/create', { username: 'roamer', displayName: 'Roamer', role: 'dispatcher', pin: '3917' });
    await a.push();
    const userAt = (t: typeof b, name: string) => t.station.database.sqlite.prepare('SELECT disabled FROM users WHERE username = ?').get(name);
    await eventually(() => !!userAt(b, 'roamer'), 'door 2 knows the person', 30_000);
    const w = b.window('roamer at door 2');
    await w.ok('auth/login', { username: 'roamer', secret: '3917' });
    expect(await w.ok('bags/scan', { code: 'SB20009', source: 'wedge' })).toMatchObject({ result: 'parent' });
    await a.admin.ok('users/update', { id: made.id, disabled: true });
    await a.push();
    await eventually(() => (userAt(b, 'roamer') as { disabled: number }).disabled === 1, 'door 2 has them disabled', 30_000);
    expect(await w.call('bags/scan', { code: 'SB20010', source: 'wedge' })).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    expect(await b.window('again').call('auth/login', { username: 'roamer', secret: '3917' })).toMatchObject({ ok: false });
  });

  it('a member station started again sends what waited and follows the feed at once (no “not a member” before its follower starts)', async () => {
    const dataDir = tempDir();
    const t = await withAdmin({ dataDir }, 'boss-restart');
    const { code } = await createEnrolmentCode(admin, 1);
    await t.admin.ok('site/join', { url: hubs[0].url, code, stationName: 'Dock R' });
    const w = await t.signedIn('dispatcher', 'dockr');
    await w.ok('bags/scan', { code: 'SB50001', source: 'wedge' });
    await w.ok('bags/scan', { code: 'C-R1', source: 'wedge' });
    await t.close();
    // Its clock stands still: a rest after a refused first push would never end.
    const again = await makeStation({ dataDir });
    await eventually(
      () => again.station.site.status().connected && again.station.sync.status().find((u) => u.upstream === 'bags')!.queued === 0,
      'the restarted station in step with the site',
      30_000,
    );
    expect(again.station.sync.lastError('bags')).toBeNull();
    const { rows } = await admin.query('SELECT parent_code FROM bag_links WHERE child_code = $1', ['C-R1']);
    expect(rows).toEqual([{ parent_code: 'SB50001' }]);
  });

  it('a revoked station is refused: its changes wait, and the status says why', async () => {
    const t = await stationAt(hubs[0].url, 'Dock 3');
    await revokeStation(admin, 'Dock 3');
    await t.scan('SB30001');
    await t.scan('C-900');
    await t.push();
    const waiting = t.station.database.sqlite
      .prepare("SELECT op FROM outbox WHERE upstream = 'bags' AND status = 'pending' AND op <> 'user_saved@1' ORDER BY seq")
      .pluck()
      .all();
    expect(waiting).toEqual(['bag_created@1', 'bag_created@1', 'link_child@1']);
    expect(t.station.sync.lastError('bags')).toMatch(/site hub refused this station/);
    const { rows } = await admin.query('SELECT count(*)::int AS n FROM bag_links WHERE child_code = $1', ['C-900']);
    expect(rows[0].n).toBe(0);
  });
});
