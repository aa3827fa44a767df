import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DomainError } from '../../shared/envelope';

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
