import { afterEach, describe, expect, it } from 'vitest';
import { startLeafTradeSimulator } from '../../src/simulators/leaftrade';
import { onRelease, releaseAll } from '../support/cleanup';
import { withAdmin } from '../support/station';

afterEach(releaseAll);

async function setup() {
  const sim = await startLeafTradeSimulator();
  onRelease(() => sim.close());
  const t = await withAdmin({ upstreams: { leaftrade: { url: sim.url, readTimeoutMs: 1000 } }, syncIntervalMs: 0 });
  await t.admin.ok('settings/update', { idleLockMinutes: 240 });
  await t.admin.ok('sync/set-credential', { name: 'leaftrade.token', value: sim.token });
  return { sim, t };
}

const APPROVED = 90; // 3 of every 4 of the simulator's 120 orders

describe('LeafTrade through the station cache', () => {
  it('reads approved orders page by page through `next`, short pages too', async () => {
    const { sim, t } = await setup();
    const r = await t.admin.ok('leaftrade/orders', {});
    expect(r).toMatchObject({ fromCache: false, warning: null });
    expect(r.orders).toHaveLength(APPROVED);
    expect(r.orders[0]).toEqual({
      id: 5000,
      invoice: 'INV-26000',
      deliveryDate: '2026-12-01',
      totalGross: '125.00',
      store: 'Green Leaf Dispensary',
      city: 'Bend',
      address: '100 Main St, Bend, OR 97701',
      vendorLicense: '412000',
      lines: [{ product: 'Blue Dream 1g pre-roll', quantity: 2, unit: 'each' }],
    });
    expect(sim.requests.filter((u) => u.startsWith('/api/v1/orders/')).length).toBe(4); // 25 a page
    sim.faults.pageSize = 7;
    expect((await t.admin.ok('leaftrade/orders', { refresh: true })).orders).toHaveLength(APPROVED);
  });

  it('follows a relative `next` and refuses one that points at another server (credentials stay home)', async () => {
    const { sim, t } = await setup();
    sim.faults.links = 'relative';
    expect((await t.admin.ok('leaftrade/orders', {})).orders).toHaveLength(APPROVED);
    sim.faults.links = 'foreign';
    const before = sim.requests.length;
    expect(await t.admin.ok('leaftrade/orders', { refresh: true })).toMatchObject({
      fromCache: true,
      warning: expect.stringContaining('link to another server (http://127.0.0.2:'),
    });
    expect(sim.requests.length).toBe(before + 1); // only the first page was asked
  });

  it('waits out a 429 Retry-After; serves the cache on 503 and on a malformed page; says so', async () => {
    const { sim, t } = await setup();
    sim.faults.rateLimited = 1;
    expect((await t.admin.ok('leaftrade/orders', {})).orders).toHaveLength(APPROVED);
    expect(t.waits).toEqual([1000]); // the simulator's Retry-After: 1, on the test's clock

    sim.faults.unavailable = 10;
    t.clock.advance(120_000);
    expect(await t.admin.ok('leaftrade/orders', { refresh: true })).toMatchObject({
      fromCache: true,
      ageSeconds: 121,
      warning: 'LeafTrade is unavailable (503)',
    });
    expect(t.waits).toEqual([1000, 250, 500]); // then two retries on the test's clock: 120.75 s
    sim.faults.unavailable = 0;
    t.clock.advance(60_000);
    sim.faults.malformed = 1;
    expect(await t.admin.ok('leaftrade/orders', { refresh: true })).toMatchObject({
      fromCache: true,
      warning: 'LeafTrade answered with something that is not JSON',
    });
    const status = (await t.admin.ok('sync/status', {})).find((u) => u.upstream === 'leaftrade');
    expect(status).toMatchObject({ online: false, lastError: 'LeafTrade answered with something that is not JSON' });
  });

  it('a wrong or missing token is a clear error', async () => {
    const { t } = await setup();
    await t.admin.ok('sync/set-credential', { name: 'leaftrade.token', value: 'nope' });
    expect(await t.admin.call('leaftrade/orders', {})).toMatchObject({
      ok: false,
      error: { code: 'unavailable', message: expect.stringContaining('LeafTrade refused the credentials (401)') },
    });
    await t.admin.ok('sync/set-credential', { name: 'leaftrade.token', value: '' });
    expect(await t.admin.call('leaftrade/orders', {})).toMatchObject({
      ok: false,
      error: { message: expect.stringContaining('No LeafTrade token') },
    });
  });
});
