import { afterEach, describe, expect, it } from 'vitest';
import type { OpenOrders } from '../../src/shared/contract/erp';
import { silentLogger } from '../../src/main/platform/logger';
import { PrewarmScheduler } from '../../src/main/upstreams/prewarm-schedule';
import { expectedOpenOrders, startErpSimulator } from '../../src/simulators/odata-erp';
import { onRelease, releaseAll } from '../support/cleanup';
import { stationOnErp } from '../support/erp';
import { makeStation, ManualClock, snapshotDatabase, tempDir } from '../support/station';

afterEach(releaseAll);

const MINUTE = 60_000;
/** 19:00 AEDT on Wed 25 Nov 2026: the test clock's start (08:00 UTC). */
const START = Date.UTC(2026, 10, 25, 8, 0, 0);

async function setup(options: { dataDir?: string; clock?: ManualClock } = {}) {
  const sim = await startErpSimulator();
  onRelease(() => sim.close());
  const t = await stationOnErp(sim.url, sim.users, { readTimeoutMs: 5000, prewarmCheckMs: 0, ...options });
  /** Requests that reached the simulator for one instance. */
  const reached = (org: string) => sim.requests.filter((r) => r.url.includes(`/reports/${org}/`)).length;
  /** Prewarm runs that reached the ERP: each starts with one read of the open revisions. */
  const runs = (org: string) =>
    sim.requests.filter((r) => r.url.includes(`/reports/${org}/`) && r.url.includes('OrderStatus%20ne%20') && !r.url.includes('skiptoken')).length;
  return { sim, t, reached, runs };
}

describe('ERP cooldown after a 503 (Admin → Sync, in minutes)', () => {
  it('serves the cache with the reason and sends nothing to the ERP while cooling down; a changed cooldown applies at once', async () => {
    const { sim, t, reached } = await setup();
    expect((await t.admin.ok('settings/get', {})).erpCooldownMinutes).toBe(5);
    const first = await t.admin.ok('erp/open-orders', { org: 'DD' });
    t.clock.advance(10 * MINUTE);

    sim.faults.unavailable = 2; // the first try and its one retry
    const down = await t.admin.ok('erp/open-orders', { org: 'DD', refresh: true });
    expect(down).toMatchObject({ fromCache: true, warning: 'ERP DD is unavailable (503)', fetchedAt: first.fetchedAt });
    // 08:10:00.25 UTC (after the retry's wait) + 5 min = 19:15 in Sydney.
    const before = reached('DD');

    t.clock.advance(2 * MINUTE); // the ERP is back, but we said we would leave it alone
    const cooling = await t.admin.ok('erp/open-orders', { org: 'DD', refresh: true });
    expect(cooling).toMatchObject({ fromCache: true, warning: 'ERP DD asked us to wait: cooling down until 19:15', fetchedAt: first.fetchedAt });
    expect(cooling.orders).toHaveLength(first.orders.length);
    expect(reached('DD')).toBe(before);
    // The Sync screen shows the rest too.
    const status = (await t.admin.ok('sync/status', {})).find((u) => u.upstream === 'erp-DD')!;
    expect(status.restingUntil).toBe(START + 10 * MINUTE + 250 + 5 * MINUTE);
    // The other instance is not cooling down.
    expect((await t.admin.ok('erp/open-orders', { org: 'CBR', refresh: true })).warning).toBeNull();

    // Longer, live: the cooldown under way is measured by the new setting.
    await t.admin.ok('settings/update', { erpCooldownMinutes: 30 });
    expect((await t.admin.ok('erp/open-orders', { org: 'DD', refresh: true })).warning).toBe('ERP DD asked us to wait: cooling down until 19:40');
    expect(reached('DD')).toBe(before);

    // Shorter, live: 1 minute after the 503 has passed, so the ERP is asked again.
    await t.admin.ok('settings/update', { erpCooldownMinutes: 1 });
    const back = await t.admin.ok('erp/open-orders', { org: 'DD', refresh: true });
    expect(back).toMatchObject({ fromCache: false, warning: null });
    expect(reached('DD')).toBeGreaterThan(before);
  });

  it('0 minutes: no cooldown, the next read asks the ERP', async () => {
    const { sim, t, reached } = await setup();
    await t.admin.ok('settings/update', { erpCooldownMinutes: 0 });
    await t.admin.ok('erp/open-orders', { org: 'DD' });
    sim.faults.unavailable = 3;
    expect((await t.admin.ok('erp/open-orders', { org: 'DD', refresh: true })).warning).toBe('ERP DD is unavailable (503)');
    const before = reached('DD');
    expect((await t.admin.ok('erp/open-orders', { org: 'DD', refresh: true })).warning).toBeNull();
    expect(reached('DD')).toBeGreaterThan(before);
  });

  it('refuses a cooldown that is not 0–240 whole minutes, in words, and changes nothing', async () => {
    const { t } = await setup();
    const before = snapshotDatabase(t.station);
    for (const [value, message] of [
      [241, 'At most 240 minutes'],
      [-1, '0 or more (0: no cooldown)'],
      [1.5, 'Whole minutes'],
    ] as const) {
      expect(await t.admin.call('settings/update', { erpCooldownMinutes: value })).toMatchObject({
        ok: false,
        error: { code: 'invalid', issues: [{ path: 'erpCooldownMinutes', message }] },
      });
    }
    expect(await t.admin.raw('settings/update', { erpCooldownMinutes: 'ten' })).toMatchObject({
      ok: false,
      error: { issues: [{ path: 'erpCooldownMinutes', message: 'Enter a number of minutes' }] },
    });
    expect(snapshotDatabase(t.station)).toBe(before);
    const dock = await t.signedIn('dispatcher', 'dock1');
    expect(await dock.call('settings/update', { erpCooldownMinutes: 10 })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });
});

describe('ERP prewarm on a schedule', () => {
  it('runs at the scheduled local time under a manual clock, records rows, and then waits for the next day', async () => {
    const { sim, t, runs } = await setup();
    const view = await t.admin.ok('erp-schedule/set', { org: 'DD', times: ['19:30', '06:00', '19:30'], timeZone: 'Australia/Sydney' });
    const dd = view.instances.find((i) => i.org === 'DD')!;
    expect(dd).toMatchObject({
      times: ['06:00', '19:30'],
      timeZone: 'Australia/Sydney',
      nextRunAt: START + 30 * MINUTE,
      nextRunInZone: 'Wed 25 Nov 2026, 19:30 AEDT',
      last: null,
      running: false,
    });
    expect(view.instances.find((i) => i.org === 'CBR')).toMatchObject({ times: [], nextRunAt: null, timeZone: 'Australia/Sydney' });

    t.clock.advance(29 * MINUTE);
    await t.station.prewarm.tick();
    expect(runs('DD')).toBe(0);

    t.clock.advance(MINUTE); // 19:30 in Sydney
    await t.station.prewarm.tick();
    expect(runs('DD')).toBe(1);
    expect(runs('CBR')).toBe(0);
    const after = await t.admin.ok('erp-schedule/get', {});
    expect(after.instances[0]).toMatchObject({
      org: 'DD',
      last: { trigger: 'scheduled', scheduledFor: START + 30 * MINUTE, rows: expectedOpenOrders(sim.data.DD).length, error: null },
      nextRunInZone: 'Thu 26 Nov 2026, 06:00 AEDT',
    });

    t.clock.advance(4 * MINUTE);
    await t.station.prewarm.tick();
    expect(runs('DD')).toBe(1); // once per scheduled time
    // The cache it filled serves the reports.
    expect((await t.admin.ok('erp/open-orders', { org: 'DD' })).fromCache).toBe(true);
    expect(runs('DD')).toBe(1);
  });

  it('records a failed run in words; a run during the cooldown says so without reaching the ERP', async () => {
    const { sim, t, reached } = await setup();
    await t.admin.ok('erp-schedule/set', { org: 'CBR', times: ['19:10', '19:20'], timeZone: 'Australia/Sydney' });
    sim.faults.unavailable = 3;
    t.clock.advance(10 * MINUTE);
    await t.station.prewarm.tick();
    expect((await t.admin.ok('erp-schedule/get', {})).instances[1].last).toMatchObject({
      org: 'CBR',
      trigger: 'scheduled',
      rows: null,
      error: 'ERP CBR is unavailable (503), and nothing is saved on this station yet',
    });
    const before = reached('CBR');
    t.clock.advance(10 * MINUTE); // 19:20: the 5-minute cooldown after 19:10 is over, so the ERP is asked
    await t.station.prewarm.tick();
    expect(reached('CBR')).toBeGreaterThan(before);
    expect((await t.admin.ok('erp-schedule/get', {})).instances[1].last).toMatchObject({
      rows: expectedOpenOrders(sim.data.CBR).length,
      error: null,
    });

    // Down again, with a copy saved: the run fails, the copy is kept, and the next run inside the cooldown never reaches the ERP.
    sim.faults.unavailable = 3;
    const fail = await t.admin.ok('erp-schedule/run-now', { org: 'CBR' });
    expect(fail.instances[1].last).toMatchObject({
      trigger: 'manual',
      rows: null,
      error: expect.stringMatching(/^ERP CBR is unavailable \(503\); the copy cached .* is kept$/),
    });
    const during = reached('CBR');
    const cooling = await t.admin.ok('erp-schedule/run-now', { org: 'CBR' });
    expect(cooling.instances[1].last?.error).toMatch(/^ERP CBR asked us to wait: cooling down until 19:25; the copy cached .* is kept$/);
    expect(reached('CBR')).toBe(during);
  });

  it('"Fetch both now" runs DD then CBR, one at a time, and records each', async () => {
    const { sim, t } = await setup();
    const order: string[] = [];
    const seen = sim.requests.length;
    const view = await t.admin.ok('erp-schedule/run-now', {});
    for (const r of sim.requests.slice(seen)) {
      const org = /\/reports\/(DD|CBR)\//.exec(r.url)?.[1];
      if (org && order.at(-1) !== org) order.push(org);
    }
    expect(order).toEqual(['DD', 'CBR']); // never interleaved
    expect(view.instances.map((i) => [i.org, i.last?.trigger, i.last?.rows, i.last?.error, i.running])).toEqual([
      ['DD', 'manual', expectedOpenOrders(sim.data.DD).length, null, false],
      ['CBR', 'manual', expectedOpenOrders(sim.data.CBR).length, null, false],
    ]);
  });

  it('runs due at the same time go one at a time: the second starts only when the first has finished, even if the first fails', async () => {
    const t = await makeStation({ syncIntervalMs: 0, prewarmCheckMs: 0 });
    const started: string[] = [];
    const finish: Record<string, (ok: boolean) => void> = {};
    const erp = {
      configured: () => true,
      openOrders: (org: 'DD' | 'CBR') =>
        new Promise<OpenOrders>((resolve, reject) => {
          started.push(org);
          finish[org] = (ok) =>
            ok
              ? resolve({ org, orders: [], fetchedAt: t.clock.now(), fromCache: false, ageSeconds: 0, warning: null })
              : reject(new Error(`ERP ${org} broke`));
        }),
    };
    const scheduler = new PrewarmScheduler({
      settings: t.station.settings,
      audit: { stationId: 'test', now: t.clock.now },
      erp,
      now: t.clock.now,
      log: silentLogger,
    });
    const actor = { userId: null, username: 'test' };
    scheduler.set('DD', { times: ['19:30'], timeZone: 'Australia/Sydney' }, actor);
    scheduler.set('CBR', { times: ['19:30'], timeZone: 'Australia/Sydney' }, actor);
    t.clock.advance(30 * MINUTE);
    const done = scheduler.tick();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual(['DD']);
    expect(scheduler.view().instances.map((i) => i.running)).toEqual([true, true]);
    // A second check meanwhile queues nothing more.
    void scheduler.tick();
    finish.DD(false);
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual(['DD', 'CBR']);
    finish.CBR(true);
    await done;
    expect(scheduler.view().instances.map((i) => [i.org, i.last?.rows, i.last?.error, i.running])).toEqual([
      ['DD', null, 'ERP DD broke', false],
      ['CBR', 0, null, false],
    ]);
    await scheduler.tick();
    expect(started).toEqual(['DD', 'CBR']);
  });

  it('after a restart a missed run is caught up once, not once per missed time, and says so', async () => {
    const clock = new ManualClock(START);
    const dataDir = tempDir();
    const { sim, t, runs } = await setup({ dataDir, clock });
    await t.admin.ok('erp-schedule/set', { org: 'CBR', times: ['06:00', '18:00', '21:00'], timeZone: 'Australia/Sydney' });
    await t.close();

    // Off for three days: eight scheduled times missed, the last Sat 28 Nov 18:00 AEDT.
    clock.advance(3 * 24 * 60 * MINUTE); // Sat 28 Nov 19:00 AEDT
    const restart = () =>
      makeStation({ dataDir, clock, syncIntervalMs: 0, prewarmCheckMs: 0, upstreams: { erp: { url: sim.url, readTimeoutMs: 5000 } } });
    const again = await restart();
    await again.station.prewarm.idle();
    expect(runs('CBR')).toBe(1);
    expect(runs('DD')).toBe(0);
    const cbr = again.station.prewarm.view().instances.find((i) => i.org === 'CBR')!;
    expect(cbr.last).toMatchObject({
      trigger: 'catch-up',
      scheduledFor: Date.UTC(2026, 10, 28, 7, 0, 0),
      rows: expectedOpenOrders(sim.data.CBR).length,
      error: null,
    });
    expect(cbr.nextRunInZone).toBe('Sat 28 Nov 2026, 21:00 AEDT');
    await again.station.prewarm.tick();
    expect(runs('CBR')).toBe(1);

    // Started again at once: nothing was missed, nothing runs.
    await again.close();
    const third = await restart();
    await third.station.prewarm.idle();
    expect(runs('CBR')).toBe(1);
    clock.advance(2 * 60 * MINUTE); // 21:00
    await third.station.prewarm.tick();
    expect(runs('CBR')).toBe(2);
    expect(third.station.prewarm.view().instances[1].last).toMatchObject({ trigger: 'scheduled', scheduledFor: Date.UTC(2026, 10, 28, 10, 0, 0) });
  });

  it('refuses bad times and unknown zones in words and changes nothing; only admins may set or run', async () => {
    const { t } = await setup();
    await t.admin.ok('erp-schedule/set', { org: 'DD', times: ['06:00'], timeZone: 'Australia/Sydney' });
    const before = snapshotDatabase(t.station);
    expect(await t.admin.call('erp-schedule/set', { org: 'DD', times: ['06:00', '25:61'], timeZone: 'Australia/Sydney' })).toMatchObject({
      ok: false,
      error: { code: 'invalid', issues: [{ message: '“25:61” is not a time of day: write HH:MM on the 24-hour clock, 00:00 to 23:59' }] },
    });
    expect(await t.admin.call('erp-schedule/set', { org: 'DD', times: ['06:00'], timeZone: 'Sydney' })).toMatchObject({
      ok: false,
      error: {
        code: 'invalid',
        issues: [{ path: 'timeZone', message: '“Sydney” is not a time zone this station knows: use a name like Australia/Sydney' }],
      },
    });
    expect(snapshotDatabase(t.station)).toBe(before);
    const dock = await t.signedIn('dispatcher', 'dock1');
    expect(await dock.call('erp-schedule/get', {})).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await dock.call('erp-schedule/run-now', {})).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const audit = await t.admin.ok('audit/list', { action: 'erp.prewarm_schedule_set' });
    expect(audit.rows).toHaveLength(1);
  });
});
