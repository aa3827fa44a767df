import fs from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import readline from 'node:readline';
import type Database from 'better-sqlite3';
import yazl from 'yazl';
import type { FileChunk } from '../../shared/contract/exports';
import type { HealthReport } from '../../shared/contract/health';
import { DomainError } from '../../shared/envelope';
import { recordAudit, type AuditActor, type AuditContext } from '../audit/record';
import type { Db } from '../db/open';
import { ownerOnlyFile, ownerOnlyFolder } from '../files/owner-only';
import type { Logger } from '../platform/logger';
import { utcStamp } from '../backups/schedule';
import { secretRedactor, withoutSecretFields } from './redact';

const DAY = 86_400_000;
const CHUNK = 1024 * 1024;
/** Zips kept in `<data folder>/diagnostics`: they hold logs, so old ones do not pile up. */
const ZIPS_KEPT = 3;
/** Audit rows read between yields to the event loop, so a busy day's audit never holds up a scan for long. */
const AUDIT_ROWS_PER_TURN = 500;

export interface DiagnosticsDeps {
  /** `<data folder>/diagnostics`: where the zips are written. */
  dir: string;
  /** The log files' folder (dockside.N.log); null when the station logs nowhere. */
  logDir: string | null;
  /** Writes out buffered log lines before they are read. */
  flushLog: () => Promise<void>;
  db: Db;
  sqlite: Database.Database;
  audit: AuditContext;
  now: () => number;
  health: () => Promise<HealthReport>;
  /** Every secret value this station holds now (secret store, opened TOTP secrets). */
  knownSecrets: () => string[];
  /** Names of the credentials set (names only, never values). */
  credentialNames: () => string[];
  log: Logger;
}

const NAME = /^dockside-diagnostics-\d{8}-\d{6}\.zip$/;

const zipName = (at: number) => `dockside-diagnostics-${utcStamp(at)}.zip`;

/**
 * Export diagnostics: one zip for a support case with the logs (secrets redacted), the settings
 * (without secrets), the health figures and the last day's audit (redacted the same way).
 */
export class DiagnosticsService {
  constructor(private readonly deps: DiagnosticsDeps) {}

  async export(actor: AuditActor): Promise<{ fileName: string; size: number }> {
    ownerOnlyFolder(this.deps.dir);
    const at = this.deps.now();
    const fileName = zipName(at);
    const file = path.join(this.deps.dir, fileName);
    const partial = path.join(this.deps.dir, `.${fileName}.partial`);
    const redact = secretRedactor(this.deps.knownSecrets());
    await this.deps.flushLog().catch(() => undefined);
    const zip = new yazl.ZipFile();
    const mtime = new Date(at);
    const written = pipeline(zip.outputStream, fs.createWriteStream(partial, { mode: 0o600 }));
    try {
      const health = await this.deps.health();
      zip.addBuffer(Buffer.from(readme(at, actor)), 'README.txt', { mtime });
      zip.addBuffer(Buffer.from(redact(JSON.stringify(health, null, 2))), 'health.json', { mtime });
      zip.addBuffer(Buffer.from(redact(JSON.stringify(this.#settings(), null, 2))), 'settings.json', { mtime });
      for (const log of this.#logFiles())
        zip.addReadStream(redactedLines(fs.createReadStream(path.join(this.deps.logDir!, log)), redact), `logs/${log}`, { mtime });
      const audit = new PassThrough();
      zip.addReadStream(audit, 'audit-last-day.jsonl', { mtime });
      zip.end();
      await this.#writeAudit(audit, at - DAY, redact);
      await written;
      ownerOnlyFile(partial);
      fs.renameSync(partial, file);
    } catch (error) {
      (zip.outputStream as Readable).destroy();
      await written.catch(() => undefined);
      fs.rmSync(partial, { force: true });
      throw error;
    }
    const size = fs.statSync(file).size;
    recordAudit(this.deps.db, this.deps.audit, actor, {
      action: 'diagnostics.exported',
      entity: 'diagnostics',
      entityId: fileName,
      after: { fileName, size },
    });
    this.deps.log.info({ fileName, size }, 'diagnostics exported');
    this.#prune();
    return { fileName, size };
  }

  chunk(fileName: string, offset: number): FileChunk {
    if (!NAME.test(fileName)) throw new DomainError('invalid', 'Not a diagnostics file name');
    const file = path.join(this.deps.dir, fileName);
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    if (!stat) throw new DomainError('not_found', 'That diagnostics file is gone: export diagnostics again');
    if (offset > stat.size) throw new DomainError('invalid', 'Offset past the end of the file');
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(Math.min(CHUNK, stat.size - offset));
      fs.readSync(fd, buf, 0, buf.length, offset);
      return {
        fileName,
        mimeType: 'application/zip',
        size: stat.size,
        offset,
        base64: buf.toString('base64'),
        done: offset + buf.length >= stat.size,
      };
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Every setting but secrets: fields named like secrets are replaced, and credentials are listed by name only. */
  #settings(): unknown {
    const rows = this.deps.sqlite.prepare('SELECT key, value, updated_at AS updatedAt FROM settings ORDER BY key').all() as {
      key: string;
      value: string;
      updatedAt: number;
    }[];
    return {
      settings: Object.fromEntries(rows.map((r) => [r.key, withoutSecretFields(parseJson(r.value))])),
      credentialsSet: this.deps.credentialNames(),
    };
  }

  #logFiles(): string[] {
    if (!this.deps.logDir || !fs.existsSync(this.deps.logDir)) return [];
    return fs
      .readdirSync(this.deps.logDir)
      .filter((n) => /^dockside\.\d+\.log$/.test(n))
      .sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]));
  }

  async #writeAudit(out: PassThrough, since: number, redact: (s: string) => string): Promise<void> {
    const select = this.deps.sqlite.prepare('SELECT * FROM audit_log WHERE at >= ? AND id > ? ORDER BY id LIMIT ?');
    let last = 0;
    for (;;) {
      const rows = select.all(since, last, AUDIT_ROWS_PER_TURN) as { id: number; before: string | null; after: string | null }[];
      for (const row of rows) {
        // The snapshots are JSON text: opened, so their secret-named fields are found at any depth.
        const open = { ...row, before: parseJson(row.before), after: parseJson(row.after) };
        if (!out.write(`${redact(JSON.stringify(withoutSecretFields(open)))}\n`)) await new Promise((r) => out.once('drain', r));
      }
      if (rows.length < AUDIT_ROWS_PER_TURN) break;
      last = rows[rows.length - 1].id;
      await new Promise((r) => setImmediate(r));
    }
    out.end();
  }

  #prune(): void {
    const zips = fs
      .readdirSync(this.deps.dir)
      .filter((n) => NAME.test(n))
      .sort()
      .reverse();
    for (const old of zips.slice(ZIPS_KEPT)) fs.rmSync(path.join(this.deps.dir, old), { force: true });
  }
}

/** JSON text as its value; anything else as it is. */
function parseJson(v: string | null): unknown {
  if (v === null) return null;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/** A log file's lines, each redacted. */
function redactedLines(input: Readable, redact: (s: string) => string): Readable {
  const out = new PassThrough();
  void (async () => {
    try {
      for await (const line of readline.createInterface({ input, crlfDelay: Infinity })) {
        if (!out.write(`${redact(line)}\n`)) await new Promise((r) => out.once('drain', r));
      }
      out.end();
    } catch (error) {
      out.destroy(error as Error);
    }
  })();
  return out;
}

function readme(at: number, actor: AuditActor): string {
  return [
    'Dockside diagnostics',
    `Exported ${new Date(at).toISOString()} by ${actor.username ?? 'the station'}.`,
    '',
    'health.json           the figures of Admin → Health when this was exported',
    'settings.json         the station settings; secrets replaced by [redacted], credentials listed by name only',
    'logs/dockside.N.log   the station logs (JSON lines), secrets redacted',
    'audit-last-day.jsonl  the audit trail of the last 24 hours, secrets redacted',
    '',
  ].join('\n');
}
