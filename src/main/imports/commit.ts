import fs from 'node:fs';
import type Database from 'better-sqlite3';
import type { ImportResult } from '../../shared/contract/imports';
import { DomainError } from '../../shared/envelope';
import { recordAudit, type AuditActor, type AuditContext } from '../audit/record';
import { checkLink, checkParent, type LinkFactsReader, type ParentFacts } from '../bags/link-rules';
import type { Db } from '../db/open';
import type { JobContext } from '../jobs/service';
import { BAGS_UPSTREAM, enqueue } from '../outbox/enqueue';
import { csvWriter } from '../files/csv';
import { emptyTotals } from './checking';
import type { WorkerPool } from '../platform/workers';
import type { CheckedBatch, ImportTask } from './tasks';

/**
 * Rows a transaction commits. Small, and the commit yields between transactions, so a scan's own
 * commit waits for one of these at most (a few milliseconds), never for the whole import.
 */
export const IMPORT_BATCH_ROWS = 500;

export interface CommitDeps {
  db: Db;
  audit: AuditContext;
  facts: LinkFactsReader;
  now: () => number;
  workers: WorkerPool;
}

interface Row {
  line: number;
  parent: string;
  child: string;
}

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

/**
 * The commit. The import worker reads and checks the file (cells, id shapes) and sends rows in
 * batches; here on the main thread they are checked again against the database by the same link
 * rules as a scan (it may have changed since the preview) and written IMPORT_BATCH_ROWS at a time,
 * each batch one transaction with its audit and outbox rows, yielding between batches. A cancel or
 * a crash keeps whole batches only; re-importing skips what is there. Rejected rows go to a CSV
 * report beside the job.
 */
export async function commitImport(
  deps: CommitDeps,
  ctx: JobContext,
  job: { task: ImportTask; actor: AuditActor; rowsTotal: number | null; reportPath: string },
): Promise<ImportResult> {
  const { actor, rowsTotal } = job;
  const upload = job.task.upload;
  const totals = emptyTotals();
  const result: ImportResult = { ...totals, fileName: upload.name, parentsCreated: 0, childrenCreated: 0, batchesCommitted: 0, cancelled: false };
  // The rejected cells are often the very ones refused for looking like formulas: csvWriter neutralises them.
  const report = csvWriter(['Line', 'Parent', 'Child', 'Reason']);
  const reportFile = fs.createWriteStream(job.reportPath);
  report.pipe(reportFile);
  const reject = (r: Row, reason: string) => {
    totals.rejected++;
    report.write([r.line, r.parent, r.child, reason]);
  };
  const now = deps.now();
  const stationId = deps.audit.stationId;
  const sql = statements(deps.db.$client);
  // Parents met in this file: read once; a new one is created by its first good row.
  const parents = new Map<string, ParentFacts | null>();

  const linkRow = (r: Row): boolean => {
    if (!parents.has(r.parent)) parents.set(r.parent, deps.facts.parent(r.parent));
    const parent = parents.get(r.parent)!;
    const asParent = checkParent(r.parent, parent);
    if (!asParent.ok) {
      reject(r, asParent.message);
      return false;
    }
    // The common case, a new child, costs one INSERT; only an existing child is read.
    const inserted = sql.insertBagIfNew.run(r.child, 'child', now, actor.userId, stationId);
    const child = inserted.changes === 1 ? null : deps.facts.child(r.child);
    const verdict = checkLink(r.parent, parent, r.child, child);
    if (!verdict.ok) {
      const ours = child?.link?.importJobId === ctx.id; // linked by an earlier row of this file
      if (verdict.rule === 'already_on_this_parent') {
        if (ours) totals.duplicates++;
        else totals.alreadyPresent++;
      } else if (verdict.rule === 'on_other_parent' && ours) reject(r, `${r.child} is on ${verdict.otherParent} earlier in the file`);
      else reject(r, verdict.message);
      return false;
    }
    if (inserted.changes === 1) result.childrenCreated++;
    let parentId = parent?.id;
    if (parentId === undefined) {
      parentId = Number(sql.insertBag.run(r.parent, 'parent', now, actor.userId, stationId).lastInsertRowid);
      parents.set(r.parent, { id: parentId, kind: 'parent', finalizedBill: null });
      result.parentsCreated++;
    }
    sql.insertLink.run(child?.id ?? Number(inserted.lastInsertRowid), parentId, now, actor.userId, ctx.id);
    return true;
  };

  const commit = deps.db.$client.transaction((batch: Row[]) => {
    const links: [string, string][] = [];
    for (const r of batch) if (linkRow(r)) links.push([r.child, r.parent]);
    totals.linked += links.length;
    if (links.length > 0) {
      const lines = `${batch[0].line}–${batch.at(-1)!.line}`;
      recordAudit(deps.db, deps.audit, actor, {
        action: 'bags.imported',
        entity: 'import',
        entityId: String(ctx.id),
        after: { file: upload.name, lines, linked: links.length },
      });
      enqueue(deps.db, now, {
        op: 'import_links@1',
        upstream: BAGS_UPSTREAM,
        payload: { file: upload.name, job: ctx.id, links, at: now, by: actor.username, station: stationId },
      });
    }
  });

  let batch: Row[] = [];
  // An import's batches commit without their own fsync (synchronous=NORMAL: still atomic, and
  // never corrupting; only the newest batches could be lost to a power cut, and importing again
  // redoes them). The next scan's commit, and the job's own end, fsync everything before them, so
  // a scan never waits behind an import's disk flush. Switched back before anything else runs.
  const client = deps.db.$client;
  const flush = () => {
    if (batch.length === 0) return;
    client.pragma('synchronous = NORMAL');
    try {
      commit.immediate(batch);
    } finally {
      client.pragma('synchronous = FULL');
    }
    result.batchesCommitted++;
    batch = [];
  };

  const run = deps.workers.run<{ rows: number }, CheckedBatch>(job.task, {
    onBatch: async (b) => {
      if (result.cancelled) return;
      totals.rows += b.rows;
      totals.empty += b.empty;
      for (const r of b.rejected) reject(r, r.reason);
      for (let i = 0; i < b.lines.length; i++) {
        batch.push({ line: b.lines[i], parent: b.parents[i], child: b.children[i] });
        if (batch.length < IMPORT_BATCH_ROWS) continue;
        flush();
        // Between transactions: scans and other calls get their turn.
        await nextTurn();
        if (ctx.cancelled()) break;
      }
      if (ctx.cancelled()) {
        result.cancelled = true;
        await run.stop();
        return;
      }
      ctx.progress({ rowsDone: totals.rows, rowsTotal });
    },
  });
  try {
    await run.done;
    if (!result.cancelled) flush();
    if (totals.rows === 0) throw new DomainError('invalid', `${upload.name} has a header row but no bag rows`);
    ctx.progress({ rowsDone: totals.rows, rowsTotal: result.cancelled ? rowsTotal : totals.rows });
  } finally {
    await run.stop();
    report.end();
    await new Promise<void>((r) => reportFile.once('close', () => r()));
  }
  return { ...result, ...totals };
}

const prepared = new WeakMap<Database.Database, ReturnType<typeof prepareStatements>>();
function statements(db: Database.Database) {
  let s = prepared.get(db);
  if (!s) prepared.set(db, (s = prepareStatements(db)));
  return s;
}

function prepareStatements(db: Database.Database) {
  return {
    insertBag: db.prepare("INSERT INTO bags (code, kind, created_at, created_by, station_id, origin) VALUES (?, ?, ?, ?, ?, 'import')"),
    insertBagIfNew: db.prepare(
      "INSERT INTO bags (code, kind, created_at, created_by, station_id, origin) VALUES (?, ?, ?, ?, ?, 'import') ON CONFLICT (code) DO NOTHING",
    ),
    insertLink: db.prepare('INSERT INTO bag_links (child_id, parent_id, linked_at, linked_by, import_job_id) VALUES (?, ?, ?, ?, ?)'),
  };
}
