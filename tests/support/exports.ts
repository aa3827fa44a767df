import type { ExportKind } from '../../src/shared/contract/exports';
import type { TestWindow } from './station';
import { waitForJob } from './imports';

/** Starts an export, waits for it and downloads it in chunks as the renderer does; fails if it did not succeed. */
export async function exportFile(w: TestWindow, what: ExportKind, format: 'csv' | 'xlsx') {
  const job = await w.ok('exports/start', { what, format });
  const done = await waitForJob(w, job.id);
  if (done.status !== 'succeeded') throw new Error(`export ${what} ${format} ended ${done.status}: ${done.error}`);
  const parts: Buffer[] = [];
  let offset = 0;
  let name: string;
  for (;;) {
    const c = await w.ok('exports/chunk', { jobId: job.id, offset });
    parts.push(Buffer.from(c.base64, 'base64'));
    offset += parts.at(-1)!.length;
    name = c.fileName;
    if (c.done) break;
  }
  return { name, bytes: Buffer.concat(parts), result: done.result as { rows: number } };
}
