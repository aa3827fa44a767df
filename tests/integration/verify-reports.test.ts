import { randomUUID } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnrolmentCode } from '../../src/hub/enrolment';
import { startErpSimulator, type ErpSimulator } from '../../src/simulators/odata-erp';
import type { VerifyCompareSummary, VerifySnapshotView } from '../../src/shared/contract/verify-reports';
import type { VerifyRecordedPayload } from '../../src/shared/hub';
import { releaseAll } from '../support/cleanup';
import { stationOnErp } from '../support/erp';
import { downloadExport } from '../support/exports';
import { VERIFY_COMPARE_HEADER } from '../support/verify-reports';
import { startHubDatabase, startHubProcess, type HubProcess } from '../support/hub';
import { waitForJob } from '../support/imports';
import type { TestPostgres } from '../support/postgres';
import { eventually } from '../support/sheets';

/**
 * Reports → Verification on two stations joined to one hub (a real PostgreSQL): records counted and
 * finalized at either station are kept by both (the sender when the hub answers ok, the other through
 * the feed), snapshots sum them, and compares run as jobs whose differences are kept and exported.
 */
let postgres: TestPostgres;
let admin: pg.Pool;
let erp: ErpSimulator;
let hub: HubProcess;

async function stationAt(name: string, person: string) {
  const key = name.toLowerCase().replace(/\s+/g, '');
  const t = await stationOnErp(erp.url, erp.users, { verifyHeartbeatMs: 0, syncIntervalMs: 0 }, `boss-${key}`);
  const { code } = await createEnrolmentCode(admin, 1);
  await t.admin.ok('site/join', { url: hub.url, code, stationName: name });
  const w = await t.signedIn('dispatcher', person);
  await w.ok('verify/items-refresh', {});
  return { ...t, w, name };
}
type At = Awaited<ReturnType<typeof stationAt>>;
let a: At;
let b: At;

const code = (n: number) => `DD-ITEM-${String(n).padStart(4, '0')}`;
const records = (t: At) =>
  t.station.database.sqlite
    .prepare(
      'SELECT client_record_id, rack_id, floor, item_code, verified, damaged, serials, user, station, batch_id FROM site_verify_records ORDER BY client_record_id',
    )
    .all() as { client_record_id: string; station: string; batch_id: string | null }[];

/** Counts a rack at a station through the channels a person uses: claim, lines, finalize; then sends the records to the hub. */
async function count(t: At, rackId: string, floor: string, lines: { item: number; verified: number; damaged?: number; serials?: string[] }[]) {
  await t.admin.ok('verify/rack-save', { rackId, floor });
  const s = await t.w.ok('verify/claim', { rackId, floor });
  for (const l of lines)
    await t.w.ok('verify/line-save', {
      sessionId: s.id,
      itemCode: code(l.item),
      verified: l.verified,
      damaged: l.damaged ?? 0,
      serials: l.serials ?? [],
    });
  await t.w.ok('verify/finalize', { sessionId: s.id });
  await t.station.sync.drain('verify', { force: true });
  const ids = t.station.database.sqlite.prepare("SELECT client_record_id FROM verify_lines WHERE session_id = ? AND status = 'ok'").pluck().all(s.id);
  expect(ids).toHaveLength(lines.length);
  return ids as string[];
}

/** Both stations hold the same site records (the other's arrive through the feed). */
const inStep = () => eventually(() => records(a).length === records(b).length, 'both stations keep the same records', 30_000);

async function compare(t: At, x: VerifySnapshotView, y: VerifySnapshotView) {
  const job = await t.w.ok('verify/compare', { a: x.id, b: y.id });
  expect((await waitForJob(t.w, job.id)).status).toBe('succeeded');
  return t.w.ok('verify/compare-view', { jobId: job.id, offset: 0, limit: 500 });
}

beforeAll(async () => {
  ({ postgres, admin } = await startHubDatabase());
  erp = await startErpSimulator({ ordersPerOrg: 5, itemsPerOrg: 20 });
  hub = await startHubProcess(postgres.url);
  a = await stationAt('Dock 1', 'dana');
  b = await stationAt('Dock 2', 'bob');
  await eventually(() => a.station.site.status().connected && b.station.site.status().connected, 'both stations follow the feed', 30_000);
}, 180_000);
afterAll(releaseAll, 60_000);

let first: VerifySnapshotView;
let second: VerifySnapshotView;

describe('what the site recorded', () => {
  it('keeps a record at its station when the hub takes it, with the batch, and at the other station through the feed', async () => {
    const ids = await count(a, 'R1', 'Ground', [
      { item: 1, verified: 5, damaged: 1, serials: ['S-1', 'S-2'] },
      { item: 2, verified: 3 },
    ]);
    const mine = records(a);
    expect(mine.map((r) => r.client_record_id).sort()).toEqual([...ids].sort());
    for (const r of mine) expect(r).toMatchObject({ station: 'Dock 1', batch_id: expect.any(String) });
    await inStep();
    expect(records(b)).toEqual(mine);
    const one = b.station.database.sqlite.prepare('SELECT * FROM site_verify_records WHERE item_code = ?').get(code(1));
    expect(one).toMatchObject({ rack_id: 'R1', floor: 'Ground', verified: 5, damaged: 1, serials: '["S-1","S-2"]', user: 'dana' });
  });
});

describe('snapshots', () => {
  it('sums every station’s records per floor, rack and item: counted, damaged, serials sorted once, record count; audited', async () => {
    await count(b, 'R1', 'Ground', [{ item: 1, verified: 2, damaged: 1, serials: ['S-0'] }]);
    await count(b, 'U1', 'Upper', [{ item: 3, verified: 4, serials: ['=HYPERLINK("x")'] }]);
    await inStep();
    first = await a.w.ok('verify/snapshot-take', { name: 'Monday count' });
    expect(first).toMatchObject({ name: 'Monday count', floor: null, takenBy: 'dana', records: 4, rows: 3 });
    const page = await a.w.ok('verify/snapshot-rows', { snapshotId: first.id, offset: 0, limit: 50 });
    expect(page.total).toBe(3);
    expect(page.rows.map(({ itemName: _name, ...r }) => r)).toEqual([
      { floor: 'Ground', rackId: 'R1', itemCode: code(1), counted: 7, damaged: 2, serials: ['S-0', 'S-1', 'S-2'], records: 2 },
      { floor: 'Ground', rackId: 'R1', itemCode: code(2), counted: 3, damaged: 0, serials: [], records: 1 },
      { floor: 'Upper', rackId: 'U1', itemCode: code(3), counted: 4, damaged: 0, serials: ['=HYPERLINK("x")'], records: 1 },
    ]);
    expect(page.rows[0].itemName).toEqual(expect.any(String));
    const audit = a.station.database.sqlite.prepare("SELECT username, after FROM audit_log WHERE action = 'verify.snapshot-taken'").all();
    expect(audit).toEqual([{ username: 'dana', after: JSON.stringify({ name: 'Monday count', floor: null, records: 4, rows: 3 }) }]);
    expect((await a.w.ok('verify/snapshots', {})).map((s) => s.id)).toEqual([first.id]);
  });

  it('a snapshot of one floor has only that floor’s racks', async () => {
    const upper = await a.w.ok('verify/snapshot-take', { name: 'Upper only', floor: 'Upper' });
    expect(upper).toMatchObject({ floor: 'Upper', records: 1, rows: 1 });
    const page = await a.w.ok('verify/snapshot-rows', { snapshotId: upper.id, offset: 0, limit: 50 });
    expect(page.rows.map((r) => r.rackId)).toEqual(['U1']);
  });
});

describe('compare', () => {
  it('finds rows only in A, only in B, and changed ones with counted and damaged changes and serials added', async () => {
    await count(a, 'R1', 'Ground', [{ item: 2, verified: 1, damaged: 1, serials: ['S-9'] }]);
    await count(a, 'R2', 'Ground', [{ item: 4, verified: 6 }]);
    await inStep();
    second = await a.w.ok('verify/snapshot-take', { name: 'Tuesday ground', floor: 'Ground' });
    const view = await compare(a, first, second);
    expect(view.summary).toMatchObject({ compared: 4, differences: 3, onlyA: 1, onlyB: 1, changed: 1 } satisfies Partial<VerifyCompareSummary>);
    expect(view.summary?.a.id).toBe(first.id);
    expect(view.rows.map(({ itemName: _name, ...r }) => r)).toEqual([
      {
        floor: 'Ground',
        rackId: 'R1',
        itemCode: code(2),
        kind: 'changed',
        countedA: 3,
        countedB: 4,
        damagedA: 0,
        damagedB: 1,
        countedDelta: 1,
        damagedDelta: 1,
        serialsAdded: ['S-9'],
        serialsRemoved: [],
      },
      {
        floor: 'Ground',
        rackId: 'R2',
        itemCode: code(4),
        kind: 'only_b',
        countedA: null,
        countedB: 6,
        damagedA: null,
        damagedB: 0,
        countedDelta: 6,
        damagedDelta: 0,
        serialsAdded: [],
        serialsRemoved: [],
      },
      {
        floor: 'Upper',
        rackId: 'U1',
        itemCode: code(3),
        kind: 'only_a',
        countedA: 4,
        countedB: null,
        damagedA: 0,
        damagedB: null,
        countedDelta: -4,
        damagedDelta: 0,
        serialsAdded: [],
        serialsRemoved: ['=HYPERLINK("x")'],
      },
    ]);
  });

  it('the other way round, serials counted since are removed', async () => {
    const view = await compare(a, second, first);
    expect(view.rows.find((r) => r.itemCode === code(2))).toMatchObject({
      kind: 'changed',
      countedDelta: -1,
      serialsAdded: [],
      serialsRemoved: ['S-9'],
    });
  });

  it('two snapshots of the same records do not differ, and exporting that is refused in words', async () => {
    const again = await a.w.ok('verify/snapshot-take', { name: 'Tuesday ground again', floor: 'Ground' });
    const view = await compare(a, second, again);
    expect(view.summary).toMatchObject({ compared: 3, differences: 0 });
    expect(view.rows).toEqual([]);
    expect(await a.w.call('verify/compare-export', { jobId: view.job.id, format: 'csv' })).toEqual({
      ok: false,
      error: { code: 'invalid', message: '“Tuesday ground” and “Tuesday ground again” do not differ: there is nothing to export' },
    });
  });

  it('exports the differences as CSV, formula-like cells neutralised, and as XLSX with the same rows', async () => {
    const view = await compare(a, first, second);
    const csv = await downloadExport(a.w, await a.w.ok('verify/compare-export', { jobId: view.job.id, format: 'csv' }));
    expect(csv.name).toMatch(new RegExp(`^verification-compare-${first.id}-${second.id}-\\d{4}-\\d\\d-\\d\\d-\\d{4}\\.csv$`));
    const rows = parse(csv.bytes, { bom: true }) as string[][];
    expect(rows[0]).toEqual(VERIFY_COMPARE_HEADER);
    expect(rows.slice(1).map((r) => [r[0], r[1], r[2], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12]])).toEqual([
      ['Ground', 'R1', code(2), 'Changed', '3', '4', '1', '0', '1', '1', 'S-9', ''],
      ['Ground', 'R2', code(4), 'Only in B', '', '6', '6', '', '0', '0', '', ''],
      ['Upper', 'U1', code(3), 'Only in A', '4', '', '-4', '0', '', '0', '', `'=HYPERLINK("x")`],
    ]);
    const xlsx = await downloadExport(a.w, await a.w.ok('verify/compare-export', { jobId: view.job.id, format: 'xlsx' }));
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xlsx.bytes as unknown as ArrayBuffer);
    const ws = wb.worksheets[0];
    expect(ws.rowCount).toBe(4);
    expect(ws.getRow(4).getCell(13).value).toBe('=HYPERLINK("x")');
    expect(ws.getRow(4).getCell(13).type).toBe(ExcelJS.ValueType.String);
  });
});

describe('refusals', () => {
  it('refuses an unknown snapshot, the same snapshot twice and a too-long name in words, naming the field, and keeps nothing', async () => {
    const before = (await a.w.ok('verify/snapshots', {})).length;
    const jobs = () => a.station.database.sqlite.prepare('SELECT count(*) FROM jobs').pluck().get();
    const jobsBefore = jobs();
    expect(await a.w.call('verify/compare', { a: first.id, b: 9999 })).toEqual({
      ok: false,
      error: {
        code: 'not_found',
        message: 'There is no snapshot 9999: pick one from the list',
        issues: [{ path: 'b', message: 'There is no snapshot 9999: pick one from the list' }],
      },
    });
    const same = await a.w.call('verify/compare', { a: first.id, b: first.id });
    expect(same).toMatchObject({
      ok: false,
      error: { code: 'invalid', message: 'Pick two different snapshots: A and B are both “Monday count”', issues: [{ path: 'b' }] },
    });
    const long = await a.w.call('verify/snapshot-take', { name: 'x'.repeat(81) });
    expect(long).toMatchObject({
      ok: false,
      error: { code: 'invalid', issues: [{ path: 'name', message: 'A snapshot name is at most 80 characters' }] },
    });
    expect(await a.w.call('verify/snapshot-rows', { snapshotId: 9999, offset: 0, limit: 10 })).toMatchObject({
      ok: false,
      error: { code: 'not_found', message: 'There is no snapshot 9999: pick one from the list' },
    });
    expect((await a.w.ok('verify/snapshots', {})).length).toBe(before);
    expect(jobs()).toBe(jobsBefore);
  });

  it('a biller reads snapshots but may not take one or compare; another dispatcher is told a compare they did not start does not exist', async () => {
    const biller = await a.signedIn('biller', 'bea');
    expect((await biller.ok('verify/snapshots', {})).length).toBeGreaterThan(0);
    expect(await biller.call('verify/snapshot-take', { name: 'Mine' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await biller.call('verify/compare', { a: first.id, b: second.id })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const job = await a.w.ok('verify/compare', { a: first.id, b: second.id });
    await waitForJob(a.w, job.id);
    const other = await a.signedIn('dispatcher', 'otto');
    expect(await other.call('verify/compare-view', { jobId: job.id, offset: 0, limit: 10 })).toEqual({
      ok: false,
      error: { code: 'not_found', message: `There is no compare ${job.id}` },
    });
    expect(await a.admin.call('verify/compare-view', { jobId: job.id, offset: 0, limit: 10 })).toMatchObject({ ok: true });
  });
});

describe('stopping a compare', () => {
  it('a compare stopped by its owner ends cancelled between steps and keeps no differences', async () => {
    // 3,000 racks and items recorded at another station arrive through the feed's applier.
    const records = Array.from({ length: 3000 }, (_, i) => ({
      id: randomUUID(),
      sessionId: 'elsewhere',
      rackId: `B${String(i).padStart(4, '0')}`,
      floor: 'Basement',
      itemCode: code(1),
      verified: 1,
      damaged: 0,
      serials: [],
      user: 'zed',
      hubMadeAt: Date.now(),
    }));
    a.station.database.sqlite.transaction(() =>
      a.station.verify.appliers()['verify_recorded@1'](
        a.station.database.db,
        {
          seq: 1_000_000,
          opId: randomUUID(),
          op: 'verify_recorded@1',
          payload: { batchId: 'b-1', station: 'Dock 9', records } satisfies VerifyRecordedPayload,
          station: 'Dock 9',
          user: 'zed',
          at: Date.now(),
          appliedAt: new Date().toISOString(),
        },
        { now: Date.now(), stationName: 'Dock 1' },
      ),
    )();
    const big = await a.w.ok('verify/snapshot-take', { name: 'With the basement' });
    expect(big.rows).toBe(3004);
    const job = await a.w.ok('verify/compare', { a: first.id, b: big.id });
    expect(await a.w.ok('verify/compare-cancel', { jobId: job.id })).toMatchObject({ id: job.id });
    const ended = await waitForJob(a.w, job.id);
    expect(ended.status).toBe('cancelled');
    const view = await a.w.ok('verify/compare-view', { jobId: job.id, offset: 0, limit: 10 });
    expect(view).toMatchObject({ summary: null, total: 0, rows: [] });
    expect(a.station.database.sqlite.prepare('SELECT count(*) FROM verify_compare_rows WHERE job_id = ?').pluck().get(job.id)).toBe(0);
  });
});
