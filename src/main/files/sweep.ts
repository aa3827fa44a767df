import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { UploadStore } from '../imports/uploads';
import type { Logger } from '../platform/logger';
import { DAY_MS, UPLOAD_ABANDONED_MS } from './retention';

export interface SweepReport {
  uploads: number;
  exports: number;
  reports: number;
  bytes: number;
}

export interface FileSweeperDeps {
  sqlite: Database.Database;
  /** The data folder: uploads/, exports/ and reports/ are in it. */
  filesDir: string;
  now: () => number;
  keepDays: () => number;
  uploads: { store: UploadStore; importing: (uploadId: string) => boolean };
  log: Logger;
}

/** exports/<job>.csv|xlsx and reports/import-<job>-rejected.csv: the job row says when each was made. */
const GENERATED = [
  { folder: 'exports', kind: 'exports', job: /^(\d+)\.(csv|xlsx)$/ },
  { folder: 'reports', kind: 'reports', job: /^import-(\d+)-rejected\.csv$/ },
] as const;

interface JobRow {
  status: string;
  finished_at: number | null;
}

/**
 * Deletes the files nobody will use again, at start and then hourly: uploads whose import ended
 * (a crash can leave those) or that nobody imported for a day, and exports and rejected-row
 * reports older than the station's setting. An upload whose import is running is never touched.
 * Ages are on the station's clock (`now`), so tests move time instead of waiting.
 */
export class FileSweeper {
  readonly #job: Database.Statement;
  readonly #importJobs: Database.Statement;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<SweepReport> | null = null;

  constructor(private readonly deps: FileSweeperDeps) {
    this.#job = deps.sqlite.prepare('SELECT status, finished_at FROM jobs WHERE id = ?');
    this.#importJobs = deps.sqlite.prepare("SELECT status, finished_at FROM jobs WHERE kind = 'import' AND json_extract(params, '$.uploadId') = ?");
  }

  /** One sweep at a time; a call while one runs gets that one. */
  sweep(): Promise<SweepReport> {
    this.#running ??= this.#sweep().finally(() => (this.#running = null));
    return this.#running;
  }

  /** Sweeps now and every `everyMs` (0 = only now); the timer never keeps the process alive. */
  start(everyMs: number): void {
    const run = () => void this.sweep().catch((err: unknown) => this.deps.log.error({ err }, 'files sweep failed'));
    run();
    if (everyMs > 0) {
      this.#timer = setInterval(run, everyMs);
      this.#timer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => undefined);
  }

  async #sweep(): Promise<SweepReport> {
    const now = this.deps.now();
    const report: SweepReport = { uploads: 0, exports: 0, reports: 0, bytes: 0 };
    const { store, importing } = this.deps.uploads;
    for (const upload of await store.list()) {
      if (importing(upload.id)) continue;
      const jobs = this.#importJobs.all(upload.id) as JobRow[];
      const imported = jobs.length > 0 && jobs.every((j) => j.status !== 'running' && j.status !== 'queued');
      if (imported || now - upload.createdAt >= UPLOAD_ABANDONED_MS) {
        report.bytes += upload.bytes;
        store.remove(upload.id);
        report.uploads++;
      }
    }
    const keepMs = this.deps.keepDays() * DAY_MS;
    for (const g of GENERATED) {
      const dir = path.join(this.deps.filesDir, g.folder);
      const names = await fs.promises.readdir(dir).catch(() => [] as string[]);
      for (const name of names) {
        const m = g.job.exec(name);
        if (!m) continue;
        const file = path.join(dir, name);
        const stat = await fs.promises.stat(file).catch(() => null);
        if (!stat) continue;
        const job = this.#job.get(Number(m[1])) as JobRow | undefined;
        if (job && (job.status === 'running' || job.status === 'queued')) continue;
        // A file without its job row (a database restored from a backup) ages from its own time.
        const madeAt = job?.finished_at ?? stat.mtimeMs;
        if (now - madeAt < keepMs) continue;
        await fs.promises.rm(file, { force: true });
        report[g.kind]++;
        report.bytes += stat.size;
      }
    }
    if (report.uploads + report.exports + report.reports > 0) this.deps.log.info({ ...report }, 'deleted old uploads, exports and reports');
    return report;
  }
}
