import type { ExportKind } from '../../../shared/contract/exports';
import type { JobView } from '../../../shared/contract/jobs';
import type { Envelope } from '../../../shared/envelope';
import { call } from './client';
import { failed } from './errors';
import { fromBase64, saveFile } from './files';
import type { JobTracker } from './jobs.svelte';
import type { Message } from './Notice.svelte';

/** Starts an export, follows its job with `tracker`, and saves the finished file as a download; says how it went. */
export async function exportAndSave(what: ExportKind, format: 'csv' | 'xlsx', tracker: JobTracker): Promise<Message> {
  try {
    return await followAndSave(await call('exports/start', { what, format }), tracker);
  } finally {
    tracker.clear();
  }
}

/** An export job someone started (exports/start, eta/export): followed with `tracker`, its file saved. */
export async function followAndSave(started: Envelope<JobView>, tracker: JobTracker): Promise<Message> {
  if (!started.ok) return failed(started.error);
  const job = await tracker.follow(started.value);
  return job.status === 'succeeded' ? await download(job) : { ok: false, text: job.error ?? 'The export did not finish' };
}

/** The finished file comes over in 1 MiB pieces and is saved as one download. */
async function download(job: JobView): Promise<Message> {
  const parts: Uint8Array<ArrayBuffer>[] = [];
  for (let offset = 0; ;) {
    const c = await call('exports/chunk', { jobId: job.id, offset });
    if (!c.ok) return failed(c.error);
    const bytes = fromBase64(c.value.base64);
    parts.push(bytes);
    offset += bytes.length;
    if (c.value.done) {
      saveFile(c.value, parts);
      const rows = (job.result as { rows: number }).rows;
      return { ok: true, text: `Saved ${c.value.fileName} (${rows.toLocaleString()} ${rows === 1 ? 'row' : 'rows'})` };
    }
  }
}
