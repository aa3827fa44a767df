import type Database from 'better-sqlite3';
import { and, eq } from 'drizzle-orm';
import type { BillSummary, BillView, ExportedFile } from '../../shared/contract/bills';
import { DomainError } from '../../shared/envelope';
import { recordAudit, type AuditActor, type AuditContext } from '../audit/record';
import type { Db } from '../db/open';
import { bags, billParents, bills } from '../db/schema';
import { exportTable } from '../exports/table-file';
import type { SettingsService } from '../settings/service';
import { BAGS_UPSTREAM, enqueue } from '../outbox/enqueue';

export interface BillServiceDeps {
  db: Db;
  settings: SettingsService;
  audit: AuditContext;
  now: () => number;
}

/** Weights are kg with gram precision. */
const kg = (n: number) => Math.round(n * 1000) / 1000;

/** A finalized bill as its audit row and the bill_finalized@1 op carry it. */
const finalizedRecord = (view: BillView) => ({
  number: view.number,
  parents: view.parents.map((p) => ({ code: p.code, children: p.childCount })),
  childCount: view.childCount,
  weightKg: view.weightKg,
  kgPerChild: view.kgPerChild,
});

interface RawBill {
  id: number;
  number: string;
  status: 'draft' | 'finalized';
  note: string | null;
  kg_per_child: number | null;
  total_children: number | null;
  created_at: number;
  created_by: string | null;
  finalized_at: number | null;
  finalized_by: string | null;
  parent_count: number;
  child_count: number;
}

/** Bills group parent bags; weight = children × kg per child. Finalized bills never change. */
export class BillService {
  readonly #sql: ReturnType<typeof prepareStatements>;

  constructor(private readonly deps: BillServiceDeps) {
    this.#sql = prepareStatements(deps.db.$client);
  }

  private kgPerChild(bill: Pick<RawBill, 'kg_per_child'>): number {
    return bill.kg_per_child ?? this.deps.settings.get().kgPerChild;
  }

  private summary(raw: RawBill): BillSummary {
    const children = raw.total_children ?? raw.child_count;
    return {
      id: raw.id,
      number: raw.number,
      status: raw.status,
      note: raw.note,
      parentCount: raw.parent_count,
      childCount: children,
      weightKg: kg(children * this.kgPerChild(raw)),
      createdAt: raw.created_at,
      createdBy: raw.created_by,
      finalizedAt: raw.finalized_at,
    };
  }

  private raw(id: number): RawBill {
    const row = this.#sql.bill.get(id) as RawBill | undefined;
    if (!row) throw new DomainError('not_found', `No bill with id ${id}`);
    return row;
  }

  view(id: number): BillView {
    const raw = this.raw(id);
    const perChild = this.kgPerChild(raw);
    const parents = (this.#sql.parents.all(id) as { code: string; child_count: number; added_at: number }[]).map((p) => ({
      code: p.code,
      childCount: p.child_count,
      weightKg: kg(p.child_count * perChild),
      addedAt: p.added_at,
    }));
    return { ...this.summary(raw), kgPerChild: perChild, finalizedBy: raw.finalized_by, parents };
  }

  /** Every finalized bill as bill_finalized@1 carries it: what a station joining a site tells the hub it holds. */
  finalizedRecords(): ReturnType<typeof finalizedRecord>[] {
    const ids = this.deps.db.$client.prepare("SELECT id FROM bills WHERE status = 'finalized' ORDER BY id").pluck().all() as number[];
    return ids.map((id) => finalizedRecord(this.view(id)));
  }

  list(q: { status?: 'draft' | 'finalized'; cursor?: number; limit?: number }): { rows: BillSummary[]; nextCursor: number | null } {
    const limit = q.limit ?? 25;
    const rows = this.#sql.list.all({ status: q.status ?? null, cursor: q.cursor ?? null, limit: limit + 1 }) as RawBill[];
    const page = rows.slice(0, limit);
    return { rows: page.map((r) => this.summary(r)), nextCursor: rows.length > limit ? page.at(-1)!.id : null };
  }

  create(note: string | undefined, actor: AuditActor): BillView {
    const now = this.deps.now();
    const id = this.deps.db.transaction(
      (tx) => {
        const next = (this.#sql.maxId.get() as { n: number }).n + 1;
        const number = `B-${String(next).padStart(6, '0')}`;
        const row = tx
          .insert(bills)
          .values({ number, status: 'draft', note: note || null, createdAt: now, createdBy: actor.userId })
          .returning()
          .get();
        recordAudit(this.deps.db, this.deps.audit, actor, {
          action: 'bills.created',
          entity: 'bill',
          entityId: number,
          after: { number, note: row.note },
        });
        return row.id;
      },
      { behavior: 'immediate' },
    );
    return this.view(id);
  }

  private draft(id: number): RawBill {
    const raw = this.raw(id);
    if (raw.status === 'finalized') throw new DomainError('conflict', `Bill ${raw.number} is finalized: it can no longer change`);
    return raw;
  }

  addParent(billId: number, codeInput: string, actor: AuditActor): BillView {
    const code = codeInput.trim().toUpperCase();
    const now = this.deps.now();
    this.deps.db.transaction(
      (tx) => {
        const bill = this.draft(billId);
        const bag = tx.select().from(bags).where(eq(bags.code, code)).get();
        if (!bag) throw new DomainError('not_found', `${code} has not been scanned or imported: scan it at a dock door first`);
        if (bag.kind !== 'parent') throw new DomainError('invalid', `${code} is a child bag: only parent bags go on a bill`);
        const on = this.#sql.billOfParent.get(bag.id) as { id: number; number: string } | undefined;
        if (on?.id === billId) throw new DomainError('conflict', `${code} is already on this bill`);
        if (on) throw new DomainError('conflict', `${code} is already on bill ${on.number}`);
        tx.insert(billParents).values({ parentId: bag.id, billId, addedAt: now, addedBy: actor.userId }).run();
        recordAudit(this.deps.db, this.deps.audit, actor, {
          action: 'bills.parent_added',
          entity: 'bill',
          entityId: bill.number,
          after: { parent: code },
        });
      },
      { behavior: 'immediate' },
    );
    return this.view(billId);
  }

  removeParent(billId: number, codeInput: string, actor: AuditActor): BillView {
    const code = codeInput.trim().toUpperCase();
    this.deps.db.transaction(
      (tx) => {
        const bill = this.draft(billId);
        const bag = tx.select().from(bags).where(eq(bags.code, code)).get();
        const removed = bag
          ? tx
              .delete(billParents)
              .where(and(eq(billParents.parentId, bag.id), eq(billParents.billId, billId)))
              .run().changes
          : 0;
        if (!removed) throw new DomainError('not_found', `${code} is not on bill ${bill.number}`);
        recordAudit(this.deps.db, this.deps.audit, actor, {
          action: 'bills.parent_removed',
          entity: 'bill',
          entityId: bill.number,
          before: { parent: code },
        });
      },
      { behavior: 'immediate' },
    );
    return this.view(billId);
  }

  finalize(billId: number, actor: AuditActor): BillView {
    const now = this.deps.now();
    this.deps.db.transaction(
      (tx) => {
        const bill = this.draft(billId);
        const view = this.view(billId);
        if (view.parents.length === 0) throw new DomainError('conflict', `Bill ${bill.number} has no parent bags: add at least one first`);
        tx.update(bills)
          .set({ status: 'finalized', kgPerChild: view.kgPerChild, totalChildren: view.childCount, finalizedAt: now, finalizedBy: actor.userId })
          .where(eq(bills.id, billId))
          .run();
        const after = finalizedRecord(view);
        recordAudit(this.deps.db, this.deps.audit, actor, {
          action: 'bills.finalized',
          entity: 'bill',
          entityId: bill.number,
          before: { status: 'draft' },
          after,
        });
        enqueue(this.deps.db, now, {
          op: 'bill_finalized@1',
          upstream: BAGS_UPSTREAM,
          payload: { ...after, at: now, by: actor.username, station: this.deps.audit.stationId },
        });
      },
      { behavior: 'immediate' },
    );
    return this.view(billId);
  }

  async export(billId: number, format: 'csv' | 'xlsx'): Promise<ExportedFile> {
    const view = this.view(billId);
    type P = BillView['parents'][number];
    const children = this.#sql.childrenOfBill.all(billId) as { parent: string; child: string }[];
    return exportTable(format, `bill-${view.number}`, [
      {
        name: view.number,
        columns: [
          { header: 'Bill', kind: 'text', value: () => view.number },
          { header: 'Status', kind: 'text', value: () => view.status },
          { header: 'Parent bag', kind: 'text', value: (p: P) => p.code, width: 16 },
          { header: 'Children', kind: 'number', value: (p: P) => p.childCount },
          { header: 'Weight (kg)', kind: 'number', value: (p: P) => p.weightKg },
          { header: 'Added at', kind: 'text', value: (p: P) => new Date(p.addedAt).toISOString() },
        ],
        rows: view.parents,
      },
      {
        name: 'Children',
        columns: [
          { header: 'Parent bag', kind: 'text', value: (r: { parent: string }) => r.parent, width: 16 },
          { header: 'Child bag', kind: 'text', value: (r: { child: string }) => r.child, width: 24 },
        ],
        rows: children,
      },
    ]);
  }
}

function prepareStatements(db: Database.Database) {
  const billSelect = `
    SELECT bl.id, bl.number, bl.status, bl.note, bl.kg_per_child, bl.total_children, bl.created_at, bl.finalized_at,
      cu.username AS created_by, fu.username AS finalized_by,
      (SELECT count(*) FROM bill_parents bp WHERE bp.bill_id = bl.id) AS parent_count,
      (SELECT count(*) FROM bill_parents bp JOIN bag_links l ON l.parent_id = bp.parent_id WHERE bp.bill_id = bl.id) AS child_count
    FROM bills bl LEFT JOIN users cu ON cu.id = bl.created_by LEFT JOIN users fu ON fu.id = bl.finalized_by`;
  return {
    bill: db.prepare(`${billSelect} WHERE bl.id = ?`),
    list: db.prepare(`${billSelect}
      WHERE (@status IS NULL OR bl.status = @status) AND (@cursor IS NULL OR bl.id < @cursor)
      ORDER BY bl.id DESC LIMIT @limit`),
    parents: db.prepare(`
      SELECT b.code, bp.added_at, (SELECT count(*) FROM bag_links l WHERE l.parent_id = b.id) AS child_count
      FROM bill_parents bp JOIN bags b ON b.id = bp.parent_id WHERE bp.bill_id = ? ORDER BY bp.added_at, b.id`),
    childrenOfBill: db.prepare(`
      SELECT p.code AS parent, c.code AS child FROM bill_parents bp
      JOIN bags p ON p.id = bp.parent_id JOIN bag_links l ON l.parent_id = p.id JOIN bags c ON c.id = l.child_id
      WHERE bp.bill_id = ? ORDER BY bp.added_at, p.id, l.linked_at, c.id`),
    billOfParent: db.prepare('SELECT bl.id, bl.number FROM bill_parents bp JOIN bills bl ON bl.id = bp.bill_id WHERE bp.parent_id = ?'),
    maxId: db.prepare('SELECT coalesce(max(id), 0) AS n FROM bills'),
  };
}
