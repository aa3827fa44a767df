import type Database from 'better-sqlite3';
import { eq } from 'drizzle-orm';
import type { BagDetail, BagRow, ParentProgress, ScanOutcome, ScanResult, ScanRow, ScanSource } from '../../shared/contract/bags';
import { DomainError } from '../../shared/envelope';
import type { AuditActor, AuditContext } from '../audit/record';
import { recordAudit } from '../audit/record';
import type { Session } from '../auth/sessions';
import type { Db } from '../db/open';
import { bagLinks, bags, billParents, bills, scans } from '../db/schema';
import type { SettingsService } from '../settings/service';
import { BAGS_UPSTREAM, enqueue } from '../outbox/enqueue';
import { classifyCode, compileFormats, type Classified, type CompiledFormats } from './formats';

export interface BagServiceDeps {
  db: Db;
  settings: SettingsService;
  audit: AuditContext;
  now: () => number;
}

export interface Scanner {
  id: number;
  username: string;
}

type ScanLogger = (result: ScanResult, message: string, extra?: { parentId?: number | null; childId?: number | null; createdChild?: boolean }) => number;

interface BagRef {
  id: number;
  code: string;
  kind: 'parent' | 'child';
}

const RECENT_SCANS = 15;

/**
 * The dock-door flow. Each window has a current parent; a child scan links to it. Every scan is
 * logged in `scans`; every change writes its audit and outbox rows in the same transaction.
 */
export class BagService {
  readonly #currentParent = new WeakMap<Session, number>();
  readonly #lastAccepted = new WeakMap<Session, { code: string; at: number }>();
  #formats: { key: string; compiled: CompiledFormats } | null = null;
  readonly #sql: ReturnType<typeof prepareStatements>;

  /** Runs fn in one BEGIN IMMEDIATE transaction: the write lock is taken before the first read. */
  readonly #immediate: <T>(fn: () => T) => T;

  constructor(private readonly deps: BagServiceDeps) {
    this.#sql = prepareStatements(deps.db.$client);
    const tx = deps.db.$client.transaction((fn: () => unknown) => fn());
    this.#immediate = <T>(fn: () => T) => tx.immediate(fn) as T;
  }

  private formats(): CompiledFormats {
    const s = this.deps.settings.get();
    const key = JSON.stringify([s.parentFormats, s.childFormat]);
    if (this.#formats?.key !== key) this.#formats = { key, compiled: compileFormats(s.parentFormats, s.childFormat) };
    return this.#formats.compiled;
  }

  progress(parentId: number): ParentProgress | null {
    const row = this.#sql.progress.get(parentId) as
      | { code: string; child_count: number; bill_id: number | null; bill_number: string | null; bill_status: string | null }
      | undefined;
    if (!row) return null;
    return {
      code: row.code,
      childCount: row.child_count,
      target: this.deps.settings.get().targetChildrenPerParent,
      bill: row.bill_id === null ? null : { id: row.bill_id, number: row.bill_number!, finalized: row.bill_status === 'finalized' },
    };
  }

  scan(session: Session, user: Scanner, input: { code: string; source: ScanSource; device?: string }): ScanOutcome {
    const now = this.deps.now();
    const settings = this.deps.settings.get();
    const classified = classifyCode(input.code, this.formats());
    const currentId = this.#currentParent.get(session);

    const key = classified.code ?? input.code.trim().toUpperCase();
    const last = this.#lastAccepted.get(session);
    if (last && last.code === key && now - last.at < settings.scanDebounceMs) {
      return { result: 'ignored', code: classified.code, message: `${key} again — ignored`, parent: currentId ? this.progress(currentId) : null, scanId: null };
    }
    const outcome = this.handle(session, user, input, classified, currentId, now);
    // Only a handled scan opens the debounce window: a scan that failed can be retried at once.
    this.#lastAccepted.set(session, { code: key, at: now });
    return outcome;
  }

  private handle(
    session: Session,
    user: Scanner,
    input: { code: string; source: ScanSource; device?: string },
    classified: Classified,
    currentId: number | undefined,
    now: number,
  ): ScanOutcome {
    const log: ScanLogger = (result, message, extra = {}) =>
      Number(
        this.#sql.insertScan.run(
          now,
          user.id,
          this.deps.audit.stationId,
          input.source,
          input.device ?? null,
          input.code.slice(0, 256),
          classified.code,
          result,
          message,
          extra.parentId ?? null,
          extra.childId ?? null,
          extra.createdChild ? 1 : 0,
        ).lastInsertRowid,
      );

    const actor: AuditActor = { userId: user.id, username: user.username };

    if (!classified.ok) {
      const scanId = log('invalid', classified.reason, { parentId: currentId });
      return { result: 'invalid', code: classified.code, message: classified.reason, parent: currentId ? this.progress(currentId) : null, scanId };
    }
    const { code } = classified;

    if (classified.kind === 'parent') {
      return this.#immediate(() => {
        let bag = this.#sql.bagByCode.get(code) as BagRef | undefined;
        if (bag && bag.kind !== 'parent') {
          const message = `${code} is recorded as a child bag, not a parent`;
          return { result: 'invalid' as const, code, message, parent: currentId ? this.progress(currentId) : null, scanId: log('invalid', message) };
        }
        const isNew = !bag;
        if (!bag) bag = this.createBag(code, 'parent', actor, now);
        const progress = this.progress(bag.id)!;
        if (progress.bill?.finalized) {
          const message = `${code} is on finalized bill ${progress.bill.number}: it cannot take more bags`;
          this.#currentParent.delete(session);
          return { result: 'bill_closed' as const, code, message, parent: progress, scanId: log('bill_closed', message, { parentId: bag.id }) };
        }
        this.#currentParent.set(session, bag.id);
        const n = progress.childCount;
        const message = isNew ? `New parent ${code}` : `Parent ${code} — ${n} ${n === 1 ? 'child' : 'children'}`;
        return { result: 'parent' as const, code, message, parent: progress, scanId: log('parent', message, { parentId: bag.id }) };
      });
    }

    // A child.
    try {
      return this.#immediate(() => this.linkChild(session, actor, code, currentId, now, log));
    } catch (error) {
      // Another connection linked the same child between our read and our insert: report who won.
      if (isConstraintError(error)) return this.#immediate(() => this.linkChild(session, actor, code, currentId, now, log));
      throw error;
    }
  }

  private linkChild(session: Session, actor: AuditActor, code: string, currentId: number | undefined, now: number, log: ScanLogger): ScanOutcome {
    const parent = currentId === undefined ? undefined : this.progress(currentId);
    if (!parent) {
      this.#currentParent.delete(session);
      const message = `Scan a parent bag first, then ${code}`;
      return { result: 'no_parent', code, message, parent: null, scanId: log('no_parent', message) };
    }
    if (parent.bill?.finalized) {
      const message = `${parent.code} is on finalized bill ${parent.bill.number}: it cannot take more bags`;
      return { result: 'bill_closed', code, message, parent, scanId: log('bill_closed', message, { parentId: currentId }) };
    }
    let child = this.#sql.bagByCode.get(code) as BagRef | undefined;
    if (child && child.kind === 'parent') {
      const message = `${code} is a parent bag: it cannot go inside another`;
      return { result: 'invalid', code, message, parent, scanId: log('invalid', message, { parentId: currentId }) };
    }
    const link = child ? (this.#sql.linkOf.get(child.id) as { parent_id: number; parent_code: string } | undefined) : undefined;
    if (link && link.parent_id === currentId) {
      const message = `${code} is already on this parent`;
      return { result: 'already_linked', code, message, parent, scanId: log('already_linked', message, { parentId: currentId, childId: child!.id }) };
    }
    if (link) {
      const message = `${code} is already on parent ${link.parent_code}`;
      return {
        result: 'conflict',
        code,
        message,
        parent,
        otherParent: link.parent_code,
        scanId: log('conflict', message, { parentId: currentId, childId: child!.id }),
      };
    }
    const createdChild = !child;
    if (!child) child = this.createBag(code, 'child', actor, now);
    const count = parent.childCount + 1;
    const message = `Linked ${code} → ${parent.code} (${count})`;
    const scanId = log('linked', message, { parentId: currentId, childId: child.id, createdChild });
    this.#sql.insertLink.run(child.id, currentId!, now, actor.userId, scanId);
    recordAudit(this.deps.db, this.deps.audit, actor, {
      action: 'bags.linked',
      entity: 'bag',
      entityId: code,
      before: { code, parent: null },
      after: { code, parent: parent.code },
    });
    enqueue(this.deps.db, now, { op: 'link_child@1', upstream: BAGS_UPSTREAM, payload: { child: code, parent: parent.code, at: now, by: actor.username, station: this.deps.audit.stationId } });
    return { result: 'linked', code, message, parent: { ...parent, childCount: count }, scanId };
  }

  private createBag(code: string, kind: 'parent' | 'child', actor: AuditActor, now: number): BagRef {
    const id = Number(this.#sql.insertBag.run(code, kind, now, actor.userId, this.deps.audit.stationId).lastInsertRowid);
    recordAudit(this.deps.db, this.deps.audit, actor, { action: 'bags.created', entity: 'bag', entityId: code, after: { code, kind } });
    enqueue(this.deps.db, now, { op: 'bag_created@1', upstream: BAGS_UPSTREAM, payload: { code, kind, at: now, by: actor.username, station: this.deps.audit.stationId } });
    return { id, code, kind };
  }

  current(session: Session, user: Scanner): { parent: ParentProgress | null; recent: ScanRow[] } {
    const id = this.#currentParent.get(session);
    return { parent: id === undefined ? null : this.progress(id), recent: this.recentScans(user.id) };
  }

  recentScans(userId: number, limit = RECENT_SCANS): ScanRow[] {
    return (this.#sql.recentScans.all(userId, this.deps.audit.stationId, limit) as RawScanRow[]).map(toScanRow);
  }

  /** Undoes this user's latest link made inside the undo window. */
  undoLast(session: Session, user: Scanner): { message: string; parent: ParentProgress | null } {
    const now = this.deps.now();
    const windowMs = this.deps.settings.get().undoWindowMinutes * 60_000;
    const actor: AuditActor = { userId: user.id, username: user.username };
    return this.deps.db.transaction(
      (tx) => {
        const last = this.#sql.lastLink.get(user.id, this.deps.audit.stationId, now - windowMs) as
          | { id: number; parent_id: number; child_id: number; created_child: number; code: string }
          | undefined;
        if (!last) {
          const minutes = windowMs / 60_000;
          throw new DomainError('not_found', `Nothing to undo: no bag linked by you in the last ${minutes} minutes`);
        }
        const parent = this.progress(last.parent_id);
        const link = this.#sql.linkOf.get(last.child_id) as { parent_id: number; parent_code: string } | undefined;
        if (!parent || !link || link.parent_id !== last.parent_id) {
          throw new DomainError('conflict', `${last.code} has changed since it was scanned: nothing was undone`);
        }
        if (parent.bill?.finalized) {
          throw new DomainError('conflict', `${parent.code} is on finalized bill ${parent.bill.number}: the link cannot be undone`);
        }
        tx.delete(bagLinks).where(eq(bagLinks.childId, last.child_id)).run();
        tx.update(scans).set({ undoneAt: now, undoneBy: user.id }).where(eq(scans.id, last.id)).run();
        if (last.created_child) tx.delete(bags).where(eq(bags.id, last.child_id)).run();
        recordAudit(this.deps.db, this.deps.audit, actor, {
          action: 'bags.link_undone',
          entity: 'bag',
          entityId: last.code,
          before: { code: last.code, parent: parent.code },
          after: last.created_child ? null : { code: last.code, parent: null },
        });
        enqueue(this.deps.db, now, { op: 'unlink_child@1', upstream: BAGS_UPSTREAM, payload: { child: last.code, parent: parent.code, at: now, by: user.username, deleteChild: !!last.created_child } });
        this.#currentParent.set(session, last.parent_id);
        this.#lastAccepted.delete(session);
        const after = this.progress(last.parent_id)!;
        return { message: `Undone: ${last.code} is off ${parent.code} (${after.childCount} left)`, parent: after };
      },
      { behavior: 'immediate' },
    );
  }

  search(q: {
    prefix?: string;
    billNumber?: string;
    from?: number;
    to?: number;
    username?: string;
    kind?: 'parent' | 'child';
    cursor?: string;
    limit?: number;
  }): { rows: BagRow[]; nextCursor: string | null } {
    const limit = q.limit ?? 50;
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: limit + 1 };
    // Order by id text when a prefix or bill narrows the set; otherwise newest first, so a date or
    // user filter over millions of rows reads its index instead of sorting.
    const byCode = q.prefix !== undefined || q.billNumber !== undefined || (q.from === undefined && q.to === undefined && q.username === undefined);
    if (q.prefix) {
      const p = q.prefix.toUpperCase();
      where.push('b.code >= @prefix AND b.code < @prefixEnd');
      params.prefix = p;
      params.prefixEnd = p.slice(0, -1) + String.fromCharCode(p.charCodeAt(p.length - 1) + 1);
    }
    if (q.billNumber) {
      where.push('coalesce(bp1.bill_id, bp2.bill_id) = (SELECT id FROM bills WHERE number = @billNumber)');
      params.billNumber = q.billNumber.toUpperCase();
    }
    if (q.from !== undefined) (where.push('b.created_at >= @from'), (params.from = q.from));
    if (q.to !== undefined) (where.push('b.created_at <= @to'), (params.to = q.to));
    if (q.username) (where.push('b.created_by = (SELECT id FROM users WHERE username = @username)'), (params.username = q.username.toLowerCase()));
    if (q.kind) (where.push('b.kind = @kind'), (params.kind = q.kind));
    if (q.cursor) {
      const c = decodeCursor(q.cursor);
      if (byCode && typeof c.code === 'string') (where.push('b.code > @afterCode'), (params.afterCode = c.code));
      else if (!byCode && typeof c.at === 'number' && typeof c.id === 'number') {
        where.push('(b.created_at < @afterAt OR (b.created_at = @afterAt AND b.id < @afterId))');
        Object.assign(params, { afterAt: c.at, afterId: c.id });
      } else throw new DomainError('invalid', 'That page link is out of date: search again');
    }
    const sql = `${SEARCH_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY ${byCode ? 'b.code' : 'b.created_at DESC, b.id DESC'} LIMIT @limit`;
    const raw = this.deps.db.$client.prepare(sql).all(params) as RawBagRow[];
    const more = raw.length > limit;
    const page = raw.slice(0, limit);
    const lastRow = page.at(-1);
    const nextCursor = more && lastRow ? encodeCursor(byCode ? { code: lastRow.code } : { at: lastRow.created_at, id: lastRow.id }) : null;
    return { rows: page.map(toBagRow), nextCursor };
  }

  detail(codeInput: string): BagDetail {
    const code = codeInput.trim().toUpperCase();
    const row = this.deps.db.$client.prepare(`${SEARCH_SELECT} WHERE b.code = ?`).get(code) as RawBagRow | undefined;
    if (!row) throw new DomainError('not_found', `No bag ${code}`);
    const children = (this.#sql.children.all(row.id) as { code: string; linked_at: number; linked_by: string | null }[]).map((c) => ({
      code: c.code,
      linkedAt: c.linked_at,
      linkedBy: c.linked_by,
    }));
    const link = this.#sql.linkOf.get(row.id) as { linked_at: number } | undefined;
    const bill = row.bill_id === null ? null : { id: row.bill_id, number: row.bill_number!, status: row.bill_status as 'draft' | 'finalized' };
    const history = (this.#sql.bagScans.all(code, row.id, 100) as RawScanRow[]).map(toScanRow);
    return { ...toBagRow(row), children, linkedAt: link?.linked_at ?? null, bill, scans: history };
  }

  deleteBag(codeInput: string, reason: string, actor: AuditActor): null {
    const code = codeInput.trim().toUpperCase();
    const now = this.deps.now();
    this.deps.db.transaction(
      (tx) => {
        const detail = this.detail(code);
        if (detail.bill?.status === 'finalized') {
          const what = detail.kind === 'parent' ? code : `${code}'s parent ${detail.parentCode}`;
          throw new DomainError('conflict', `${what} is on finalized bill ${detail.bill.number}: it cannot be deleted`);
        }
        const before = { code, kind: detail.kind, parent: detail.parentCode, children: detail.children.map((c) => c.code), bill: detail.bill?.number ?? null };
        tx.delete(bags).where(eq(bags.code, code)).run(); // links and bill membership cascade
        recordAudit(this.deps.db, this.deps.audit, actor, { action: 'bags.deleted', entity: 'bag', entityId: code, before, after: null, detail: reason });
        enqueue(this.deps.db, now, { op: 'bag_deleted@1', upstream: BAGS_UPSTREAM, payload: { code, at: now, by: actor.username, reason } });
      },
      { behavior: 'immediate' },
    );
    return null;
  }
}

interface RawBagRow {
  id: number;
  code: string;
  kind: 'parent' | 'child';
  created_at: number;
  created_by: string | null;
  parent_code: string | null;
  child_count: number | null;
  bill_id: number | null;
  bill_number: string | null;
  bill_status: string | null;
}

const SEARCH_SELECT = `
  SELECT b.id, b.code, b.kind, b.created_at, u.username AS created_by, p.code AS parent_code,
    CASE WHEN b.kind = 'parent' THEN (SELECT count(*) FROM bag_links c WHERE c.parent_id = b.id) END AS child_count,
    bl.id AS bill_id, bl.number AS bill_number, bl.status AS bill_status
  FROM bags b
  LEFT JOIN users u ON u.id = b.created_by
  LEFT JOIN bag_links l ON l.child_id = b.id
  LEFT JOIN bags p ON p.id = l.parent_id
  LEFT JOIN bill_parents bp1 ON bp1.parent_id = b.id
  LEFT JOIN bill_parents bp2 ON bp2.parent_id = l.parent_id
  LEFT JOIN bills bl ON bl.id = coalesce(bp1.bill_id, bp2.bill_id)`;

function toBagRow(r: RawBagRow): BagRow {
  return {
    code: r.code,
    kind: r.kind,
    createdAt: r.created_at,
    createdBy: r.created_by,
    parentCode: r.parent_code,
    childCount: r.child_count,
    billNumber: r.bill_number,
  };
}

interface RawScanRow {
  id: number;
  at: number;
  code: string | null;
  raw: string;
  result: string;
  message: string;
  source: ScanSource;
  parent_code: string | null;
  username: string | null;
  undone_at: number | null;
}

function toScanRow(r: RawScanRow): ScanRow {
  return {
    id: r.id,
    at: r.at,
    code: r.code,
    raw: r.raw,
    result: r.undone_at ? 'undone' : (r.result as ScanResult),
    message: r.message,
    source: r.source,
    parentCode: r.parent_code,
    username: r.username,
  };
}

const SCAN_SELECT = `
  SELECT s.id, s.at, s.code, s.raw, s.result, s.message, s.source, s.undone_at, p.code AS parent_code, u.username
  FROM scans s LEFT JOIN bags p ON p.id = s.parent_id LEFT JOIN users u ON u.id = s.user_id`;

function prepareStatements(db: Database.Database) {
  return {
    progress: db.prepare(`
      SELECT b.code, (SELECT count(*) FROM bag_links l WHERE l.parent_id = b.id) AS child_count,
        bl.id AS bill_id, bl.number AS bill_number, bl.status AS bill_status
      FROM bags b LEFT JOIN bill_parents bp ON bp.parent_id = b.id LEFT JOIN bills bl ON bl.id = bp.bill_id
      WHERE b.id = ? AND b.kind = 'parent'`),
    linkOf: db.prepare(`
      SELECT l.parent_id, l.linked_at, p.code AS parent_code FROM bag_links l JOIN bags p ON p.id = l.parent_id WHERE l.child_id = ?`),
    recentScans: db.prepare(`${SCAN_SELECT} WHERE s.user_id = ? AND s.station_id = ? ORDER BY s.id DESC LIMIT ?`),
    lastLink: db.prepare(`
      SELECT s.id, s.parent_id, s.child_id, s.created_child, s.code FROM scans s
      WHERE s.user_id = ? AND s.station_id = ? AND s.result = 'linked' AND s.undone_at IS NULL AND s.at >= ?
      ORDER BY s.id DESC LIMIT 1`),
    children: db.prepare(`
      SELECT c.code, l.linked_at, u.username AS linked_by FROM bag_links l
      JOIN bags c ON c.id = l.child_id LEFT JOIN users u ON u.id = l.linked_by
      WHERE l.parent_id = ? ORDER BY l.linked_at, c.code LIMIT 5000`),
    bagScans: db.prepare(`${SCAN_SELECT} WHERE s.code = ? OR s.parent_id = ? ORDER BY s.id DESC LIMIT ?`),
    bagByCode: db.prepare('SELECT id, code, kind FROM bags WHERE code = ?'),
    insertBag: db.prepare("INSERT INTO bags (code, kind, created_at, created_by, station_id, origin) VALUES (?, ?, ?, ?, ?, 'scan')"),
    insertLink: db.prepare('INSERT INTO bag_links (child_id, parent_id, linked_at, linked_by, scan_id) VALUES (?, ?, ?, ?, ?)'),
    insertScan: db.prepare(`
      INSERT INTO scans (at, user_id, station_id, source, device, raw, code, result, message, parent_id, child_id, created_child)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
  };
}

function isConstraintError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && String((error as { code?: unknown }).code).startsWith('SQLITE_CONSTRAINT');
}

function encodeCursor(c: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(s: string): Record<string, unknown> {
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as unknown;
    if (typeof v === 'object' && v !== null) return v as Record<string, unknown>;
  } catch {
    /* fall through */
  }
  throw new DomainError('invalid', 'That page link is out of date: search again');
}
