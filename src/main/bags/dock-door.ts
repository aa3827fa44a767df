import type Database from 'better-sqlite3';
import { eq } from 'drizzle-orm';
import type { ParentProgress, ScanOutcome, ScanResult, ScanRow, ScanSource } from '../../shared/contract/bags';
import { DomainError } from '../../shared/envelope';
import type { AuditActor, AuditContext } from '../audit/record';
import { recordAudit } from '../audit/record';
import type { Session } from '../auth/sessions';
import type { Db } from '../db/open';
import { bagLinks, bags, scans } from '../db/schema';
import { BAGS_UPSTREAM, enqueue } from '../outbox/enqueue';
import type { SettingsService } from '../settings/service';
import { classifyCode, compileFormats, type Classified, type CompiledFormats } from './formats';
import { checkLink, checkParent, LinkFactsReader } from './link-rules';
import { SCAN_SELECT, toScanRow, type RawScanRow } from './scan-rows';

export interface DockDoorDeps {
  db: Db;
  settings: SettingsService;
  audit: AuditContext;
  now: () => number;
}

export interface Scanner {
  id: number;
  username: string;
}

interface ScanInput {
  code: string;
  source: ScanSource;
  device?: string;
}

/** Writes the scan's row in the scan log and returns its id. */
type ScanLog = (result: ScanResult, message: string, extra?: { parentId?: number | null; childId?: number | null; createdChild?: boolean }) => number;

const RECENT_SCANS = 15;

/**
 * The dock-door flow. Each window has a current parent; a child scan links to it. Every scan is
 * logged in `scans`; every change writes its audit and outbox rows in the same transaction.
 */
export class DockDoorService {
  readonly #currentParent = new WeakMap<Session, number>();
  readonly #lastAccepted = new WeakMap<Session, { code: string; at: number }>();
  #formats: { key: string; compiled: CompiledFormats } | null = null;
  readonly #sql: ReturnType<typeof prepareStatements>;
  readonly #facts: LinkFactsReader;

  /** Runs fn in one BEGIN IMMEDIATE transaction: the write lock is taken before the first read. */
  readonly #immediate: <T>(fn: () => T) => T;

  constructor(private readonly deps: DockDoorDeps) {
    this.#sql = prepareStatements(deps.db.$client);
    this.#facts = new LinkFactsReader(deps.db.$client);
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
      { code: string; child_count: number; bill_id: number | null; bill_number: string | null; bill_status: string | null } | undefined;
    if (!row) return null;
    return {
      code: row.code,
      childCount: row.child_count,
      target: this.deps.settings.get().targetChildrenPerParent,
      bill: row.bill_id === null ? null : { id: row.bill_id, number: row.bill_number!, finalized: row.bill_status === 'finalized' },
    };
  }

  scan(session: Session, user: Scanner, input: ScanInput): ScanOutcome {
    const now = this.deps.now();
    const settings = this.deps.settings.get();
    const classified = classifyCode(input.code, this.formats());
    const currentId = this.#currentParent.get(session);

    const key = classified.code ?? input.code.trim().toUpperCase();
    const last = this.#lastAccepted.get(session);
    if (last && last.code === key && now - last.at < settings.scanDebounceMs) {
      return {
        result: 'ignored',
        code: classified.code,
        message: `${key} again — ignored`,
        parent: currentId ? this.progress(currentId) : null,
        scanId: null,
      };
    }
    let outcome: ScanOutcome;
    try {
      outcome = this.applyScan(session, user, input, classified, currentId, now);
    } catch (error) {
      // The transaction rolled back (a full disk, say): the window keeps the parent it had, not
      // one whose row was never saved — and whose id SQLite may hand to the next new bag.
      if (currentId === undefined) this.#currentParent.delete(session);
      else this.#currentParent.set(session, currentId);
      throw error;
    }
    // Only a handled scan opens the debounce window: a scan that failed can be retried at once.
    this.#lastAccepted.set(session, { code: key, at: now });
    return outcome;
  }

  /** A classified scan: an invalid id is logged, a parent becomes the window's current parent, a child is linked to it. */
  private applyScan(
    session: Session,
    user: Scanner,
    input: ScanInput,
    classified: Classified,
    currentId: number | undefined,
    now: number,
  ): ScanOutcome {
    const log = this.scanLog(user, input, classified, now);
    const actor: AuditActor = { userId: user.id, username: user.username };

    if (!classified.ok) {
      const scanId = log('invalid', classified.reason, { parentId: currentId });
      return { result: 'invalid', code: classified.code, message: classified.reason, parent: currentId ? this.progress(currentId) : null, scanId };
    }
    const { code } = classified;
    if (classified.kind === 'parent') return this.#immediate(() => this.takeParent(session, actor, code, currentId, now, log));
    // BEGIN IMMEDIATE takes the write lock before the first read: a door linking the same child at
    // the same moment waits for ours, then reads our link and reports it as a conflict.
    return this.#immediate(() => this.linkChild(session, actor, code, currentId, now, log));
  }

  private scanLog(user: Scanner, input: ScanInput, classified: Classified, now: number): ScanLog {
    return (result, message, extra = {}) =>
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
  }

  /** A parent scan: the window's current parent from now on (created if new), unless its bill is closed. */
  private takeParent(session: Session, actor: AuditActor, code: string, currentId: number | undefined, now: number, log: ScanLog): ScanOutcome {
    const facts = this.#facts.parent(code);
    const verdict = checkParent(code, facts);
    if (!verdict.ok && verdict.rule === 'parent_is_child') {
      return {
        result: 'invalid',
        code,
        message: verdict.message,
        parent: currentId ? this.progress(currentId) : null,
        scanId: log('invalid', verdict.message),
      };
    }
    const id = facts?.id ?? this.createBag(code, 'parent', actor, now).id;
    const progress = this.progress(id)!;
    if (!verdict.ok && verdict.rule === 'parent_on_finalized_bill') {
      this.#currentParent.delete(session);
      return {
        result: 'bill_closed',
        code,
        message: verdict.message,
        parent: progress,
        scanId: log('bill_closed', verdict.message, { parentId: id }),
      };
    }
    this.#currentParent.set(session, id);
    const n = progress.childCount;
    const message = facts ? `Parent ${code} — ${n} ${n === 1 ? 'child' : 'children'}` : `New parent ${code}`;
    return { result: 'parent', code, message, parent: progress, scanId: log('parent', message, { parentId: id }) };
  }

  private linkChild(session: Session, actor: AuditActor, code: string, currentId: number | undefined, now: number, log: ScanLog): ScanOutcome {
    const parent = currentId === undefined ? undefined : this.progress(currentId);
    if (currentId === undefined || !parent) {
      this.#currentParent.delete(session);
      const message = `Scan a parent bag first, then ${code}`;
      return { result: 'no_parent', code, message, parent: null, scanId: log('no_parent', message) };
    }
    const child = this.#facts.child(code);
    const verdict = checkLink(
      parent.code,
      { id: currentId, kind: 'parent', finalizedBill: parent.bill?.finalized ? parent.bill.number : this.#facts.finalizedBillOf(currentId) },
      code,
      child,
    );
    if (!verdict.ok) {
      const ids = { parentId: currentId, childId: child?.id ?? null };
      switch (verdict.rule) {
        case 'parent_on_finalized_bill':
          return {
            result: 'bill_closed',
            code,
            message: verdict.message,
            parent,
            scanId: log('bill_closed', verdict.message, { parentId: currentId }),
          };
        case 'already_on_this_parent':
          return { result: 'already_linked', code, message: verdict.message, parent, scanId: log('already_linked', verdict.message, ids) };
        case 'on_other_parent':
          return {
            result: 'conflict',
            code,
            message: verdict.message,
            parent,
            otherParent: verdict.otherParent,
            scanId: log('conflict', verdict.message, ids),
          };
        default:
          return { result: 'invalid', code, message: verdict.message, parent, scanId: log('invalid', verdict.message, { parentId: currentId }) };
      }
    }
    const childId = child?.id ?? this.createBag(code, 'child', actor, now).id;
    const count = parent.childCount + 1;
    const message = `Linked ${code} → ${parent.code} (${count})`;
    const scanId = log('linked', message, { parentId: currentId, childId, createdChild: !child });
    this.#sql.insertLink.run(childId, currentId, now, actor.userId, scanId);
    recordAudit(this.deps.db, this.deps.audit, actor, {
      action: 'bags.linked',
      entity: 'bag',
      entityId: code,
      before: { code, parent: null },
      after: { code, parent: parent.code },
    });
    enqueue(this.deps.db, now, {
      op: 'link_child@1',
      upstream: BAGS_UPSTREAM,
      payload: { child: code, parent: parent.code, at: now, by: actor.username, station: this.deps.audit.stationId },
    });
    return { result: 'linked', code, message, parent: { ...parent, childCount: count }, scanId };
  }

  private createBag(code: string, kind: 'parent' | 'child', actor: AuditActor, now: number): { id: number } {
    const id = Number(this.#sql.insertBag.run(code, kind, now, actor.userId, this.deps.audit.stationId).lastInsertRowid);
    recordAudit(this.deps.db, this.deps.audit, actor, { action: 'bags.created', entity: 'bag', entityId: code, after: { code, kind } });
    enqueue(this.deps.db, now, {
      op: 'bag_created@1',
      upstream: BAGS_UPSTREAM,
      payload: { code, kind, at: now, by: actor.username, station: this.deps.audit.stationId },
    });
    return { id };
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
          { id: number; parent_id: number; child_id: number; created_child: number; code: string } | undefined;
        if (!last) {
          const minutes = windowMs / 60_000;
          throw new DomainError('not_found', `Nothing to undo: no bag linked by you in the last ${minutes} minutes`);
        }
        const parent = this.progress(last.parent_id);
        const link = this.#facts.childById({ id: last.child_id, kind: 'child' }).link;
        if (!parent || !link || link.parentId !== last.parent_id) {
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
        enqueue(this.deps.db, now, {
          op: 'unlink_child@1',
          upstream: BAGS_UPSTREAM,
          payload: { child: last.code, parent: parent.code, at: now, by: user.username, deleteChild: !!last.created_child },
        });
        this.#currentParent.set(session, last.parent_id);
        this.#lastAccepted.delete(session);
        const after = this.progress(last.parent_id)!;
        return { message: `Undone: ${last.code} is off ${parent.code} (${after.childCount} left)`, parent: after };
      },
      { behavior: 'immediate' },
    );
  }
}

function prepareStatements(db: Database.Database) {
  return {
    progress: db.prepare(`
      SELECT b.code, (SELECT count(*) FROM bag_links l WHERE l.parent_id = b.id) AS child_count,
        bl.id AS bill_id, bl.number AS bill_number, bl.status AS bill_status
      FROM bags b LEFT JOIN bill_parents bp ON bp.parent_id = b.id LEFT JOIN bills bl ON bl.id = bp.bill_id
      WHERE b.id = ? AND b.kind = 'parent'`),
    recentScans: db.prepare(`${SCAN_SELECT} WHERE s.user_id = ? AND s.station_id = ? ORDER BY s.id DESC LIMIT ?`),
    lastLink: db.prepare(`
      SELECT s.id, s.parent_id, s.child_id, s.created_child, s.code FROM scans s
      WHERE s.user_id = ? AND s.station_id = ? AND s.result = 'linked' AND s.undone_at IS NULL AND s.at >= ?
      ORDER BY s.id DESC LIMIT 1`),
    insertBag: db.prepare("INSERT INTO bags (code, kind, created_at, created_by, station_id, origin) VALUES (?, ?, ?, ?, ?, 'scan')"),
    insertLink: db.prepare('INSERT INTO bag_links (child_id, parent_id, linked_at, linked_by, scan_id) VALUES (?, ?, ?, ?, ?)'),
    insertScan: db.prepare(`
      INSERT INTO scans (at, user_id, station_id, source, device, raw, code, result, message, parent_id, child_id, created_child)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
  };
}
