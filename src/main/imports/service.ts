import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'csv-stringify';
import type Database from 'better-sqlite3';
import type { ExportedFile } from '../../shared/contract/bills';
import type { ImportMapping, ImportPreview, ImportResult, ImportRowStatus, ImportTotals } from '../../shared/contract/imports';
import type { JobView } from '../../shared/contract/jobs';
import { DomainError } from '../../shared/envelope';
import { recordAudit, type AuditActor, type AuditContext } from '../audit/record';
import { classifyCode, compileFormats } from '../bags/formats';
import type { Db } from '../db/open';
import type { JobContext, JobService } from '../jobs/service';
import type { SettingsService } from '../settings/service';
import { BAGS_UPSTREAM, enqueue } from '../outbox/enqueue';
import { guessMapping } from './mapping';
import { readRows, sniffFile, type Cell, type SourceRow } from './read';
import { SeenChildren } from './seen';

export const IMPORT_BATCH_ROWS = 5000;
const MAX_UPLOAD_BYTES = 256 * 1024 * 1024;
const PREVIEW_ROWS = 20;
const PREVIEW_ERRORS = 100;

export interface ImportServiceDeps {
  db: Db;
  settings: SettingsService;
  audit: AuditContext;
  jobs: JobService;
  now: () => number;
  /** Where uploads and rejected-row reports live (the station's data folder). */
  filesDir: string;
}

type Verdict =
  | { kind: 'empty' }
  | { kind: 'rejected'; reason: string; parent: string; child: string }
  | { kind: 'duplicate'; parent: string; child: string }
  | { kind: 'ok'; parent: string; child: string };

const cellText = (c: Cell | undefined): string | { problem: string } => (c === undefined ? '' : typeof c === 'string' ? c.trim() : c);
const isBlank = (c: Cell) => typeof c === 'string' && c.trim() === '';
/** Ids a spreadsheet would run as a formula, or one it turned into scientific notation. */
const SUSPECT = /^[=+@]|^-[^0-9]|^\d+(\.\d+)?E\+\d+$/i;
const show = (v: string | { problem: string }) => (typeof v === 'string' ? v : '');

/**
 * Checks one row on its own: empty, cell problems, formats. Repeats within the file are found
 * by the preview's SeenChildren and, when importing, by the links this import already made.
 * Parents are interned so a million rows keep one string per parent.
 */
class FileChecker {
  readonly #parents = new Map<string, string>();
  readonly #formats;

  constructor(settings: SettingsService) {
    const s = settings.get();
    this.#formats = compileFormats(s.parentFormats, s.childFormat);
  }

  check(row: SourceRow, m: ImportMapping): Verdict {
    const p = cellText(row.cells[m.parent]);
    const c = cellText(row.cells[m.child]);
    const parentShown = show(p);
    const childShown = show(c);
    if (p === '' && c === '' && row.cells.every(isBlank)) return { kind: 'empty' };
    const reject = (reason: string): Verdict => ({ kind: 'rejected', reason, parent: parentShown, child: childShown });
    if (typeof p !== 'string') return reject(`Parent column holds ${p.problem}`);
    if (typeof c !== 'string') return reject(`Child column holds ${c.problem}`);
    if (p === '') return reject('Parent is empty');
    if (c === '') return reject('Child is empty');
    for (const [what, v] of [['Parent', p], ['Child', c]] as const) {
      if (!SUSPECT.test(v)) continue;
      if (/E\+/i.test(v) && !/^[=+@-]/.test(v)) return reject(`${what} “${v}” is a number in scientific notation: the spreadsheet changed the id; format the column as Text`);
      return reject(`${what} “${v.slice(0, 40)}” looks like a spreadsheet formula`);
    }
    const parent = classifyCode(p, this.#formats);
    if (!parent.ok) return reject(`Parent: ${parent.reason}`);
    if (parent.kind !== 'parent') return reject(`Parent ${parent.code} is not a parent bag id`);
    const child = classifyCode(c, this.#formats);
    if (!child.ok) return reject(`Child: ${child.reason}`);
    if (child.kind !== 'child') return reject(`Child ${child.code} is a parent bag id`);
    let parentCode = this.#parents.get(parent.code);
    if (!parentCode) this.#parents.set(parent.code, (parentCode = parent.code));
    return { kind: 'ok', parent: parentCode, child: child.code };
  }
}

interface Upload {
  id: string;
  name: string;
  path: string;
}

/** Bulk bag import from XLSX/CSV: streamed, validated, committed in whole batches as a job. */
export class ImportService {
  readonly #sql: ReturnType<typeof statements>;
  readonly #uploads: string;
  readonly #reports: string;

  constructor(private readonly deps: ImportServiceDeps) {
    this.#sql = statements(deps.db.$client);
    this.#uploads = path.join(deps.filesDir, 'uploads');
    this.#reports = path.join(deps.filesDir, 'reports');
    fs.mkdirSync(this.#uploads, { recursive: true });
    fs.mkdirSync(this.#reports, { recursive: true });
  }

  async upload(input: { uploadId?: string; name: string; chunk: string; last: boolean }): Promise<{ uploadId: string; bytes: number }> {
    const id = input.uploadId ?? randomUUID();
    const part = path.join(this.#uploads, `${id}.part`);
    if (input.uploadId && !fs.existsSync(part)) throw new DomainError('not_found', 'That upload is finished or unknown: choose the file again');
    const bytes = Buffer.from(input.chunk, 'base64');
    const size = (fs.existsSync(part) ? fs.statSync(part).size : 0) + bytes.length;
    if (size > MAX_UPLOAD_BYTES) {
      fs.rmSync(part, { force: true });
      throw new DomainError('invalid', `${input.name} is larger than ${MAX_UPLOAD_BYTES / 1024 / 1024} MB`);
    }
    await fs.promises.appendFile(part, bytes);
    if (input.last) {
      await fs.promises.rename(part, path.join(this.#uploads, id));
      await fs.promises.writeFile(path.join(this.#uploads, `${id}.json`), JSON.stringify({ name: input.name }));
    }
    return { uploadId: id, bytes: size };
  }

  private uploadOf(id: string): Upload {
    const file = path.join(this.#uploads, id);
    if (!fs.existsSync(file)) throw new DomainError('not_found', 'That upload is unknown or unfinished: choose the file again');
    const { name } = JSON.parse(fs.readFileSync(`${file}.json`, 'utf8')) as { name: string };
    return { id, name, path: file };
  }

  /** Header row and mapping (the first row with any text), then the data rows in batches. */
  private async open(upload: Upload, given?: ImportMapping) {
    const kind = await sniffFile(upload.path, upload.name);
    const batches = readRows(upload.path, kind, upload.name);
    let header: SourceRow | undefined;
    let rest: SourceRow[] = [];
    // next() by hand: breaking out of for-await would close the generator before the data rows.
    for (let r = await batches.next(); !r.done && !header; r = header ? r : await batches.next()) {
      const at = r.value.findIndex((row) => row.cells.some((c) => typeof c === 'string' && c.trim() !== ''));
      if (at >= 0) {
        header = r.value[at];
        rest = r.value.slice(at + 1);
      }
    }
    if (!header) throw new DomainError('invalid', `${upload.name} has no rows: the sheet is empty`);
    const headers = header.cells.map((c) => (typeof c === 'string' ? c.trim() : ''));
    const mapping = given ?? guessMapping(headers);
    if (!mapping) {
      throw new DomainError('invalid', `${upload.name} has no parent and child columns. Columns found: ${headers.filter(Boolean).join(', ') || 'none'}. Name them “Parent” and “Child”, or choose them in the preview.`);
    }
    const width = Math.max(headers.length, mapping.parent + 1, mapping.child + 1);
    if (mapping.parent === mapping.child || mapping.parent >= width || mapping.child >= width) {
      throw new DomainError('invalid', 'Choose two different columns for parent and child');
    }
    async function* rows(): AsyncGenerator<SourceRow[]> {
      if (rest.length) yield rest;
      yield* batches;
    }
    return { kind, headers, headerLine: header.line, mapping, rows: rows() };
  }

  async preview(uploadId: string, given?: ImportMapping): Promise<ImportPreview> {
    const upload = this.uploadOf(uploadId);
    const first = await this.open(upload, given);
    const checker = new FileChecker(this.deps.settings);
    const seen = new SeenChildren(path.join(this.deps.filesDir, 'tmp'));
    const totals: ImportTotals = { rows: 0, linked: 0, alreadyPresent: 0, duplicates: 0, empty: 0, rejected: 0 };
    const rows: ImportPreview['rows'] = [];
    const errors: ImportPreview['errors'] = [];
    try {
    for await (const batch of first.rows) for (const row of batch) {
      totals.rows++;
      let checked = checker.check(row, first.mapping);
      if (checked.kind === 'ok') {
        const before = seen.remember(checked.child, checked.parent);
        if (before === checked.parent) checked = { ...checked, kind: 'duplicate' };
        else if (before) checked = { ...checked, kind: 'rejected', reason: `${checked.child} is on ${before} earlier in the file` };
      }
      const v = checked.kind === 'ok' ? this.againstDatabase(checked) : checked;
      const status = this.count(totals, v);
      if (v.kind === 'rejected' && errors.length < PREVIEW_ERRORS) errors.push({ line: row.line, reason: v.reason });
      if (rows.length < PREVIEW_ROWS) {
        rows.push({ line: row.line, parent: 'parent' in v ? v.parent : '', child: 'child' in v ? v.child : '', status, reason: v.kind === 'rejected' ? v.reason : null });
      }
    }
    } finally {
      seen.close();
    }
    if (totals.rows === 0) throw new DomainError('invalid', `${upload.name} has a header row but no bag rows`);
    return { uploadId, fileName: upload.name, kind: first.kind, headers: first.headers, headerLine: first.headerLine, mapping: first.mapping, rows, totals, errors };
  }

  /** Read-only: what the database says of a row the file itself accepts. */
  private againstDatabase(v: Extract<Verdict, { kind: 'ok' }>): Verdict | { kind: 'present'; parent: string; child: string } {
    const parent = this.#sql.bag.get(v.parent) as { id: number; kind: string } | undefined;
    if (parent && parent.kind !== 'parent') return { ...v, kind: 'rejected', reason: `${v.parent} is recorded as a child bag` };
    if (parent && this.#sql.finalized.get(parent.id)) return { ...v, kind: 'rejected', reason: `${v.parent} is on a finalized bill` };
    const child = this.#sql.bag.get(v.child) as { id: number; kind: string } | undefined;
    if (!child) return v;
    if (child.kind !== 'child') return { ...v, kind: 'rejected', reason: `${v.child} is recorded as a parent bag` };
    const link = this.#sql.linkOf.get(child.id) as { parent_code: string } | undefined;
    if (!link) return v;
    if (link.parent_code === v.parent) return { ...v, kind: 'present' };
    return { ...v, kind: 'rejected', reason: `${v.child} is already on parent ${link.parent_code}` };
  }

  private count(t: ImportTotals, v: Verdict | { kind: 'present' }): ImportRowStatus {
    switch (v.kind) {
      case 'empty':
        t.empty++;
        return 'empty';
      case 'duplicate':
        t.duplicates++;
        return 'duplicate';
      case 'rejected':
        t.rejected++;
        return 'rejected';
      case 'present':
        t.alreadyPresent++;
        return 'present';
      default:
        t.linked++;
        return 'link';
    }
  }

  start(uploadId: string, mapping: ImportMapping, actor: AuditActor, rowsTotal: number | null = null): JobView {
    const upload = this.uploadOf(uploadId);
    return this.deps.jobs.start('import', { uploadId, fileName: upload.name, mapping }, actor.userId, (ctx) => this.run(ctx, upload, mapping, actor, rowsTotal));
  }

  /**
   * The commit: rows are checked again (the database may have changed since the preview) and
   * written IMPORT_BATCH_ROWS at a time, each batch one transaction with its audit and outbox rows.
   * A cancel or a crash keeps whole batches only; re-importing skips what is there.
   */
  private async run(ctx: JobContext, upload: Upload, mapping: ImportMapping, actor: AuditActor, rowsTotal: number | null): Promise<ImportResult> {
    const { rows } = await this.open(upload, mapping);
    const checker = new FileChecker(this.deps.settings);
    const totals: ImportTotals = { rows: 0, linked: 0, alreadyPresent: 0, duplicates: 0, empty: 0, rejected: 0 };
    const result: ImportResult = { ...totals, fileName: upload.name, parentsCreated: 0, childrenCreated: 0, batchesCommitted: 0, cancelled: false };
    const reportPath = path.join(this.#reports, `import-${ctx.id}-rejected.csv`);
    const report = stringify({ header: true, columns: ['Line', 'Parent', 'Child', 'Reason'], record_delimiter: 'windows', bom: true });
    const reportFile = fs.createWriteStream(reportPath);
    report.pipe(reportFile);
    const reject = (line: number, parent: string, child: string, reason: string) => {
      totals.rejected++;
      report.write([line, parent, child, reason]);
    };
    const parentIds = new Map<string, number | 'closed'>();
    let batch: { line: number; parent: string; child: string }[] = [];
    const now = this.deps.now();
    const stationId = this.deps.audit.stationId;
    const sql = this.#sql;

    const commit = this.deps.db.$client.transaction((rows: typeof batch) => {
      const links: [string, string][] = [];
      for (const r of rows) {
        let pid = parentIds.get(r.parent);
        if (pid === undefined) {
          const existing = sql.bag.get(r.parent) as { id: number; kind: string } | undefined;
          if (existing && existing.kind !== 'parent') {
            reject(r.line, r.parent, r.child, `${r.parent} is recorded as a child bag`);
            continue;
          }
          if (existing) pid = sql.finalized.get(existing.id) ? 'closed' : existing.id;
          else {
            pid = Number(sql.insertBag.run(r.parent, 'parent', now, actor.userId, stationId).lastInsertRowid);
            result.parentsCreated++;
          }
          parentIds.set(r.parent, pid);
        }
        if (pid === 'closed') {
          reject(r.line, r.parent, r.child, `${r.parent} is on a finalized bill`);
          continue;
        }
        const inserted = sql.insertBagIfNew.run(r.child, 'child', now, actor.userId, stationId);
        let childId: number;
        if (inserted.changes === 1) {
          childId = Number(inserted.lastInsertRowid);
          result.childrenCreated++;
        } else {
          const existing = sql.bag.get(r.child) as { id: number; kind: string };
          if (existing.kind !== 'child') {
            reject(r.line, r.parent, r.child, `${r.child} is recorded as a parent bag`);
            continue;
          }
          childId = existing.id;
          const link = sql.linkOf.get(childId) as { parent_id: number; parent_code: string; import_job_id: number | null } | undefined;
          const ours = link?.import_job_id === ctx.id; // linked by an earlier row of this file
          if (link?.parent_id === pid) {
            if (ours) totals.duplicates++;
            else totals.alreadyPresent++;
            continue;
          }
          if (link) {
            reject(r.line, r.parent, r.child, ours ? `${r.child} is on ${link.parent_code} earlier in the file` : `${r.child} is already on parent ${link.parent_code}`);
            continue;
          }
        }
        sql.insertLink.run(childId, pid, now, actor.userId, ctx.id);
        links.push([r.child, r.parent]);
      }
      totals.linked += links.length;
      if (links.length > 0) {
        const lines = `${rows[0].line}–${rows.at(-1)!.line}`;
        recordAudit(this.deps.db, this.deps.audit, actor, { action: 'bags.imported', entity: 'import', entityId: String(ctx.id), after: { file: upload.name, lines, linked: links.length } });
        enqueue(this.deps.db, now, { op: 'import_links@1', upstream: BAGS_UPSTREAM, payload: { file: upload.name, job: ctx.id, links, at: now, by: actor.username, station: stationId } });
      }
    });

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
          else if (v.kind === 'rejected') reject(row.line, v.parent, v.child, v.reason);
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

  rejectedReport(jobId: number): ExportedFile {
    const file = path.join(this.#reports, `import-${jobId}-rejected.csv`);
    if (!fs.existsSync(file)) throw new DomainError('not_found', 'No rejected-rows report for that import');
    const { fileName } = this.deps.jobs.params<{ fileName: string }>(jobId);
    return { fileName: `${fileName.replace(/\.[^.]+$/, '')}-rejected.csv`, mimeType: 'text/csv', base64: fs.readFileSync(file).toString('base64') };
  }
}

function statements(db: Database.Database) {
  return {
    bag: db.prepare('SELECT id, kind FROM bags WHERE code = ?'),
    linkOf: db.prepare('SELECT l.parent_id, l.import_job_id, p.code AS parent_code FROM bag_links l JOIN bags p ON p.id = l.parent_id WHERE l.child_id = ?'),
    finalized: db.prepare("SELECT 1 FROM bill_parents bp JOIN bills b ON b.id = bp.bill_id WHERE bp.parent_id = ? AND b.status = 'finalized'"),
    insertBag: db.prepare("INSERT INTO bags (code, kind, created_at, created_by, station_id, origin) VALUES (?, ?, ?, ?, ?, 'import')"),
    insertBagIfNew: db.prepare("INSERT INTO bags (code, kind, created_at, created_by, station_id, origin) VALUES (?, ?, ?, ?, ?, 'import') ON CONFLICT (code) DO NOTHING"),
    insertLink: db.prepare('INSERT INTO bag_links (child_id, parent_id, linked_at, linked_by, import_job_id) VALUES (?, ?, ?, ?, ?)'),
  };
}
