import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ImportMapping } from '../../shared/contract/imports';
import { DomainError } from '../../shared/envelope';
import { guessMapping } from './mapping';
import { readRows, sniffFile, type SourceRow } from './read';

const MAX_UPLOAD_BYTES = 256 * 1024 * 1024;

export interface Upload {
  id: string;
  name: string;
  path: string;
}

/** Files people upload in chunks, kept in the data folder until imported. */
export class UploadStore {
  readonly #dir: string;

  constructor(filesDir: string) {
    this.#dir = path.join(filesDir, 'uploads');
    fs.mkdirSync(this.#dir, { recursive: true });
  }

  async upload(input: { uploadId?: string; name: string; chunk: string; last: boolean }): Promise<{ uploadId: string; bytes: number }> {
    const id = input.uploadId ?? randomUUID();
    const part = path.join(this.#dir, `${id}.part`);
    if (input.uploadId && !fs.existsSync(part)) throw new DomainError('not_found', 'That upload is finished or unknown: choose the file again');
    const bytes = Buffer.from(input.chunk, 'base64');
    const size = (fs.existsSync(part) ? fs.statSync(part).size : 0) + bytes.length;
    if (size > MAX_UPLOAD_BYTES) {
      fs.rmSync(part, { force: true });
      throw new DomainError('invalid', `${input.name} is larger than ${MAX_UPLOAD_BYTES / 1024 / 1024} MB`);
    }
    await fs.promises.appendFile(part, bytes);
    if (input.last) {
      await fs.promises.rename(part, path.join(this.#dir, id));
      await fs.promises.writeFile(path.join(this.#dir, `${id}.json`), JSON.stringify({ name: input.name }));
    }
    return { uploadId: id, bytes: size };
  }

  get(id: string): Upload {
    const file = path.join(this.#dir, id);
    if (!fs.existsSync(file)) throw new DomainError('not_found', 'That upload is unknown or unfinished: choose the file again');
    const { name } = JSON.parse(fs.readFileSync(`${file}.json`, 'utf8')) as { name: string };
    return { id, name, path: file };
  }
}

/**
 * An uploaded sheet opened for reading: its header row and column mapping (the first row with any
 * text), then the data rows in batches.
 */
export async function openSheet(upload: Upload, given?: ImportMapping) {
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
    throw new DomainError(
      'invalid',
      `${upload.name} has no parent and child columns. Columns found: ${headers.filter(Boolean).join(', ') || 'none'}. Name them “Parent” and “Child”, or choose them in the preview.`,
    );
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
