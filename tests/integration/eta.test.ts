import ExcelJS from 'exceljs';
import { afterEach, describe, expect, it } from 'vitest';
import { ETA_COLUMNS, type EtaJobView, type EtaOrder } from '../../src/shared/contract/eta';
import { etaExportTable } from '../../src/main/eta/export';
import { startErpSimulator, type ErpOrder } from '../../src/simulators/odata-erp';
import { onRelease, releaseAll } from '../support/cleanup';
import { stationOnErp } from '../support/erp';
import { waitForJob } from '../support/imports';
import { passSecondFactor } from '../support/second-factor';
import type { TestWindow } from '../support/station';

afterEach(releaseAll);

async function setup(options: { readTimeoutMs?: number } = {}) {
  const sim = await startErpSimulator({ ordersPerOrg: 240 });
  onRelease(() => sim.close());
  const t = await stationOnErp(sim.url, sim.users, { readTimeoutMs: options.readTimeoutMs });
  return { sim, t };
}

/** The truth from the simulator's rows: per order its newest revision, kept when open and the customer's. */
function expected(rows: ErpOrder[], org: 'DD' | 'CBR', match: (r: ErpOrder) => boolean) {
  const newest = new Map<string, ErpOrder>();
  for (const r of rows) if ((newest.get(r.OrderNo)?.OrderRev ?? -1) < r.OrderRev) newest.set(r.OrderNo, r);
  return [...newest.values()]
    .filter((r) => r.OrderStatus !== 'Completed' && r.OrderStatus !== 'Cancelled' && match(r))
    .map((r) => ({ org, orderNo: r.OrderNo, orderRev: r.OrderRev, customer: r.Customer, supplier: r.Supplier, qty: Number(r.Qty) }));
}
const key = (r: { org: string; orderNo: string }) => `${r.org}/${r.orderNo}`;
const brief = (r: EtaOrder) => ({ org: r.org, orderNo: r.orderNo, orderRev: r.orderRev, customer: r.customer, supplier: r.supplier, qty: r.qty });

async function customer(w: TestWindow) {
  return w.ok('eta/customer-save', {
    displayName: 'Coastal (DD: O’Brien’s)',
    dd: { name: "O'Brien's Wellness", kind: 'name' },
    cbr: { name: 'Coastal Retail Group', kind: 'group' },
  });
}

async function runReport(w: TestWindow, customerId: number, refresh = false): Promise<EtaJobView> {
  const started = await w.ok('eta/run', { customerId, refresh });
  const job = await waitForJob(w, started.job.id);
  expect(job.status, job.error ?? '').toBe('succeeded');
  return w.ok('eta/job', { jobId: started.job.id });
}

describe('ETA report customers and status mapping (admin)', () => {
  it('an admin adds, changes and removes a customer (audited); the report id is random and stays', async () => {
    const { t } = await setup();
    const c = await customer(t.admin);
    expect(c.reportId).toMatch(/^eta_[A-Za-z0-9_-]{12}$/);
    expect(c.reportId.toLowerCase()).not.toContain('coastal');
    const other = await t.admin.ok('eta/customer-save', { displayName: 'Second', dd: null, cbr: { name: 'Independent', kind: 'group' } });
    expect(other.reportId).not.toBe(c.reportId);
    const changed = await t.admin.ok('eta/customer-save', {
      id: c.id,
      displayName: 'Coastal',
      dd: { name: 'Harbor Wellness', kind: 'name' },
      cbr: null,
    });
    expect(changed).toMatchObject({ id: c.id, reportId: c.reportId, dd: { name: 'Harbor Wellness', kind: 'name' }, cbr: null });
    expect((await t.admin.ok('eta/customers', {})).map((x) => x.displayName)).toEqual(['Coastal', 'Second']);
    await t.admin.ok('eta/customer-delete', { id: other.id });
    const audit = await t.admin.ok('audit/list', { limit: 50 });
    const actions = audit.rows.map((r: { action: string }) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['eta.customer_created', 'eta.customer_updated', 'eta.customer_deleted']));
  });

  it('bad input is refused in words and changes nothing', async () => {
    const { t } = await setup();
    const c = await customer(t.admin);
    const before = await t.admin.ok('eta/customers', {});
    const cases: [unknown, RegExp][] = [
      [{ displayName: 'No names', dd: null, cbr: null }, /name in DD, in CBR or in both/],
      [{ displayName: '  ', dd: { name: 'A', kind: 'name' }, cbr: null }, /Enter the customer’s name/],
      [{ displayName: 'X', dd: { name: '', kind: 'name' }, cbr: null }, /Enter the name in the ERP/],
      [{ displayName: 'X', dd: { name: 'A\u0007', kind: 'name' }, cbr: null }, /control character/],
      [{ displayName: 'X', dd: { name: 'A', kind: 'region' }, cbr: null }, /.+/],
      [{ displayName: c.displayName, dd: { name: 'A', kind: 'name' }, cbr: null }, /already a customer named/],
      [{ id: 9999, displayName: 'Y', dd: { name: 'A', kind: 'name' }, cbr: null }, /No such customer/],
    ];
    for (const [payload, words] of cases) {
      const r = await t.admin.raw('eta/customer-save', payload);
      expect(r.ok, JSON.stringify(payload)).toBe(false);
      if (!r.ok) expect(r.error.message).toMatch(words);
    }
    expect(await t.admin.ok('eta/customers', {})).toEqual(before);
    const cols = await t.admin.call('eta/sensitive-columns-save', { columns: ['Notes', 'drop table;'] });
    expect(cols).toMatchObject({ ok: false, error: { message: expect.stringMatching(/ERP column name/) } });
    expect(await t.admin.ok('eta/sensitive-columns', {})).toEqual(['Descn', 'Notes', 'BarcodeNo']);
  });

  it('roles: admins manage customers and mappings; billers and dispatchers run and export, but do not manage', async () => {
    const { t } = await setup();
    const c = await customer(t.admin);
    for (const role of ['biller', 'dispatcher'] as const) {
      const w = await t.signedIn(role);
      expect(await w.call('eta/customer-save', { displayName: 'Mine', dd: { name: 'A', kind: 'name' }, cbr: null })).toMatchObject({
        ok: false,
        error: { code: 'forbidden' },
      });
      expect(await w.call('eta/customer-delete', { id: c.id })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
      expect(await w.call('eta/status-save', { status: 'QA', displayName: 'x', active: true })).toMatchObject({
        ok: false,
        error: { code: 'forbidden' },
      });
      expect(await w.call('eta/statuses-refresh', {})).toMatchObject({ ok: false, error: { code: 'forbidden' } });
      expect(await w.call('eta/sensitive-columns-save', { columns: [] })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
      expect((await w.ok('eta/customers', {})).map((x) => x.id)).toEqual([c.id]);
      const view = await runReport(w, c.id);
      const exp = await w.ok('eta/export', { jobId: view.job.id, format: 'csv' });
      expect((await waitForJob(w, exp.id)).status).toBe('succeeded');
      // Someone else's report job is not theirs to read.
      const other = await t.signedIn(role, `${role}-other`);
      expect(await other.call('eta/report-view', { jobId: view.job.id })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    }
  });

  it('Refresh from live data adds every status in use; the mapping names them and inactive ones are hidden', async () => {
    const { sim, t } = await setup();
    const refreshed = await t.admin.ok('eta/statuses-refresh', {});
    const inUse = new Set([...sim.data.DD, ...sim.data.CBR].map((r) => r.ProductionStatus).filter((s): s is string => s !== null && s !== 'null'));
    expect(refreshed.added.length).toBeGreaterThan(0);
    for (const s of refreshed.added) expect(inUse.has(s)).toBe(true);
    expect(refreshed.statuses.every((s) => s.active && s.displayName === s.status)).toBe(true);
    // Again: nothing new.
    expect((await t.admin.ok('eta/statuses-refresh', {})).added).toEqual([]);

    const c = await customer(t.admin);
    await t.admin.ok('eta/status-save', { status: 'Cutting', displayName: 'In cutting', active: true });
    await t.admin.ok('eta/status-save', { status: 'QA', displayName: 'Quality check', active: false });
    const view = await runReport(t.admin, c.id);
    const page = await t.admin.ok('eta/report-view', { jobId: view.job.id, limit: 500 });
    expect(page.rows.some((r) => r.productionStatus === 'QA')).toBe(false);
    expect(page.total).toBe(page.summary.rows - (await allRows(t.admin, view.job.id, true)).filter((r) => r.productionStatus === 'QA').length);
    const cutting = page.rows.filter((r) => r.productionStatus === 'Cutting');
    expect(cutting.length).toBeGreaterThan(0);
    expect(cutting.every((r) => r.statusLabel === 'In cutting')).toBe(true);
    expect(page.options.statuses).toContainEqual({ value: 'Cutting', label: 'In cutting' });
    // Kept, only hidden: switching it on shows its orders again.
    await t.admin.ok('eta/status-save', { status: 'QA', displayName: 'Quality check', active: true });
    expect((await t.admin.ok('eta/report-view', { jobId: view.job.id, limit: 500 })).total).toBe(page.summary.rows);
  });
});

/** Every row of a finished report (statuses all active while read when `activateAll`). */
async function allRows(w: TestWindow, jobId: number, activateAll = false) {
  const saved = activateAll ? await w.ok('eta/statuses', {}) : [];
  for (const s of saved) if (!s.active) await w.ok('eta/status-save', { ...s, active: true });
  const out: EtaOrder[] = [];
  for (let offset = 0; ; offset += 500) {
    const p = await w.ok('eta/report-view', { jobId, offset, limit: 500 });
    out.push(...p.rows);
    if (offset + 500 >= p.matching) break;
  }
  for (const s of saved) if (!s.active) await w.ok('eta/status-save', s);
  return out;
}

describe('the ETA report', () => {
  it('merges the DD customer-name and CBR customer-group open orders, exactly; progress and log lines on the way', async () => {
    const { sim, t } = await setup();
    const c = await customer(t.admin);
    const started = await t.admin.ok('eta/run', { customerId: c.id });
    expect(started.stalled).toBe(false);
    const job = await waitForJob(t.admin, started.job.id);
    expect(job.status).toBe('succeeded');
    expect(job.progress).toBe(1);
    const view = await t.admin.ok('eta/job', { jobId: job.id });
    expect(view.log.map((l) => l.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^DD: \d+ open orders read from the ERP$/), expect.stringMatching(/^Done: \d+ open orders$/)]),
    );
    const progress = t.admin.events.filter((e) => e.event === 'job/progress' && (e.data as { id: number }).id === job.id);
    expect(progress.length).toBeGreaterThan(1);

    const want = [
      ...expected(sim.data.DD, 'DD', (r) => r.Customer === "O'Brien's Wellness"),
      ...expected(sim.data.CBR, 'CBR', (r) => r.CustomerGroup === 'Coastal Retail Group'),
    ].sort((a, b) => key(a).localeCompare(key(b)));
    expect(want.length).toBeGreaterThan(40);
    const got = (await allRows(t.admin, job.id)).map(brief).sort((a, b) => key(a).localeCompare(key(b)));
    expect(got).toEqual(want);
    // A group filter in the ERP, not a customer filter: CBR rows of several customers.
    expect(new Set(got.filter((r) => r.org === 'CBR').map((r) => r.customer)).size).toBeGreaterThan(1);
    expect(sim.requests.some((r) => decodeURIComponent(r.url).includes("CustomerGroup eq 'Coastal Retail Group'"))).toBe(true);
    expect(sim.requests.some((r) => decodeURIComponent(r.url).includes("Customer eq 'O''Brien''s Wellness'"))).toBe(true);
  });

  it('filters by status, group and supplier, and sorts by any column in main, paged', async () => {
    const { t } = await setup();
    const c = await customer(t.admin);
    const { job } = await runReport(t.admin, c.id);
    const all = await allRows(t.admin, job.id);
    const supplier = all[0].supplier;
    const filtered = await t.admin.ok('eta/report-view', {
      jobId: job.id,
      limit: 500,
      filters: { suppliers: [supplier], statuses: ['Cutting', ''] },
    });
    const want = all.filter((r) => r.supplier === supplier && (r.productionStatus === 'Cutting' || r.productionStatus === null));
    expect(filtered.matching).toBe(want.length);
    expect(filtered.rows.every((r) => r.supplier === supplier && (r.productionStatus === 'Cutting' || r.productionStatus === null))).toBe(true);
    const grouped = await t.admin.ok('eta/report-view', { jobId: job.id, limit: 500, filters: { groups: ['Coastal Retail Group'] } });
    expect(grouped.matching).toBe(all.filter((r) => r.customerGroup === 'Coastal Retail Group').length);

    for (const column of ['qty', 'orderNo', 'etaDate', 'supplier', 'orderRev', 'customer'] as const) {
      for (const direction of ['asc', 'desc'] as const) {
        const p = await t.admin.ok('eta/report-view', { jobId: job.id, limit: 500, sort: { column, direction } });
        const values = p.rows.map((r) => r[column]).filter((v) => v !== null);
        const sorted = [...values].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))));
        if (direction === 'desc') sorted.reverse();
        expect(values, `${column} ${direction}`).toEqual(sorted);
      }
    }
    const page2 = await t.admin.ok('eta/report-view', { jobId: job.id, offset: 10, limit: 10, sort: { column: 'orderNo', direction: 'asc' } });
    const page1 = await t.admin.ok('eta/report-view', { jobId: job.id, offset: 0, limit: 20, sort: { column: 'orderNo', direction: 'asc' } });
    expect(page2.rows).toEqual(page1.rows.slice(10));
    expect(await t.admin.raw('eta/report-view', { jobId: job.id, sort: { column: 'Descn', direction: 'asc' } })).toMatchObject({ ok: false });
  });

  it('ERP down (503), slow or sending garbage: the cached copy with its age and the reason; one retry, then a cooldown', async () => {
    const { sim, t } = await setup({ readTimeoutMs: 1000 });
    const c = await customer(t.admin);
    const first = await runReport(t.admin, c.id);
    const firstRows = (first.job.result as { rows: number }).rows;

    t.clock.advance(10 * 60_000);
    sim.faults.unavailable = 1_000_000;
    t.waits.length = 0;
    const down = await runReport(t.admin, c.id, true);
    expect(t.waits).toEqual([250, 250]); // one retry per instance, on the test's clock
    const sources = (down.job.result as { sources: { org: string; fromCache: boolean; ageSeconds: number; warning: string | null }[] }).sources;
    expect(sources.map((s) => [s.org, s.fromCache, s.warning])).toEqual([
      ['DD', true, 'ERP DD is unavailable (503)'],
      ['CBR', true, 'ERP CBR is unavailable (503)'],
    ]);
    expect(sources[0].ageSeconds).toBeGreaterThanOrEqual(600);
    expect((down.job.result as { rows: number }).rows).toBe(firstRows);
    expect(down.log.some((l) => l.level === 'warn' && /DD: ERP DD is unavailable \(503\); showing the copy from 10 min ago/.test(l.message))).toBe(
      true,
    );

    // The cooldown (5 minutes with no setting): the ERP up again is not asked, even by Force refresh.
    expect(t.station.settings.get().erpCooldownMinutes).toBe(5);
    sim.faults.unavailable = 0;
    const calls = sim.requests.length;
    t.clock.advance(4 * 60_000);
    const resting = await runReport(t.admin, c.id, true);
    expect(sim.requests.length).toBe(calls);
    expect((resting.job.result as { sources: { warning: string }[] }).sources[0].warning).toMatch(/asked us to wait: cooling down until/);
    t.clock.advance(61_000);
    const back = await runReport(t.admin, c.id, true);
    expect(sim.requests.length).toBeGreaterThan(calls);
    expect((back.job.result as { sources: { fromCache: boolean }[] }).sources.map((s) => s.fromCache)).toEqual([false, false]);

    // Garbage: not retried, the copy shown.
    sim.faults.malformed = 2;
    const garbage = await runReport(t.admin, c.id, true);
    expect((garbage.job.result as { sources: { warning: string }[] }).sources.map((s) => s.warning)).toEqual([
      'ERP DD answered with something that is not JSON',
      'ERP CBR answered with something that is not JSON',
    ]);

    // Slow: a timed-out long read is not tried again.
    sim.faults.malformed = 0;
    t.clock.advance(31_000);
    sim.faults.latencyMs = 3000;
    const before = sim.requests.length;
    const slow = await runReport(t.admin, c.id, true);
    expect((slow.job.result as { sources: { warning: string }[] }).sources.map((s) => s.warning)).toEqual([
      'ERP DD did not answer in time',
      'ERP CBR did not answer in time',
    ]);
    expect(sim.requests.length - before).toBe(2); // one request per instance, no retry
    sim.faults.latencyMs = 0;
  });

  it('with nothing cached and the ERP down, the report fails in words', async () => {
    const { sim, t } = await setup();
    const c = await customer(t.admin);
    sim.faults.unavailable = 1_000_000;
    const started = await t.admin.ok('eta/run', { customerId: c.id });
    const job = await waitForJob(t.admin, started.job.id);
    expect(job).toMatchObject({ status: 'failed', error: expect.stringMatching(/unavailable \(503\), and nothing is saved on this station yet/) });
    expect(await t.admin.call('eta/report-view', { jobId: job.id })).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/not finished/) },
    });
  });

  it('one instance unreadable with nothing saved: the report shows the other and says which is missing, and why', async () => {
    const { sim, t } = await setup();
    const c = await customer(t.admin);
    await t.admin.ok('sync/set-credential', { name: 'erp.CBR.password', value: 'wrong' });
    const view = await runReport(t.admin, c.id);
    const summary = view.job.result as { rows: number; sources: { org: string; rows: number; fetchedAt: number | null; warning: string | null }[] };
    expect(summary.sources[0]).toMatchObject({ org: 'DD', warning: null });
    expect(summary.sources[1]).toMatchObject({
      org: 'CBR',
      rows: 0,
      fetchedAt: null,
      warning: expect.stringMatching(/refused the credentials.*nothing is saved/),
    });
    expect(summary.rows).toBe(expected(sim.data.DD, 'DD', (r) => r.Customer === "O'Brien's Wellness").length);
    expect(view.log.some((l) => l.level === 'error' && l.message.startsWith('CBR: '))).toBe(true);
  });

  it('a job silent for more than 30 s shows as stalled and can be retried; a running one cannot', async () => {
    const { sim, t } = await setup({ readTimeoutMs: 20_000 });
    const c = await customer(t.admin);
    sim.faults.latencyMs = 1500;
    const started = await t.admin.ok('eta/run', { customerId: c.id });
    expect(await t.admin.call('eta/retry', { jobId: started.job.id })).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/still running/) },
    });
    t.clock.advance(31_000);
    const stalled = await t.admin.ok('eta/job', { jobId: started.job.id });
    expect(stalled).toMatchObject({ stalled: true, job: { status: 'running' } });
    sim.faults.latencyMs = 0;
    const retried = await t.admin.ok('eta/retry', { jobId: started.job.id });
    expect(retried.job.id).not.toBe(started.job.id);
    expect(retried.stalled).toBe(false);
    expect((await waitForJob(t.admin, retried.job.id)).status).toBe('succeeded');
    // The stalled one was told to stop.
    expect((await waitForJob(t.admin, started.job.id)).status).toBe('cancelled');
  });

  it('a progress listener that throws never breaks the job', async () => {
    const { t } = await setup();
    const c = await customer(t.admin);
    // A window whose every push throws (a dead connection): it started the job, so it hears its progress.
    const broken = t.station.openSession('broken window', () => {
      throw new Error('the window is gone');
    });
    const raw = (channel: unknown, payload: unknown) => t.station.router.handle(broken, channel, payload);
    const login = await raw('auth/login', { username: 'boss', secret: 'correct horse' });
    if (!login.ok) throw new Error(login.error.message);
    await passSecondFactor(t, raw, login.value as never);
    const started = (await raw('eta/run', { customerId: c.id })) as { ok: true; value: EtaJobView };
    expect(started.ok).toBe(true);
    const job = await waitForJob(t.admin, started.value.job.id);
    expect(job.status).toBe('succeeded');
    expect((job.result as { rows: number }).rows).toBeGreaterThan(0);
  });
});

describe('ETA export', () => {
  it('scrubs sensitive columns first, then writes the fixed header order; order numbers and ids as text', async () => {
    const { t } = await setup();
    const c = await customer(t.admin);
    const { job } = await runReport(t.admin, c.id);
    const headers = [
      'Order number',
      'Revision',
      'Customer',
      'Customer group',
      'Supplier',
      'Scheduled',
      'ETA',
      'Production status',
      'Quantity',
      'ERP',
    ];

    const xlsxJob = await t.admin.ok('eta/export', { jobId: job.id, format: 'xlsx', filters: { groups: ['Coastal Retail Group'] } });
    const done = await waitForJob(t.admin, xlsxJob.id);
    expect(done.status).toBe('succeeded');
    const chunk = await t.admin.ok('exports/chunk', { jobId: xlsxJob.id, offset: 0 });
    expect(chunk.fileName).toMatch(new RegExp(`^${c.reportId}-\\d{4}-\\d{2}-\\d{2}-\\d{4}\\.xlsx$`));
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(chunk.base64, 'base64') as unknown as ArrayBuffer);
    const ws = wb.worksheets[0];
    expect((ws.getRow(1).values as unknown[]).slice(1)).toEqual(headers);
    const view = await t.admin.ok('eta/report-view', { jobId: job.id, limit: 500, filters: { groups: ['Coastal Retail Group'] } });
    expect(ws.rowCount - 1).toBe(view.matching);
    const orderCell = ws.getRow(2).getCell(1);
    expect(typeof orderCell.value).toBe('string');
    expect(orderCell.numFmt).toBe('@');
    expect(typeof ws.getRow(2).getCell(2).value).toBe('number');

    // An admin adds Supplier to the list: it goes, everything else stays in order.
    await t.admin.ok('eta/sensitive-columns-save', { columns: ['Descn', 'Notes', 'BarcodeNo', 'Supplier'] });
    const csvJob = await t.admin.ok('eta/export', { jobId: job.id, format: 'csv' });
    expect((await waitForJob(t.admin, csvJob.id)).status).toBe('succeeded');
    const csv = Buffer.from((await t.admin.ok('exports/chunk', { jobId: csvJob.id, offset: 0 })).base64, 'base64')
      .toString('utf8')
      .replace(/^\uFEFF/, '');
    expect(csv.split('\r\n')[0]).toBe(headers.filter((h) => h !== 'Supplier').join(','));
    expect(csv).not.toMatch(/Acme Packaging|Harbour Mills/);
    expect(await t.admin.call('exports/start', { what: 'eta', format: 'csv' })).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/from Reports → ETA/) },
    });
    expect(await t.admin.call('eta/export', { jobId: job.id, format: 'csv', filters: { suppliers: ['Nobody Ltd'] } })).toMatchObject({
      ok: false,
      error: { message: 'No orders match the filters: there is nothing to export' },
    });
  });

  it('scrub drops any column on the list, whatever else the rows carry, before the header order', () => {
    const row = {
      org: 'DD' as const,
      orderNo: '00123',
      orderRev: 2,
      customer: 'A',
      customerGroup: 'G',
      supplier: 'S',
      dateScheduled: '2026-12-01',
      etaDate: null,
      productionStatus: 'QA',
      statusLabel: 'Quality',
      qty: 1.5,
      Descn: 'secret product',
      Notes: 'call me',
      BarcodeNo: '0042',
    };
    const table = etaExportTable([row], ['Descn', 'notes', 'BarcodeNo', 'CustomerGroup']);
    expect(table.columns.map((c) => c.key)).toEqual(ETA_COLUMNS.filter((c) => c !== 'customerGroup'));
    expect(table.rows[0]).not.toHaveProperty('Descn');
    expect(table.rows[0]).not.toHaveProperty('Notes');
    expect(table.rows[0]).not.toHaveProperty('BarcodeNo');
    expect(table.rows[0]).not.toHaveProperty('customerGroup');
    expect(table.rows[0]).toMatchObject({ orderNo: '00123', productionStatus: 'Quality' });
    expect(table.columns.find((c) => c.key === 'orderNo')).toMatchObject({ text: true, id: true });
  });
});
