import fs from 'node:fs';
import path from 'node:path';
import type { ExportedFile } from '../../shared/contract/bills';
import type { ImportMapping, ImportPreview, ImportReadOptions } from '../../shared/contract/imports';
import type { JobView } from '../../shared/contract/jobs';
import { DomainError } from '../../shared/envelope';
import type { AuditActor, AuditContext } from '../audit/record';
import { LinkFactsReader } from '../bags/link-rules';
import type { Db } from '../db/open';
import type { JobService } from '../jobs/service';
import type { SettingsService } from '../settings/service';
import { expiredFileMessage } from '../files/retention';
import { ownerOnlyFolder } from '../files/owner-only';
import type { ImportRules } from './checking';
import { commitImport } from './commit';
import { UploadStore, type Upload } from './uploads';
import type { WorkerPool } from '../platform/workers';
import type { ImportTask } from './tasks';

export { IMPORT_BATCH_ROWS } from './commit';

export interface ImportServiceDeps {
  db: Db;
  settings: SettingsService;
  audit: AuditContext;
  jobs: JobService;
  now: () => number;
  /** Where uploads and rejected-row reports live (the station's data folder). */
  filesDir: string;
  /** The station's database file: the import worker reads it on a connection of its own. */
  dbPath: string;
  /** Reads and checks files off the main thread. */
  workers: WorkerPool;
}

/**
 * Bulk bag import from XLSX/CSV: chunked uploads (uploads.ts), row checks by the bags' link rules
 * (checking.ts), a preview that writes nothing (preview.ts), and the commit as a job in whole
 * batches (commit.ts).
 */
export class ImportService {
  readonly #uploads: UploadStore;
  readonly #reports: string;
  readonly #facts: LinkFactsReader;
  /** Uploads with an import job running, and how many: the sweep leaves these alone. */
  readonly #importing = new Map<string, number>();

  constructor(private readonly deps: ImportServiceDeps) {
    this.#uploads = new UploadStore(deps.filesDir, deps.now);
    this.#reports = path.join(deps.filesDir, 'reports');
    ownerOnlyFolder(this.#reports);
    this.#facts = new LinkFactsReader(deps.db.$client);
  }

  #rules(): ImportRules {
    const s = this.deps.settings.get();
    return {
      parentFormats: s.parentFormats,
      childFormat: s.childFormat,
      enforceFormats: s.importEnforceFormats,
    };
  }

  #task(kind: ImportTask['kind'], upload: Upload, options: ImportTask['options']): ImportTask {
    if (this.deps.dbPath === ':memory:') throw new DomainError('unavailable', 'Imports need the station database on disk');
    return {
      kind,
      subject: upload.name,
      dbPath: this.deps.dbPath,
      tmpDir: path.join(this.deps.filesDir, 'tmp'),
      upload,
      options,
      rules: this.#rules(),
    };
  }

  upload(input: { uploadId?: string; name: string; chunk: string; last: boolean }): Promise<{ uploadId: string; bytes: number }> {
    return this.#uploads.upload(input);
  }

  /** Reads the whole file in the import worker and says what importing it would do; writes nothing. */
  async preview(uploadId: string, options: ImportReadOptions & { mapping?: ImportMapping } = {}): Promise<ImportPreview> {
    const run = this.deps.workers.run<ImportPreview>(this.#task('import-preview', this.#uploads.get(uploadId), options));
    const r = await run.done;
    if (r.stopped) throw new DomainError('unavailable', 'The preview was stopped: the station is closing');
    return r.value;
  }

  start(uploadId: string, options: ImportReadOptions & { mapping: ImportMapping }, actor: AuditActor, rowsTotal: number | null = null): JobView {
    const upload = this.#uploads.get(uploadId);
    const task = this.#task('import-check', upload, options);
    const { db, audit, now } = this.deps;
    const { mapping } = options;
    const job = this.deps.jobs.start('import', { uploadId, fileName: upload.name, mapping }, actor.userId, async (ctx) => {
      try {
        return await commitImport({ db, audit, now, facts: this.#facts, workers: this.deps.workers }, ctx, {
          task,
          actor,
          rowsTotal,
          reportPath: this.reportPath(ctx.id),
        });
      } finally {
        this.jobEnded(uploadId);
      }
    });
    this.#importing.set(uploadId, (this.#importing.get(uploadId) ?? 0) + 1);
    return job;
  }

  /**
   * Done, failed or cancelled, the upload goes: it is a copy of a file the person still has, and
   * a cancelled import is finished by choosing that file again.
   */
  private jobEnded(uploadId: string): void {
    const left = (this.#importing.get(uploadId) ?? 1) - 1;
    if (left > 0) return void this.#importing.set(uploadId, left);
    this.#importing.delete(uploadId);
    this.#uploads.remove(uploadId);
  }

  /** The upload store and which uploads are being imported, for the files sweep. */
  uploadsInUse(): { store: UploadStore; importing: (uploadId: string) => boolean } {
    return { store: this.#uploads, importing: (id) => this.#importing.has(id) };
  }

  private reportPath(jobId: number): string {
    return path.join(this.#reports, `import-${jobId}-rejected.csv`);
  }

  rejectedReport(jobId: number, viewer: { id: number; role: string }): ExportedFile {
    const job = this.deps.jobs.getFor(jobId, viewer);
    const file = this.reportPath(jobId);
    if (!fs.existsSync(file))
      throw new DomainError(
        'not_found',
        expiredFileMessage('report', job.finishedAt, this.deps.settings.get().filesKeepDays, this.deps.now()) ??
          'No rejected-rows report for that import',
      );
    const { fileName } = this.deps.jobs.params<{ fileName: string }>(jobId);
    return { fileName: `${fileName.replace(/\.[^.]+$/, '')}-rejected.csv`, mimeType: 'text/csv', base64: fs.readFileSync(file).toString('base64') };
  }
}
