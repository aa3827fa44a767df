import fs from 'node:fs';
import path from 'node:path';
import type { ExportedFile } from '../../shared/contract/bills';
import type { ImportMapping, ImportPreview } from '../../shared/contract/imports';
import type { JobView } from '../../shared/contract/jobs';
import { DomainError } from '../../shared/envelope';
import type { AuditActor, AuditContext } from '../audit/record';
import { LinkFactsReader } from '../bags/link-rules';
import type { Db } from '../db/open';
import type { JobService } from '../jobs/service';
import type { SettingsService } from '../settings/service';
import { commitImport } from './commit';
import { previewImport } from './preview';
import { UploadStore } from './uploads';

export { IMPORT_BATCH_ROWS } from './commit';

export interface ImportServiceDeps {
  db: Db;
  settings: SettingsService;
  audit: AuditContext;
  jobs: JobService;
  now: () => number;
  /** Where uploads and rejected-row reports live (the station's data folder). */
  filesDir: string;
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

  constructor(private readonly deps: ImportServiceDeps) {
    this.#uploads = new UploadStore(deps.filesDir);
    this.#reports = path.join(deps.filesDir, 'reports');
    fs.mkdirSync(this.#reports, { recursive: true });
    this.#facts = new LinkFactsReader(deps.db.$client);
  }

  upload(input: { uploadId?: string; name: string; chunk: string; last: boolean }): Promise<{ uploadId: string; bytes: number }> {
    return this.#uploads.upload(input);
  }

  preview(uploadId: string, given?: ImportMapping): Promise<ImportPreview> {
    return previewImport({ settings: this.deps.settings, facts: this.#facts, filesDir: this.deps.filesDir }, this.#uploads.get(uploadId), given);
  }

  start(uploadId: string, mapping: ImportMapping, actor: AuditActor, rowsTotal: number | null = null): JobView {
    const upload = this.#uploads.get(uploadId);
    const { db, settings, audit, now } = this.deps;
    return this.deps.jobs.start('import', { uploadId, fileName: upload.name, mapping }, actor.userId, (ctx) =>
      commitImport({ db, settings, audit, now, facts: this.#facts }, ctx, { upload, mapping, actor, rowsTotal, reportPath: this.reportPath(ctx.id) }),
    );
  }

  private reportPath(jobId: number): string {
    return path.join(this.#reports, `import-${jobId}-rejected.csv`);
  }

  rejectedReport(jobId: number, viewer: { id: number; role: string }): ExportedFile {
    this.deps.jobs.getFor(jobId, viewer);
    const file = this.reportPath(jobId);
    if (!fs.existsSync(file)) throw new DomainError('not_found', 'No rejected-rows report for that import');
    const { fileName } = this.deps.jobs.params<{ fileName: string }>(jobId);
    return { fileName: `${fileName.replace(/\.[^.]+$/, '')}-rejected.csv`, mimeType: 'text/csv', base64: fs.readFileSync(file).toString('base64') };
  }
}
