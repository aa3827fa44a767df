import { afterEach, describe, expect, it } from 'vitest';
import { checkLink, type LinkRule } from '../../src/main/bags/link-rules';
import { csv, importFile } from '../support/imports';
import { releaseAll } from '../support/cleanup';
import { withAdmin } from '../support/station';

afterEach(releaseAll);

/**
 * One table, every rule, through all three places that link a child to a parent: the dock-door
 * scan, the import preview and the import commit. Each path must reach the same verdict with the
 * same words, because they share one rules module.
 */
type Case = {
  rule: LinkRule | 'ok';
  parent: string;
  child: string;
  scan: string;
  preview: 'link' | 'present' | 'rejected';
  commit: 'linked' | 'alreadyPresent' | 'rejected';
  message: string | null;
};

const CASES: Case[] = [
  { rule: 'ok', parent: 'SB00001', child: 'C-NEW', scan: 'linked', preview: 'link', commit: 'linked', message: null },
  {
    rule: 'parent_is_child',
    parent: 'SB99999',
    child: 'C-X',
    scan: 'invalid',
    preview: 'rejected',
    commit: 'rejected',
    message: 'SB99999 is recorded as a child bag, not a parent',
  },
  {
    rule: 'parent_on_finalized_bill',
    parent: 'SB00002',
    child: 'C-Y',
    scan: 'bill_closed',
    preview: 'rejected',
    commit: 'rejected',
    message: 'SB00002 is on finalized bill',
  },
  {
    rule: 'child_is_parent',
    parent: 'SB00001',
    child: 'OLDP-1',
    scan: 'invalid',
    preview: 'rejected',
    commit: 'rejected',
    message: 'OLDP-1 is a parent bag: it cannot go inside another',
  },
  {
    rule: 'already_on_this_parent',
    parent: 'SB00001',
    child: 'C-ON1',
    scan: 'already_linked',
    preview: 'present',
    commit: 'alreadyPresent',
    message: null,
  },
  {
    rule: 'on_other_parent',
    parent: 'SB00003',
    child: 'C-ON1',
    scan: 'conflict',
    preview: 'rejected',
    commit: 'rejected',
    message: 'C-ON1 is already on parent SB00001',
  },
];

/** The same database state for every case: linked bags, a finalized bill, and two bags whose kind no longer matches the formats. */
async function station() {
  const t = await withAdmin();
  await t.admin.ok('settings/update', { idleLockMinutes: 240, scanDebounceMs: 0 });
  for (const code of ['SB00001', 'C-ON1', 'SB00002', 'C-FIN', 'SB00003']) await t.admin.ok('bags/scan', { code, source: 'wedge' });
  const bill = await t.admin.ok('bills/create', {});
  await t.admin.ok('bills/add-parent', { billId: bill.id, code: 'SB00002' });
  await t.admin.ok('bills/finalize', { billId: bill.id });
  // Recorded before the station's formats changed: a child with a parent-shaped id, a parent with a child-shaped one.
  const insert = t.station.database.sqlite.prepare("INSERT INTO bags (code, kind, created_at, station_id, origin) VALUES (?, ?, 0, 'old', 'scan')");
  insert.run('SB99999', 'child');
  insert.run('OLDP-1', 'parent');
  return t;
}

describe('link rules: one verdict for scan, preview and commit', () => {
  for (const c of CASES) {
    it(`${c.rule}: ${c.child} into ${c.parent}`, async () => {
      const scanning = await station();
      // A parent rule answers the parent's own scan; the others answer the child's.
      const parentScan = await scanning.admin.ok('bags/scan', { code: c.parent, source: 'wedge' });
      const parentRule = c.rule === 'parent_is_child' || c.rule === 'parent_on_finalized_bill';
      const outcome = parentRule ? parentScan : await scanning.admin.ok('bags/scan', { code: c.child, source: 'wedge' });
      expect(outcome.result).toBe(c.scan);
      if (c.message) expect(outcome.message).toContain(c.message);

      const importing = await station();
      const { preview, result } = await importFile(
        importing.admin,
        'one.csv',
        csv([
          ['Parent', 'Child'],
          [c.parent, c.child],
        ]),
      );
      expect(preview.rows[0].status).toBe(c.preview);
      expect(result[c.commit]).toBe(1);
      if (c.message) {
        expect(preview.rows[0].reason).toContain(c.message);
        expect(preview.rows[0].reason).toBe(outcome.message); // the same words on both paths
      }
    });
  }

  it('checkLink decides each rule from the facts alone', () => {
    const parent = { id: 1, kind: 'parent' as const, finalizedBill: null };
    expect(checkLink('SB1', parent, 'C1', null)).toEqual({ ok: true });
    expect(checkLink('SB1', null, 'C1', null)).toEqual({ ok: true }); // both new
    expect(checkLink('SB1', { ...parent, kind: 'child' }, 'C1', null)).toMatchObject({ rule: 'parent_is_child' });
    expect(checkLink('SB1', { ...parent, finalizedBill: 'B-7' }, 'C1', null)).toMatchObject({ rule: 'parent_on_finalized_bill', bill: 'B-7' });
    expect(checkLink('SB1', parent, 'C1', { id: 2, kind: 'parent', link: null })).toMatchObject({ rule: 'child_is_parent' });
    expect(checkLink('SB1', parent, 'C1', { id: 2, kind: 'child', link: { parentId: 1, parentCode: 'SB1', importJobId: null } })).toMatchObject({
      rule: 'already_on_this_parent',
    });
    expect(checkLink('SB1', parent, 'C1', { id: 2, kind: 'child', link: { parentId: 9, parentCode: 'SB9', importJobId: null } })).toMatchObject({
      rule: 'on_other_parent',
      otherParent: 'SB9',
    });
    // A new parent cannot already hold a child that is linked elsewhere.
    expect(checkLink('SB1', null, 'C1', { id: 2, kind: 'child', link: { parentId: 9, parentCode: 'SB9', importJobId: null } })).toMatchObject({
      rule: 'on_other_parent',
    });
  });
});
