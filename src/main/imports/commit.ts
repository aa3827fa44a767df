import fs from 'node:fs';
import type Database from 'better-sqlite3';
import { stringify } from 'csv-stringify';
import type { ImportMapping, ImportResult } from '../../shared/contract/imports';
import { DomainError } from '../../shared/envelope';
import { recordAudit, type AuditActor, type AuditContext } from '../audit/record';
import { checkLink, checkParent, type LinkFactsReader, type ParentFacts } from '../bags/link-rules';
import type { Db } from '../db/open';
import type { JobContext } from '../jobs/service';
import { BAGS_UPSTREAM, enqueue } from '../outbox/enqueue';
import type { SettingsService } from '../settings/service';
import { emptyTotals, FileChecker } from './checking';
import { openSheet } from './sheet';
import type { Upload } from './uploads';

export const IMPORT_BATCH_ROWS = 5000;

export interface CommitDeps {
  db: Db;
  settings: SettingsService;
  audit: AuditContext;
  facts: LinkFactsReader;
  now: () => number;
}

interface Row {
  line: number;
  parent: string;
  child: string;
}

/**
 * The commit: rows are checked again (the database may have changed since the preview) by the
 * same link rules as a scan, and written IMPORT_BATCH_ROWS at a time, each batch one transaction
 * with its audit and outbox rows. A cancel or a crash keeps whole batches only; re-importing skips
 * what is there. Rejected rows go to a CSV report beside the job.
 */
export async function commitImport(
  deps: CommitDeps,
  ctx: JobContext,
  job: { upload: Upload; mapping: ImportMapping; actor: AuditActor; rowsTotal: number | null; reportPath: string },
): Promise<ImportResult> {
  const { upload, mapping, actor, rowsTotal } = job;
  const { rows } = await openSheet(upload, mapping);
  const checker = new FileChecker(deps.settings);
  const totals = emptyTotals();
  const result: ImportResult = { ...totals, fileName: upload.name, parentsCreated: 0, childrenCreated: 0, batchesCommitted: 0, cancelled: false };
  const report = stringify({ header: true, columns: ['Line', 'Parent', 'Child', 'Reason'], record_delimiter: 'windows', bom: true });
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
  const flush = () => {
    if (batch.length === 0) return;
    commit.immediate(batch);
    result.batchesCommitted++;
    batch = [];
  };

  try {
    reading: for await (const read of rows) {
      for (const row of read) {
        totals.rows++;
        const v = checker.check(row, mapping);
        if (v.kind === 'empty') totals.empty++;
        else if (v.kind === 'duplicate') totals.duplicates++;
        else if (v.kind === 'rejected') reject({ line: row.line, parent: v.parent, child: v.child }, v.reason);
        else batch.push({ line: row.line, parent: v.parent, child: v.child });
        if (batch.length >= IMPORT_BATCH_ROWS) {
          flush();
          ctx.progress({ rowsDone: totals.rows, rowsTotal });
          if (ctx.cancelled()) {
            result.cancelled = true;
            break reading;
          }
        }
      }
      // Between read batches: IPC and other work get their turn.
      await new Promise((r) => setImmediate(r));
    }
    if (!result.cancelled) flush();
    if (totals.rows === 0) throw new DomainError('invalid', `${upload.name} has a header row but no bag rows`);
    ctx.progress({ rowsDone: totals.rows, rowsTotal: result.cancelled ? rowsTotal : totals.rows });
  } finally {
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
