import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import ExcelJS from 'exceljs';
import { afterEach, describe, expect, it } from 'vitest';
import { databasePath } from '../../src/main/app/station';
import type { ScanOutcome } from '../../src/shared/contract/bags';
import type { Envelope } from '../../src/shared/envelope';
import { onRelease, releaseAll } from '../support/cleanup';
import { runScript } from '../support/script';
import { withAdmin } from '../support/station';

const DOOR_SCRIPT = fileURLToPath(new URL('../support/dock-door-child.ts', import.meta.url));
afterEach(releaseAll);

async function dock() {
  const t = await withAdmin();
  await t.admin.ok('settings/update', { targetChildrenPerParent: 30 });
  const w = await t.signedIn('dispatcher', 'dock1');
  const scan = (code: string, source: 'wedge' | 'manual' | 'hid' = 'wedge') => w.ok('bags/scan', { code, source });
  const count = (sql: string) => (t.station.database.sqlite.prepare(sql).get() as { n: number }).n;
  return { ...t, w, scan, count };
}

describe('dock-door scanning', () => {
  it('a parent then children: each linked, counted against the target, audited and queued', async () => {
    const t = await dock();
    expect(await t.scan('sb12345')).toMatchObject({
      result: 'parent',
      code: 'SB12345',
      message: 'New parent SB12345',
      parent: { childCount: 0, target: 30 },
    });
    for (let i = 1; i <= 3; i++) {
      const r = await t.scan(`C-${i}`);
      expect(r).toMatchObject({ result: 'linked', parent: { code: 'SB12345', childCount: i } });
    }
    expect(t.count('SELECT count(*) n FROM bag_links')).toBe(3);
    expect(t.count("SELECT count(*) n FROM audit_log WHERE action = 'bags.linked'")).toBe(3);
    expect(t.count("SELECT count(*) n FROM outbox WHERE op = 'link_child@1'")).toBe(3);
    expect(t.count("SELECT count(*) n FROM outbox WHERE op = 'bag_created@1'")).toBe(4);
    expect(t.count("SELECT count(*) n FROM scans WHERE result = 'linked' AND source = 'wedge'")).toBe(3);
    // Re-scanning the parent shows its count.
    t.clock.advance(2000);
    expect(await t.scan('SB12345')).toMatchObject({ result: 'parent', message: 'Parent SB12345 — 3 children' });
  });

  it('the same child again is calm; a child on another parent names that parent; nothing changes', async () => {
    const t = await dock();
    await t.scan('SB00001');
    await t.scan('C-1');
    t.clock.advance(2000);
    expect(await t.scan('C-1')).toMatchObject({ result: 'already_linked', message: 'C-1 is already on this parent' });
    await t.scan('SB00002');
    const before = t.count('SELECT count(*) n FROM bag_links');
    expect(await t.scan('c-1')).toMatchObject({ result: 'conflict', otherParent: 'SB00001', message: 'C-1 is already on parent SB00001' });
    expect(t.count('SELECT count(*) n FROM bag_links')).toBe(before);
  });

  it('refuses malformed ids with the reason and records the rejected scan only in the scan log', async () => {
    const t = await dock();
    await t.scan('SB00001');
    const links = t.count('SELECT count(*) n FROM bag_links');
    const bags = t.count('SELECT count(*) n FROM bags');
    const outbox = t.count('SELECT count(*) n FROM outbox');
    expect(await t.scan('SB1234')).toMatchObject({ result: 'invalid', message: 'SB1234 is not a valid parent id: expected SB + 5 digits' });
    expect(await t.scan('x'.repeat(80))).toMatchObject({ result: 'invalid', message: expect.stringContaining('Too long') });
    expect([t.count('SELECT count(*) n FROM bag_links'), t.count('SELECT count(*) n FROM bags'), t.count('SELECT count(*) n FROM outbox')]).toEqual([
      links,
      bags,
      outbox,
    ]);
    expect(t.count("SELECT count(*) n FROM scans WHERE result = 'invalid'")).toBe(2);
  });

  it('a child with no current parent asks for a parent first', async () => {
    const t = await dock();
    expect(await t.scan('C-9')).toMatchObject({ result: 'no_parent', message: 'Scan a parent bag first, then C-9' });
    expect(t.count('SELECT count(*) n FROM bags')).toBe(0);
  });

  it('ignores identical scans inside the debounce window, and accepts them after it', async () => {
    const t = await dock();
    await t.scan('SB00001');
    await t.scan('C-1');
    t.clock.advance(500);
    expect(await t.scan('C-1')).toMatchObject({ result: 'ignored' });
    t.clock.advance(1500);
    expect(await t.scan('C-1')).toMatchObject({ result: 'already_linked' });
  });

  it('the current parent belongs to the window: another window has its own', async () => {
    const t = await dock();
    await t.scan('SB00001');
    const other = t.window('second window');
    await other.ok('auth/login', { username: 'dock1', secret: 'password-123' });
    expect(await other.ok('bags/scan', { code: 'C-5', source: 'manual' })).toMatchObject({ result: 'no_parent' });
    expect((await t.w.ok('bags/current', {})).parent?.code).toBe('SB00001');
  });
});

describe('undo last scan', () => {
  it('undoes the latest link, then the one before, audited, and removes a child bag it created', async () => {
    const t = await dock();
    await t.scan('SB00001');
    for (let i = 1; i <= 30; i++) await t.scan(`C-${i}`);
    const first = await t.w.ok('bags/undo-last', {});
    expect(first).toMatchObject({ message: 'Undone: C-30 is off SB00001 (29 left)', parent: { childCount: 29 } });
    expect(t.count("SELECT count(*) n FROM bags WHERE code = 'C-30'")).toBe(0);
    expect((await t.w.ok('bags/undo-last', {})).parent?.childCount).toBe(28);
    expect(t.count("SELECT count(*) n FROM audit_log WHERE action = 'bags.link_undone'")).toBe(2);
    expect(t.count("SELECT count(*) n FROM outbox WHERE op = 'unlink_child@1'")).toBe(2);
    const recent = (await t.w.ok('bags/current', {})).recent;
    expect(recent[0]).toMatchObject({ code: 'C-30', result: 'undone' });
  });

  it('refuses outside the undo window and says why', async () => {
    const t = await dock();
    await t.admin.ok('settings/update', { idleLockMinutes: 240 });
    await t.scan('SB00001');
    await t.scan('C-1');
    t.clock.advance(61 * 60_000);
    expect(await t.w.call('bags/undo-last', {})).toMatchObject({
      ok: false,
      error: { code: 'not_found', message: 'Nothing to undo: no bag linked by you in the last 60 minutes' },
    });
  });

  it('only undoes the caller’s own links', async () => {
    const t = await dock();
    await t.scan('SB00001');
    await t.scan('C-1');
    const other = await t.signedIn('dispatcher', 'dock2');
    expect(await other.call('bags/undo-last', {})).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });
});

describe('concurrent links', () => {
  it('two stations on one database file link the same child to different parents at once: one wins, the other is told which parent has it', async () => {
    const setup = await dock();
    await setup.close(); // each door below opens the file on its own connection, in its own process
    const doors = ['SB00001', 'SB00002'].map((parent) => runScript(DOOR_SCRIPT, [setup.dataDir, parent, 'C-77']));
    await Promise.all(doors.map((d) => d.line((l) => l === 'READY')));

    // The barrier: this connection holds the write lock while both doors start their scan, so
    // neither can commit before the other has begun; then both go for the lock at once.
    const db = new Database(databasePath(setup.dataDir));
    onRelease(() => db.close());
    db.exec('BEGIN IMMEDIATE');
    for (const d of doors) d.send('GO');
    await Promise.all(doors.map((d) => d.line((l) => l === 'SCANNING')));
    expect(doors.flatMap((d) => d.lines.filter((l) => l.startsWith('RESULT')))).toEqual([]);
    db.exec('COMMIT');

    const answers = await Promise.all(
      doors.map(async (d) => JSON.parse((await d.line((l) => l.startsWith('RESULT '))).slice(7)) as Envelope<ScanOutcome>),
    );
    const outcomes = answers.map((a) => (a.ok ? a.value : expect.fail(`a door's scan failed: ${a.error.code} ${a.error.message}`)));
    expect(outcomes.map((o) => o.result).sort()).toEqual(['conflict', 'linked']);
    const winner = outcomes.find((o) => o.result === 'linked')!;
    const loser = outcomes.find((o) => o.result === 'conflict')!;
    expect(loser).toMatchObject({ otherParent: winner.parent!.code, message: `C-77 is already on parent ${winner.parent!.code}` });
    expect(
      db.prepare("SELECT p.code FROM bag_links l JOIN bags c ON c.id = l.child_id JOIN bags p ON p.id = l.parent_id WHERE c.code = 'C-77'").all(),
    ).toEqual([{ code: winner.parent!.code }]);
    expect(db.prepare("SELECT count(*) n FROM outbox WHERE op = 'link_child@1'").get()).toEqual({ n: 1 });
    expect(db.prepare("SELECT result FROM scans WHERE code = 'C-77' ORDER BY id").all()).toEqual([{ result: 'linked' }, { result: 'conflict' }]);
  }, 60_000);
});

describe('bills', () => {
  async function billing() {
    const t = await dock();
    await t.scan('SB00001');
    for (let i = 1; i <= 3; i++) await t.scan(`A-${i}`);
    await t.scan('M444-00002');
    for (let i = 1; i <= 2; i++) await t.scan(`B-0${i}`);
    const biller = await t.signedIn('biller', 'billing1');
    return { ...t, biller };
  }

  it('weight = children × kg per child; finalize fixes it; a finalized bill is read-only', async () => {
    const t = await billing();
    await t.admin.ok('settings/update', { kgPerChild: 1.5 });
    const bill = await t.biller.ok('bills/create', { note: 'Truck 4' });
    expect(bill.number).toBe('B-000001');
    await t.biller.ok('bills/add-parent', { billId: bill.id, code: 'sb00001' });
    const view = await t.biller.ok('bills/add-parent', { billId: bill.id, code: 'M444-00002' });
    expect(view).toMatchObject({ parentCount: 2, childCount: 5, weightKg: 7.5, status: 'draft' });
    expect(view.parents.map((p) => [p.code, p.childCount, p.weightKg])).toEqual([
      ['SB00001', 3, 4.5],
      ['M444-00002', 2, 3],
    ]);

    const fin = await t.biller.ok('bills/finalize', { billId: bill.id });
    expect(fin).toMatchObject({ status: 'finalized', weightKg: 7.5, kgPerChild: 1.5 });
    // Later setting changes do not touch a finalized bill.
    await t.admin.ok('settings/update', { kgPerChild: 2 });
    expect((await t.biller.ok('bills/get', { billId: bill.id })).weightKg).toBe(7.5);
    expect(await t.biller.call('bills/remove-parent', { billId: bill.id, code: 'SB00001' })).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    });
    // Nor can its parents take more bags, or lose one by undo.
    t.clock.advance(5000);
    expect(await t.scan('SB00001')).toMatchObject({ result: 'bill_closed' });
    expect(await t.w.call('bags/undo-last', {})).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(t.count("SELECT count(*) n FROM outbox WHERE op = 'bill_finalized@1'")).toBe(1);
  });

  it('refuses children, unknown bags, a parent already on another bill, and empty finalization', async () => {
    const t = await billing();
    const b1 = await t.biller.ok('bills/create', {});
    const b2 = await t.biller.ok('bills/create', {});
    expect(await t.biller.call('bills/finalize', { billId: b1.id })).toMatchObject({
      ok: false,
      error: { message: expect.stringContaining('no parent bags') },
    });
    expect(await t.biller.call('bills/add-parent', { billId: b1.id, code: 'A-1' })).toMatchObject({
      ok: false,
      error: { message: 'A-1 is a child bag: only parent bags go on a bill' },
    });
    expect(await t.biller.call('bills/add-parent', { billId: b1.id, code: 'SB99999' })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    await t.biller.ok('bills/add-parent', { billId: b1.id, code: 'SB00001' });
    expect(await t.biller.call('bills/add-parent', { billId: b2.id, code: 'SB00001' })).toMatchObject({
      ok: false,
      error: { message: `SB00001 is already on bill ${b1.number}` },
    });
  });

  it('a dispatcher cannot manage bills; a biller cannot scan', async () => {
    const t = await billing();
    expect(await t.w.call('bills/create', {})).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await t.biller.call('bags/scan', { code: 'SB00001', source: 'manual' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('exports CSV and XLSX with ids as text', async () => {
    const t = await billing();
    await t.scan('SB00003');
    await t.scan('00042');
    const bill = await t.biller.ok('bills/create', {});
    await t.biller.ok('bills/add-parent', { billId: bill.id, code: 'SB00003' });
    t.clock.advance(1000);
    await t.biller.ok('bills/add-parent', { billId: bill.id, code: 'SB00001' });
    const csv = await t.biller.ok('bills/export', { billId: bill.id, format: 'csv' });
    const text = Buffer.from(csv.base64, 'base64').toString('utf8');
    expect(csv.fileName).toBe('bill-B-000001.csv');
    expect(text.split('\r\n')[0]).toBe('\uFEFFBill,Status,Parent bag,Children,Weight (kg),Added at');
    expect(text).toContain('B-000001,draft,SB00003,1,1,');

    const xlsx = await t.biller.ok('bills/export', { billId: bill.id, format: 'xlsx' });
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(xlsx.base64, 'base64') as unknown as ArrayBuffer);
    const children = wb.getWorksheet('Children')!;
    const childCell = children.getRow(2).getCell(2);
    expect(childCell.value).toBe('00042');
    expect(childCell.numFmt).toBe('@');
    expect(wb.worksheets[0].getRow(2).getCell(3).value).toBe('SB00003');
  });
});

describe('search, detail, delete, audit', () => {
  it('finds by prefix with keyset pages, by bill, by user; detail shows parent, children, bill and scans', async () => {
    const t = await dock();
    await t.scan('SB00001');
    for (let i = 10; i < 35; i++) await t.scan(`K-${i}`);
    const page1 = await t.w.ok('bags/search', { prefix: 'k-', limit: 10 });
    expect(page1.rows.map((r) => r.code)).toEqual(Array.from({ length: 10 }, (_, i) => `K-${10 + i}`));
    const page2 = await t.w.ok('bags/search', { prefix: 'K-', limit: 10, cursor: page1.nextCursor! });
    expect(page2.rows[0].code).toBe('K-20');
    const page3 = await t.w.ok('bags/search', { prefix: 'K-', limit: 10, cursor: page2.nextCursor! });
    expect(page3.rows).toHaveLength(5);
    expect(page3.nextCursor).toBeNull();
    expect(await t.w.call('bags/search', { cursor: 'garbage!' })).toMatchObject({ ok: false, error: { code: 'invalid' } });

    const byUser = await t.w.ok('bags/search', { username: 'dock1', limit: 100 });
    expect(byUser.rows).toHaveLength(26);
    expect((await t.w.ok('bags/search', { username: 'boss' })).rows).toHaveLength(0);

    const detail = await t.w.ok('bags/detail', { code: 'sb00001' });
    expect(detail).toMatchObject({ kind: 'parent', childCount: 25, bill: null });
    expect(detail.children).toHaveLength(25);
    const child = await t.w.ok('bags/detail', { code: 'K-10' });
    expect(child).toMatchObject({ kind: 'child', parentCode: 'SB00001' });
    expect(child.scans[0]).toMatchObject({ result: 'linked', username: 'dock1' });
  });

  it('an admin deletes a bag (audited with a snapshot) but not one on a finalized bill', async () => {
    const t = await dock();
    await t.scan('SB00001');
    await t.scan('C-1');
    await t.scan('SB00002');
    await t.scan('C-2');
    expect(await t.w.call('bags/delete', { code: 'C-1', reason: 'test' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    await t.admin.ok('bags/delete', { code: 'SB00001', reason: 'mislabelled' });
    expect(await t.admin.call('bags/detail', { code: 'SB00001' })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect((await t.admin.ok('bags/detail', { code: 'C-1' })).parentCode).toBeNull();
    const audit = await t.admin.ok('audit/list', { action: 'bags.deleted' });
    expect(audit.rows[0]).toMatchObject({ entityId: 'SB00001', before: { children: ['C-1'] }, detail: 'mislabelled', username: 'boss' });

    const bill = await t.admin.ok('bills/create', {});
    await t.admin.ok('bills/add-parent', { billId: bill.id, code: 'SB00002' });
    await t.admin.ok('bills/finalize', { billId: bill.id });
    expect(await t.admin.call('bags/delete', { code: 'C-2', reason: 'nope' })).toMatchObject({
      ok: false,
      error: { message: `C-2's parent SB00002 is on finalized bill ${bill.number}: it cannot be deleted` },
    });
  });

  it('the audit list filters by action family, user and entity, newest first with pages', async () => {
    const t = await dock();
    await t.scan('SB00001');
    for (let i = 0; i < 5; i++) await t.scan(`Q-${i}`);
    const linked = await t.admin.ok('audit/list', { action: 'bags', username: 'dock1', limit: 4 });
    expect(linked.rows).toHaveLength(4);
    expect(linked.rows.every((r) => r.action.startsWith('bags.'))).toBe(true);
    expect(linked.rows[0].id).toBeGreaterThan(linked.rows[1].id);
    const next = await t.admin.ok('audit/list', { action: 'bags', username: 'dock1', limit: 4, cursor: linked.nextCursor! });
    expect(next.rows.length).toBeGreaterThan(0);
    expect((await t.admin.ok('audit/list', { entityId: 'q-3' })).rows.map((r) => r.action)).toEqual(['bags.linked', 'bags.created']);
    expect(await t.w.call('audit/list', {})).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });
});
