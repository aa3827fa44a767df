import fs from 'node:fs';
import path from 'node:path';
import { EXPORT_ROLES, mayExport, type ExportKind, type FileChunk } from '../../shared/contract/exports';
import type { JobView } from '../../shared/contract/jobs';
import { DomainError } from '../../shared/envelope';
import { ROLE_LABELS, type Role } from '../../shared/roles';
import type { Db } from '../db/open';
import type { JobContext, JobService } from '../jobs/service';
import type { WorkerPool } from '../platform/workers';
import { expiredFileMessage } from '../files/retention';
import { ownerOnlyFolder } from '../files/owner-only';
import type { SettingsService } from '../settings/service';
import type { ExportTask } from './write';

const MIME = { csv: 'text/csv', xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' };
const CHUNK = 1024 * 1024;
const IN_WORDS: Record<ExportKind, string> = {
  bags: 'bags',
  bills: 'bills',
  audit: 'the audit trail',
  inventory: 'the inventory report',
  eta: 'ETA reports',
  'verify-compare': 'verification compares',
};
/** Kinds whose table main prepares (a report run first): exports/start alone cannot write them. */
const PREPARED_ONLY: Partial<Record<ExportKind, string>> = {
  eta: 'Export an ETA report from Reports → ETA, after running it',
  'verify-compare': 'Export a verification compare from Reports → Verification, after comparing two snapshots',
};

/** `inventory-2026-11-26-0942`: the station's local date and time to the minute, so a day's several downloads keep apart. */
function stampedName(what: string, ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${what}-${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}-${two(d.getHours())}${two(d.getMinutes())}`;
}

/** Refuses a kind the viewer's role may not export (EXPORT_ROLES), in words. */
function mustMayExport(viewer: { role: string }, what: ExportKind): void {
  if (mayExport(viewer.role, what)) return;
  const who = EXPORT_ROLES[what].map((r) => ROLE_LABELS[r]).join(' or ');
  const you = ROLE_LABELS[viewer.role as Role] ?? viewer.role;
  throw new DomainError('forbidden', `Only ${who} may export ${IN_WORDS[what]} (you are ${you})`);
}

/** Exports as jobs: the worker writes the file (exports/write.ts); here, the job and the download in chunks. */
export class ExportService {
  readonly #dir: string;

  constructor(
    private readonly deps: {
      db: Db;
      jobs: JobService;
      settings: SettingsService;
      filesDir: string;
      now: () => number;
      dbPath: string;
      workers: WorkerPool;
    },
  ) {
    this.#dir = path.join(deps.filesDir, 'exports');
    ownerOnlyFolder(this.#dir);
  }

  /**
   * `cacheKey`: for the inventory report, the cached copy to write. `prepared`: for an ETA report or a
   * verification compare, the table main made (scrubbed, in the fixed header order) and the name the file goes by.
   */
  start(
    what: ExportKind,
    format: 'csv' | 'xlsx',
    viewer: { id: number; role: string },
    cacheKey?: string,
    prepared?: { baseName: string; table: NonNullable<ExportTask['table']> },
  ): JobView {
    mustMayExport(viewer, what);
    const needsTable = PREPARED_ONLY[what];
    if (needsTable && !prepared) throw new DomainError('invalid', needsTable);
    const stamp = new Date(this.deps.now()).toISOString().slice(0, 10);
    const fileName = prepared
      ? `${stampedName(prepared.baseName, this.deps.now())}.${format}`
      : what === 'inventory'
        ? `${stampedName(what, this.deps.now())}.${format}`
        : `dockside-${what}-${stamp}.${format}`;
    return this.deps.jobs.start('export', { what, format, fileName }, viewer.id, (ctx) =>
      this.run(ctx, {
        kind: 'export',
        subject: fileName,
        dbPath: this.deps.dbPath,
        what,
        format,
        file: path.join(this.#dir, `${ctx.id}.${format}`),
        kgPerChild: this.deps.settings.get().kgPerChild,
        cacheKey,
        table: prepared?.table,
      }),
    );
  }

  private async run(ctx: JobContext, task: ExportTask): Promise<{ fileName: string; rows: number; bytes: number }> {
    const run = this.deps.workers.run<{ fileName: string; rows: number; bytes: number }>(task, {
      onProgress: (p) => {
        ctx.progress(p);
        if (ctx.cancelled()) void run.stop();
      },
    });
    // A failed write (a full disk: the worker says so in words) leaves no half file either.
    const r = await run.done.catch((error: unknown) => {
      fs.rmSync(task.file, { force: true });
      throw error;
    });
    if (r.stopped) {
      // Cancelled (or the station is closing): no half-written file is left to download.
      fs.rmSync(task.file, { force: true });
      return { fileName: task.subject, rows: 0, bytes: 0 };
    }
    return r.value;
  }

  /** Only its owner or an admin (others are told there is no such job), and only while their role may export its kind. */
  chunk(jobId: number, offset: number, viewer: { id: number; role: string }): FileChunk {
    const job = this.deps.jobs.getFor(jobId, viewer);
    if (job.kind !== 'export') throw new DomainError('not_found', 'Not an export');
    const { what, format, fileName } = this.deps.jobs.params<{ what: ExportKind; format: 'csv' | 'xlsx'; fileName: string }>(jobId);
    mustMayExport(viewer, what);
    if (job.status !== 'succeeded') throw new DomainError('conflict', 'The export is not finished');
    const file = path.join(this.#dir, `${jobId}.${format}`);
    if (!fs.existsSync(file))
      throw new DomainError(
        'not_found',
        expiredFileMessage('export', job.finishedAt, this.deps.settings.get().filesKeepDays, this.deps.now()) ??
          'The export file is gone: export again',
      );
    const size = fs.statSync(file).size;
    if (offset > size) throw new DomainError('invalid', 'Offset past the end of the file');
    const fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(Math.min(CHUNK, size - offset));
    fs.readSync(fd, buf, 0, buf.length, offset);
    fs.closeSync(fd);
    return { fileName, mimeType: MIME[format], size, offset, base64: buf.toString('base64'), done: offset + buf.length >= size };
  }
}
