import type { ExportKind } from '../../src/shared/contract/exports';
import type { JobView } from '../../src/shared/contract/jobs';
import type { TestWindow } from './station';
import { waitForJob } from './imports';

/** Starts an export, waits for it and downloads it in chunks as the renderer does; fails if it did not succeed. */
export async function exportFile(w: TestWindow, what: ExportKind, format: 'csv' | 'xlsx') {
  return downloadExport(w, await w.ok('exports/start', { what, format }));
}

/** An export job someone started (exports/start, eta/export, verify/compare-export): waited for and downloaded. */
export async function downloadExport(w: TestWindow, job: JobView) {
  const done = await waitForJob(w, job.id);
  if (done.status !== 'succeeded') throw new Error(`export job ${job.id} ended ${done.status}: ${done.error}`);
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
