import { call } from './client';
import { reason } from './errors';

const CHUNK = 1024 * 1024;

export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Sends a chosen file to main in 1 MiB chunks; never reads the whole file into memory at once. */
export async function uploadFile(file: File, onProgress: (fraction: number) => void): Promise<string> {
  let uploadId: string | undefined;
  for (let at = 0; at === 0 || at < file.size; at += CHUNK) {
    const bytes = new Uint8Array(await file.slice(at, at + CHUNK).arrayBuffer());
    const r = await call('imports/upload', {
      ...(uploadId ? { uploadId } : {}),
      name: file.name,
      chunk: toBase64(bytes),
      last: at + CHUNK >= file.size,
    });
    if (!r.ok) throw new Error(reason(r.error));
    uploadId = r.value.uploadId;
    onProgress(Math.min(1, (at + CHUNK) / Math.max(1, file.size)));
  }
  return uploadId!;
}
