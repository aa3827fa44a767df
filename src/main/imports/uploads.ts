import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DomainError } from '../../shared/envelope';
import { refuseOnFullDisk } from '../platform/disk-full';
import { ownerOnlyFolder } from '../files/owner-only';

const MAX_UPLOAD_BYTES = 256 * 1024 * 1024;

export interface Upload {
  id: string;
  name: string;
  path: string;
}

/** Beside each upload: its name and when it began, on the station's (injectable) clock. */
interface UploadMeta {
  name: string;
  createdAt?: number;
}

const UPLOAD_FILE = /^([0-9a-f-]{36})(\.part|\.json)?$/;

/**
 * Files people upload in chunks: `<id>.part` while it arrives, then `<id>` with `<id>.json`.
 * An upload lives until its import ends (ImportService removes it) or, when nobody imports it,
 * until the sweep finds it abandoned (files/sweep.ts).
 */
export class UploadStore {
  readonly #dir: string;

  constructor(
    filesDir: string,
    private readonly now: () => number = Date.now,
  ) {
    this.#dir = path.join(filesDir, 'uploads');
    ownerOnlyFolder(this.#dir);
  }

  async upload(input: { uploadId?: string; name: string; chunk: string; last: boolean }): Promise<{ uploadId: string; bytes: number }> {
    const id = input.uploadId ?? randomUUID();
    const part = path.join(this.#dir, `${id}.part`);
    if (input.uploadId && !fs.existsSync(part)) throw new DomainError('not_found', 'That upload is finished or unknown: choose the file again');
    const bytes = Buffer.from(input.chunk, 'base64');
    const size = (fs.existsSync(part) ? fs.statSync(part).size : 0) + bytes.length;
    if (size > MAX_UPLOAD_BYTES) {
      this.remove(id);
      throw new DomainError('invalid', `${input.name} is larger than ${MAX_UPLOAD_BYTES / 1024 / 1024} MB`);
    }
    try {
      if (!input.uploadId) await this.writeMeta(id, { name: input.name, createdAt: this.now() });
      await fs.promises.appendFile(part, bytes);
      if (input.last) {
        await fs.promises.rename(part, path.join(this.#dir, id));
        await this.writeMeta(id, { name: input.name, createdAt: this.meta(id)?.createdAt ?? this.now() });
      }
    } catch (error) {
      // Half a file is no use to anyone and holds space a full disk needs back.
      this.remove(id);
      throw refuseOnFullDisk(
        error,
        `The station's disk is full: ${input.name} was not uploaded, and the part received is deleted. Tell IT; choose the file again when space is freed.`,
      );
    }
    return { uploadId: id, bytes: size };
  }

  get(id: string): Upload {
    const file = path.join(this.#dir, id);
    const meta = fs.existsSync(file) ? this.meta(id) : null;
    if (!meta) throw new DomainError('not_found', 'That upload is unknown, unfinished or deleted: choose the file again');
    return { id, name: meta.name, path: file };
  }

  /** Deletes an upload, finished or not; nothing there is fine. */
  remove(id: string): void {
    for (const f of [id, `${id}.part`, `${id}.json`]) fs.rmSync(path.join(this.#dir, f), { force: true });
  }

  /**
   * Every upload in the folder: when it began (the station's clock, from its .json; the file's
   * own time for one without, written before uploads recorded it) and the bytes it holds.
   */
  async list(): Promise<{ id: string; createdAt: number; finished: boolean; bytes: number }[]> {
    const ids = new Map<string, { finished: boolean; bytes: number; mtimeMs: number }>();
    for (const f of await fs.promises.readdir(this.#dir)) {
      const m = UPLOAD_FILE.exec(f);
      const stat = m ? await fs.promises.stat(path.join(this.#dir, f)).catch(() => null) : null;
      if (!m || !stat) continue;
      const entry = ids.get(m[1]) ?? { finished: false, bytes: 0, mtimeMs: 0 };
      if (m[2] === undefined) entry.finished = true;
      entry.bytes += stat.size;
      entry.mtimeMs = Math.max(entry.mtimeMs, stat.mtimeMs);
      ids.set(m[1], entry);
    }
    return [...ids].map(([id, e]) => ({ id, createdAt: this.meta(id)?.createdAt ?? e.mtimeMs, finished: e.finished, bytes: e.bytes }));
  }

  private meta(id: string): UploadMeta | null {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.#dir, `${id}.json`), 'utf8')) as UploadMeta;
    } catch {
      return null;
    }
  }

  private writeMeta(id: string, meta: UploadMeta): Promise<void> {
    return fs.promises.writeFile(path.join(this.#dir, `${id}.json`), JSON.stringify(meta));
  }
}
