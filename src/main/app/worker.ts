/**
 * The worker thread's entry (out/main/worker.js): reads, checks and previews uploaded
 * spreadsheets and writes exports off the main thread, so a dock door's scans never wait for
 * parsing or formatting. One task per worker (workerData), then it exits.
 */
import { workerData } from 'node:worker_threads';
import { runBackupTask, type BackupTask } from '../backups/task';
import { runExportTask, type ExportTask } from '../exports/write';
import { runCheckTask, runPreviewTask, type CheckedBatch, type ImportTask } from '../imports/tasks';
import { workerSide } from '../platform/workers';

const task = workerData as ImportTask | ExportTask | BackupTask;
const side = workerSide<CheckedBatch>(task.subject);
const work = (): Promise<unknown> => {
  switch (task.kind) {
    case 'import-preview':
      return runPreviewTask(task);
    case 'import-check':
      return runCheckTask(task, side);
    case 'export':
      return runExportTask(task, side);
    case 'backup':
      return runBackupTask(task);
  }
};
side.finish(work());
