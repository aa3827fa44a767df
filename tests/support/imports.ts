import ExcelJS from 'exceljs';
import type { ImportMapping, ImportPreview, ImportResult } from '../../src/shared/contract/imports';
import type { JobView } from '../../src/shared/contract/jobs';
import type { TestWindow } from './station';

/** Sends a file to main the way the renderer does: 1 MiB chunks of base64. */
export async function uploadFile(w: TestWindow, name: string, bytes: Buffer): Promise<string> {
  const CHUNK = 1024 * 1024;
  let uploadId: string | undefined;
  for (let at = 0; at === 0 || at < bytes.length; at += CHUNK) {
    const chunk = bytes.subarray(at, at + CHUNK);
    const r = await w.ok('imports/upload', {
      ...(uploadId ? { uploadId } : {}),
      name,
      chunk: chunk.toString('base64'),
      last: at + CHUNK >= bytes.length,
    });
    uploadId = r.uploadId;
  }
  return uploadId!;
}

const finished = (job: JobView) => job.status !== 'running' && job.status !== 'queued';

/**
 * Waits for the job's last progress event (main pushes one when a job ends) instead of polling.
 * The window must be signed in and unlocked: job events go only to those. The deadline only turns
 * a job that never ends into a failure that names it.
 */
export async function waitForJob(w: TestWindow, jobId: number, deadlineMs = 60_000): Promise<JobView> {
  if (w.session.userId === null || w.session.locked)
    throw new Error(`waitForJob(${jobId}): the window is signed out or locked, so it gets no job events`);
  const job = await w.ok('jobs/get', { jobId });
  if (finished(job)) return job;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`job ${jobId} still running after ${deadlineMs} ms`)), deadlineMs);
  });
  try {
    await Promise.race([w.event((e) => e.event === 'job/progress' && (e.data as JobView).id === jobId && finished(e.data as JobView)), deadline]);
  } finally {
    clearTimeout(timer);
  }
  return w.ok('jobs/get', { jobId });
}

export async function importFile(
  w: TestWindow,
  name: string,
  bytes: Buffer,
  mapping?: ImportMapping,
): Promise<{ preview: ImportPreview; job: JobView; result: ImportResult }> {
  const uploadId = await uploadFile(w, name, bytes);
  const preview = await w.ok('imports/preview', { uploadId, ...(mapping ? { mapping } : {}) });
  const started = await w.ok('imports/start', { uploadId, mapping: preview.mapping! });
  const job = await waitForJob(w, started.id);
  return { preview, job, result: job.result as ImportResult };
}

export const csv = (rows: string[][]) =>
  Buffer.from(rows.map((r) => r.map((c) => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',')).join('\n') + '\n');

/** An XLSX whose cells are given as exceljs values (strings, numbers, dates, formulas). */
export async function xlsx(rows: unknown[][], sheetName = 'Bags'): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet(sheetName);
  for (const r of rows) ws.addRow(r as ExcelJS.CellValue[]);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

export function bagRows(parents: number, childrenEach: number, prefix = 'C'): string[][] {
  const rows: string[][] = [['Parent', 'Child']];
  let n = 0;
  for (let p = 0; p < parents; p++)
    for (let c = 0; c < childrenEach; c++) rows.push([`SB${String(p).padStart(5, '0')}`, `${prefix}${String(n++).padStart(7, '0')}`]);
  return rows;
}
