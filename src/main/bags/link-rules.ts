import type Database from 'better-sqlite3';

/**
 * The rules for putting a child bag inside a parent, in one place. The dock-door scan, the import
 * preview and the import commit all read the same facts from the database and ask `checkLink`;
 * they differ only in what they do with the answer (a scan result, a preview row, a rejected row).
 */
export interface ParentFacts {
  id: number;
  kind: 'parent' | 'child';
  /** The finalized bill the bag is on, if any: such a parent takes no more children. */
  finalizedBill: string | null;
}

export interface ChildFacts {
  id: number;
  kind: 'parent' | 'child';
  /** The parent it is linked to now, if any; `site`: linked at another station of the site (from the hub's feed). */
  link: { parentId: number; parentCode: string; importJobId: number | null; site?: { station: string; user: string } | null } | null;
}

export type LinkVerdict =
  | { ok: true }
  | { ok: false; rule: 'parent_is_child'; message: string }
  | { ok: false; rule: 'parent_on_finalized_bill'; message: string; bill: string }
  | { ok: false; rule: 'child_is_parent'; message: string }
  | { ok: false; rule: 'already_on_this_parent'; message: string }
  | { ok: false; rule: 'on_other_parent'; message: string; otherParent: string };

export type LinkRule = Extract<LinkVerdict, { ok: false }>['rule'];

/**
 * May `childCode` go inside `parentCode`? `parent`/`child` are what the database holds (null: not
 * recorded yet, so it would be created). Ids are already in their formats' shape (formats.ts).
 */
export function checkLink(parentCode: string, parent: ParentFacts | null, childCode: string, child: ChildFacts | null): LinkVerdict {
  const asParent = checkParent(parentCode, parent);
  if (!asParent.ok) return asParent;
  if (child && child.kind !== 'child')
    return { ok: false, rule: 'child_is_parent', message: `${childCode} is a parent bag: it cannot go inside another` };
  if (child?.link && parent && child.link.parentId === parent.id)
    return { ok: false, rule: 'already_on_this_parent', message: `${childCode} is already on this parent` };
  if (child?.link)
    return {
      ok: false,
      rule: 'on_other_parent',
      otherParent: child.link.parentCode,
      message: `${childCode} is already on parent ${child.link.parentCode}${child.link.site ? ` (linked at ${child.link.site.station} by ${child.link.site.user})` : ''}`,
    };
  return { ok: true };
}

/** May `parentCode` take children at all (a parent scan, the first row of a parent in a file)? */
export function checkParent(
  parentCode: string,
  parent: ParentFacts | null,
): Extract<LinkVerdict, { ok: true } | { rule: 'parent_is_child' | 'parent_on_finalized_bill' }> {
  if (parent && parent.kind !== 'parent')
    return { ok: false, rule: 'parent_is_child', message: `${parentCode} is recorded as a child bag, not a parent` };
  if (parent?.finalizedBill) {
    return {
      ok: false,
      rule: 'parent_on_finalized_bill',
      bill: parent.finalizedBill,
      message: `${parentCode} is on finalized bill ${parent.finalizedBill}: it cannot take more bags`,
    };
  }
  return { ok: true };
}

/** Reads the facts `checkLink` needs, with statements prepared once per connection. */
export class LinkFactsReader {
  readonly #bag: Database.Statement;
  readonly #finalizedBill: Database.Statement;
  readonly #link: Database.Statement;

  constructor(db: Database.Database) {
    this.#bag = db.prepare('SELECT id, kind FROM bags WHERE code = ?');
    // This station's finalized bills, then those another station of the site finalized (site_bill_parents).
    this.#finalizedBill = db
      .prepare(
        `SELECT b.number FROM bill_parents bp JOIN bills b ON b.id = bp.bill_id WHERE bp.parent_id = @id AND b.status = 'finalized'
         UNION ALL SELECT s.bill_number || ' (' || s.station || ')' FROM site_bill_parents s JOIN bags p ON p.code = s.parent_code WHERE p.id = @id`,
      )
      .pluck();
    this.#link = db.prepare(
      'SELECT l.parent_id, l.import_job_id, l.site_station, l.site_user, p.code AS parent_code FROM bag_links l JOIN bags p ON p.id = l.parent_id WHERE l.child_id = ?',
    );
  }

  parent(code: string): ParentFacts | null {
    const bag = this.#bag.get(code) as { id: number; kind: 'parent' | 'child' } | undefined;
    if (!bag) return null;
    return { ...bag, finalizedBill: bag.kind === 'parent' ? this.finalizedBillOf(bag.id) : null };
  }

  /** The finalized bill (here or at another station of the site) a parent is on, or null. */
  finalizedBillOf(parentId: number): string | null {
    return (this.#finalizedBill.get({ id: parentId }) as string | undefined) ?? null;
  }

  child(code: string): ChildFacts | null {
    const bag = this.#bag.get(code) as { id: number; kind: 'parent' | 'child' } | undefined;
    return bag ? this.childById(bag) : null;
  }

  /** Facts of a bag already read (by id and kind). */
  childById(bag: { id: number; kind: 'parent' | 'child' }): ChildFacts {
    const link = this.#link.get(bag.id) as
      { parent_id: number; parent_code: string; import_job_id: number | null; site_station: string | null; site_user: string | null } | undefined;
    if (!link) return { ...bag, link: null };
    const site = link.site_station ? { station: link.site_station, user: link.site_user ?? '?' } : null;
    return { ...bag, link: { parentId: link.parent_id, parentCode: link.parent_code, importJobId: link.import_job_id, site } };
  }
}
