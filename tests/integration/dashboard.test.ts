import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedHidBus } from '../../src/main/scanners/simulated';
import { DASHBOARD_SQL } from '../../src/main/dashboard/figures';
import type { DashboardToday } from '../../src/shared/contract/dashboard';
import { ENTER, typed } from '../fixtures/hid-reports';
import { startBagsSimulator } from '../../src/simulators/bags-upstream';
import { onRelease, releaseAll } from '../support/cleanup';
import { bagRows, csv, importFile } from '../support/imports';
import { ManualClock, withAdmin, type TestWindow } from '../support/station';
import { ManualTimers } from '../support/timers';

afterEach(releaseAll);

const SYD = 'Australia/Sydney';
const H = 3_600_000;
/** Midnight starting Thursday 26 November 2026 in Sydney (UTC+11). */
const MIDNIGHT = Date.UTC(2026, 10, 25, 13);

async function station(at = MIDNIGHT + 10 * H, extra: Parameters<typeof withAdmin>[0] = {}) {
  const clock = new ManualClock(at);
  const timers = new ManualTimers(clock);
  const t = await withAdmin({ clock, timers, timeZone: SYD, ...extra });
  const sqlite = t.station.database.sqlite;
  const stationId = t.station.settings.stationId();
  const userId = (username: string) => (sqlite.prepare('SELECT id FROM users WHERE username = ?').get(username) as { id: number }).id;
  const insScan = sqlite.prepare(
    "INSERT INTO scans (at, user_id, station_id, source, device, raw, code, result, message) VALUES (?, ?, ?, ?, ?, 'x', 'X', ?, 'seeded')",
  );
  const scan = (at: number, user: number | null, result = 'linked', source = 'wedge', device: string | null = null, station = stationId) =>
    insScan.run(at, user, station, source, device, result);
  const insBag = sqlite.prepare("INSERT INTO bags (code, kind, created_at, station_id, origin) VALUES (?, ?, ?, 'x', 'scan')");
  let bagN = 0;
  const bag = (at: number, kind: 'parent' | 'child') => insBag.run(`B${++bagN}`, kind, at);
  const insBill = sqlite.prepare('INSERT INTO bills (number, status, created_at, finalized_at) VALUES (?, ?, ?, ?)');
  let billN = 0;
  const bill = (createdAt: number, finalizedAt: number | null) =>
    insBill.run(`X-${++billN}`, finalizedAt === null ? 'draft' : 'finalized', createdAt, finalizedAt);
  const insJob = sqlite.prepare('INSERT INTO jobs (kind, status, created_at) VALUES (?, ?, ?)');
  const job = (kind: string, status: string, at: number) => insJob.run(kind, status, at);
  const insOutbox = sqlite.prepare(
    "INSERT INTO outbox (op_id, op, upstream, payload, status, created_at, updated_at) VALUES (?, 'link_child@1', ?, '{}', ?, 0, 0)",
  );
  let opN = 0;
  const outbox = (upstream: string, status: string) => insOutbox.run(`seed-${++opN}`, upstream, status);
  return { ...t, timers, sqlite, stationId, userId, scan, bag, bill, job, outbox };
}

const today = (w: TestWindow) => w.ok('dashboard/today', {});
const pushes = (w: TestWindow) => w.events.filter((e) => e.event === 'dashboard/changed').length;

describe('dashboard figures', () => {
  it('counts today only, in the station’s zone: the millisecond before local midnight is yesterday, midnight itself is today', async () => {
    const t = await station();
    await t.signedIn('dispatcher', 'dock1');
    const dock = t.userId('dock1');
    const boss = t.userId('boss');
    // Three days of history before today, and a scan dated tomorrow (a clock that was wrong).
    for (let d = 1; d <= 3; d++) for (let i = 0; i < 50; i++) t.scan(MIDNIGHT - d * 24 * H + i * 60_000, dock);
    t.scan(MIDNIGHT - 1, dock); // 23:59:59.999 yesterday
    t.scan(MIDNIGHT, dock); // 00:00 today
    t.scan(MIDNIGHT + 7 * H + 5 * 60_000, dock, 'linked', 'hid', 'Door 2 scanner');
    t.scan(MIDNIGHT + 7 * H + 6 * 60_000, dock, 'conflict', 'hid', 'Door 2 scanner');
    t.scan(MIDNIGHT + 7 * H + 7 * 60_000, boss, 'parent', 'manual');
    t.scan(MIDNIGHT + 9 * H, null, 'invalid', 'wedge', null, 'door-9');
    t.scan(MIDNIGHT + 24 * H - 1, dock); // 23:59:59.999 today (the clock is at 10:00, so a future scan still counts in today)
    t.scan(MIDNIGHT + 24 * H, dock); // tomorrow
    for (let d = 0; d < 3; d++) {
      t.bag(MIDNIGHT - d * 24 * H - 1, 'child');
      t.bag(MIDNIGHT + d * 60_000, d === 0 ? 'parent' : 'child');
    }
    t.bill(MIDNIGHT - 48 * H, null); // a draft from two days ago is still open
    t.bill(MIDNIGHT - 48 * H, MIDNIGHT - 1); // finalized yesterday
    t.bill(MIDNIGHT + H, MIDNIGHT + 2 * H); // started and finalized today
    t.bill(MIDNIGHT + 3 * H, null);
    t.job('import', 'succeeded', MIDNIGHT + H);
    t.job('import', 'failed', MIDNIGHT + 2 * H);
    t.job('import', 'succeeded', MIDNIGHT - 1);
    t.job('export', 'running', MIDNIGHT + 3 * H);
    t.job('trip-execution', 'succeeded', MIDNIGHT + 3 * H);
    for (let i = 0; i < 4; i++) t.outbox('bags', 'pending');
    t.outbox('bags', 'error');
    t.outbox('bags', 'done');
    t.outbox('mail', 'error');

    const d: DashboardToday = await today(t.admin);

    expect(d).toMatchObject({ dayStart: MIDNIGHT, dayEnd: MIDNIGHT + 24 * H, dayLabel: 'Thursday 26 November 2026', timeZone: SYD });
    expect(d.scans).toMatchObject({ total: 6, linked: 3, refused: 2 });
    expect(d.scans.hours).toHaveLength(24);
    expect(d.scans.hours.filter((h) => h.scans > 0).map((h) => [h.label, h.scans])).toEqual([
      ['00:00', 1],
      ['07:00', 3],
      ['09:00', 1],
      ['23:00', 1],
    ]);
    expect(d.scans.doors).toEqual([
      { door: 'Keyboard scanner', scans: 2, linked: 2 },
      { door: 'Door 2 scanner', scans: 2, linked: 1 },
      { door: 'Typed in', scans: 1, linked: 0 },
      { door: 'door-9 · Keyboard scanner', scans: 1, linked: 0 },
    ]);
    // Names only: the display name, never the user name or id.
    expect(d.scans.people).toEqual([
      { name: 'dock1', scans: 4, linked: 3 },
      { name: 'Boss', scans: 1, linked: 0 },
      { name: 'Unknown', scans: 1, linked: 0 },
    ]);
    expect(d.bags).toEqual({ created: 3, parents: 1, children: 2 });
    expect(d.bills).toEqual({ open: 2, startedToday: 2, finalizedToday: 1 });
    expect(d.jobs).toEqual({
      imports: { total: 2, succeeded: 1, failed: 1, running: 0 },
      exports: { total: 1, succeeded: 0, failed: 0, running: 1 },
    });
    expect(d.backlog).toEqual(
      expect.arrayContaining([
        { upstream: 'bags', queued: 4, stuck: 1, online: null },
        expect.objectContaining({ upstream: 'mail', queued: 0, stuck: 1 }),
      ]),
    );
  });

  it('shows 23 hours on the day Sydney’s clocks go forward, each scan under its local hour', async () => {
    const springMidnight = Date.UTC(2026, 9, 3, 14); // Sunday 4 October 2026, 00:00 AEST
    const t = await station(springMidnight + 12 * H);
    t.scan(springMidnight + 2 * H + 30 * 60_000, t.userId('boss')); // 03:30 AEDT: the hour after 01:00
    const d = await today(t.admin);
    expect(d.scans.hours).toHaveLength(23);
    expect(d.scans.hours.filter((h) => h.scans).map((h) => h.label)).toEqual(['03:00']);
  });

  it('turns to the new day at local midnight by itself and tells the windows', async () => {
    const t = await station(MIDNIGHT - 10_000);
    t.scan(MIDNIGHT - 5000, t.userId('boss'));
    expect((await today(t.admin)).scans.total).toBe(1);
    const before = pushes(t.admin);
    t.timers.advance(10_000);
    expect(pushes(t.admin)).toBe(before + 1);
    expect(await today(t.admin)).toMatchObject({ dayStart: MIDNIGHT, scans: { total: 0 } });
  });

  it('reads today from the indexes, not months of history', async () => {
    const t = await station();
    const plan = (sql: string) =>
      (
        t.sqlite
          .prepare(`EXPLAIN QUERY PLAN ${sql}`)
          .all(sql.includes('@start') ? { start: MIDNIGHT, end: MIDNIGHT + 24 * H } : sql.includes('?') ? [1] : []) as { detail: string }[]
      )
        .map((r) => r.detail)
        .join(' | ');
    expect(plan(DASHBOARD_SQL.scans)).toMatch(/SEARCH scans USING (COVERING )?INDEX scans_at \(at>\? AND at<\?\)/);
    expect(plan(DASHBOARD_SQL.bags)).toMatch(/SEARCH bags USING INDEX bags_created \(created_at>\? AND created_at<\?\)/);
    const bills = plan(DASHBOARD_SQL.bills);
    expect(bills).toMatch(/SEARCH bills USING COVERING INDEX bills_status \(status=\?\)/);
    expect(bills).toMatch(/SEARCH bills USING COVERING INDEX bills_created/);
    expect(bills).toMatch(/SEARCH bills USING COVERING INDEX bills_finalized/);
    expect(plan(DASHBOARD_SQL.jobs)).toMatch(/SEARCH jobs USING (COVERING )?INDEX jobs_kind_created \(kind=\? AND created_at>\? AND created_at<\?\)/);
    expect(plan(DASHBOARD_SQL.pending)).toMatch(/outbox_pending/);
    expect(plan(DASHBOARD_SQL.stuck)).toMatch(/outbox_stuck/);
    // No table is read whole; a SCAN is only ever of the outbox's partial indexes (the few waiting records).
    for (const sql of Object.values(DASHBOARD_SQL))
      expect(plan(sql)).not.toMatch(/SCAN (scans|bags|bills|jobs|outbox)(?! USING (COVERING )?INDEX outbox_(pending|stuck))/);
  });
});

describe('dashboard push', () => {
  it('a burst of 100 scans is one push at once and one more a second later, to signed-in windows only; one computation for every window', async () => {
    const t = await station();
    const dock = await t.signedIn('dispatcher', 'dock1');
    const biller = await t.signedIn('biller', 'billing1');
    const signedOut = t.window('signed-out window');
    await today(t.admin);
    await today(biller);
    const computed = t.station.dashboard.computations;

    await dock.ok('bags/scan', { code: 'SB10001', source: 'wedge' });
    for (let i = 1; i < 100; i++) {
      t.clock.advance(5);
      await dock.ok('bags/scan', { code: `C-${i}`, source: 'wedge' });
    }
    expect(pushes(t.admin)).toBe(1);
    expect(pushes(biller)).toBe(1);
    expect(pushes(dock)).toBe(1);
    expect(t.station.dashboard.computations).toBe(computed); // nothing computed until a window asks
    t.timers.advance(1000);
    expect(pushes(t.admin)).toBe(2);
    expect(pushes(biller)).toBe(2);
    expect(signedOut.events.filter((e) => e.event === 'dashboard/changed')).toEqual([]);

    const [a, b] = [await today(t.admin), await today(biller)];
    expect(t.station.dashboard.computations).toBe(computed + 1);
    expect(a.scans).toMatchObject({ total: 100, linked: 99 });
    expect(b).toEqual(a);
    // Quiet: no more pushes without changes.
    t.timers.advance(5000);
    expect(pushes(t.admin)).toBe(2);
  });

  it('bills and undo push too; a locked window hears nothing', async () => {
    const t = await station();
    const dock = await t.signedIn('dispatcher', 'dock1');
    const biller = await t.signedIn('biller', 'billing1');
    const n = pushes(biller);
    await biller.ok('bills/create', {});
    expect(pushes(biller)).toBe(n + 1);
    expect((await today(biller)).bills.open).toBe(1);
    t.timers.advance(1000);
    await dock.ok('bags/scan', { code: 'SB10002', source: 'wedge' });
    await dock.ok('bags/scan', { code: 'C-1', source: 'wedge' });
    t.timers.advance(1000);
    const m = pushes(biller);
    await dock.ok('bags/undo-last', {});
    // The last push was just now: this one waits out its second.
    expect(pushes(biller)).toBe(m);
    t.timers.advance(1000);
    expect(pushes(biller)).toBe(m + 1);
    expect((await today(biller)).scans).toMatchObject({ total: 2, linked: 1 });

    biller.session.locked = true;
    await dock.ok('bags/scan', { code: 'C-2', source: 'wedge' });
    t.timers.advance(1000);
    expect(pushes(biller)).toBe(m + 1);
    expect(pushes(dock)).toBe(m + 2);
  });

  it('an import and a sync batch push too, and show in the figures: the import today, the backlog sent', async () => {
    const sim = await startBagsSimulator();
    onRelease(() => sim.close());
    const t = await station(MIDNIGHT + 10 * H, { upstreams: { bags: { url: sim.url } }, syncIntervalMs: 0 });
    const biller = await t.signedIn('biller', 'billing1');
    const before = pushes(biller);
    const { job } = await importFile(t.admin, 'bags.csv', csv(bagRows(2, 5)));
    expect(job.status).toBe('succeeded');
    t.timers.advance(1000);
    expect(pushes(biller)).toBeGreaterThan(before);
    const d = await today(biller);
    expect(d.jobs.imports).toEqual({ total: 1, succeeded: 1, failed: 0, running: 0 });
    expect(d.bags).toMatchObject({ created: 12, parents: 2, children: 10 });
    const waiting = d.backlog.find((b) => b.upstream === 'bags')!;
    expect(waiting.queued).toBeGreaterThan(0);

    t.timers.advance(1000);
    const n = pushes(biller);
    await t.station.sync.drainAll();
    expect(pushes(biller)).toBe(n + 1);
    expect((await today(biller)).backlog.find((b) => b.upstream === 'bags')).toEqual({ upstream: 'bags', queued: 0, stuck: 0, online: true });
  });

  it('anyone signed in may read it; a signed-out window is refused', async () => {
    const t = await station();
    const dock = await t.signedIn('dispatcher', 'dock1');
    expect((await dock.call('dashboard/today', {})).ok).toBe(true);
    const r = await t.window().call('dashboard/today', {});
    expect(r).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
  });
});

describe('scan → stored latency', () => {
  it('one sample per stored scan (debounced repeats are none), p50 ≤ p95, over the last hour only', async () => {
    const t = await station();
    const dock = await t.signedIn('dispatcher', 'dock1');
    await dock.ok('bags/scan', { code: 'SB10003', source: 'wedge' });
    for (let i = 1; i <= 20; i++) {
      t.clock.advance(2000);
      await dock.ok('bags/scan', { code: `C-${i}`, source: 'manual' });
    }
    expect(await dock.ok('bags/scan', { code: 'C-20', source: 'wedge' })).toMatchObject({ result: 'ignored' });
    const { latency } = await today(t.admin);
    expect(latency.samples).toBe(21);
    expect(latency.windowMinutes).toBe(60);
    expect(latency.p50Ms).toBeGreaterThanOrEqual(0);
    expect(latency.p95Ms).toBeGreaterThanOrEqual(latency.p50Ms!);
    t.clock.advance(H);
    // (The windows locked while idle for that hour: the service is asked directly.)
    expect(t.station.dashboard.today().latency).toMatchObject({ samples: 0, p50Ms: null, p95Ms: null });
  });

  it('a USB scanner’s scan counts from its HID report, not from the window’s call', async () => {
    const bus = new SimulatedHidBus();
    const t = await station(MIDNIGHT + 10 * H, { hid: { ok: true, backend: bus }, scannerPollMs: 0 });
    const dock = await t.signedIn('dispatcher', 'dock1');
    // The report reached main 5 s (monotonic) before the window stored it: a slow window, say.
    t.station.dashboard.hidArrived('SB10004', performance.now() - 5000);
    await dock.ok('bags/scan', { code: 'SB10004', source: 'hid', device: 'Door 1 scanner' });
    const d = await today(t.admin);
    expect(d.latency.samples).toBe(1);
    expect(d.latency.p50Ms).toBeGreaterThanOrEqual(5000);
    expect(d.scans.doors).toEqual([{ door: 'Door 1 scanner', scans: 1, linked: 0 }]);

    // Through a paired scanner: the report is taken once, then forgotten.
    const scanner = { path: '/dev/hidraw3', vendorId: 0x0c2e, productId: 0x0b87, product: 'Voyager 1250g', usagePage: 0x01, usage: 0x06 };
    bus.plug(scanner);
    const { code } = await t.admin.ok('scanners/pair-start', {});
    for (const r of [...typed(code), ...ENTER]) bus.report(scanner.path, r);
    for (const r of [...typed('C-77'), ...ENTER]) bus.report(scanner.path, r);
    const event = await dock.event((e) => e.event === 'scanner/scan');
    expect(event.data).toMatchObject({ code: 'C-77' });
    t.clock.advance(2000);
    await dock.ok('bags/scan', { code: 'C-77', source: 'hid', device: 'Voyager 1250g 1' });
    expect((await today(t.admin)).latency.samples).toBe(2);
  });
});
