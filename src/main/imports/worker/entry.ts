/**
 * The import worker: reads, checks and previews an uploaded spreadsheet off the main thread, so a
 * dock door's scans never wait for parsing. One task per worker (workerData), then it exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { DomainError } from '../../../shared/envelope';
import { LinkFactsReader } from '../../bags/link-rules';
import { FileChecker } from '../checking';
import { previewImport } from '../preview';
import { openSheet } from '../sheet';
import type { CheckedBatch, FromWorker, ToWorker, WorkerTask } from './protocol';

const port = parentPort!;
const task = workerData as WorkerTask;
const send = (m: FromWorker) => port.postMessage(m);

/** Batches sent and not yet committed by main: two keep both threads busy without piling rows up. */
const IN_FLIGHT = 2;
let acked = 0;
let wake: (() => void) | null = null;
port.on('message', (m: ToWorker) => {
  if (m.type === 'ack') acked = Math.max(acked, m.seq);
  wake?.();
});

async function check(): Promise<{ rows: number }> {
  const sheet = await openSheet(task.upload, task.options);
  const mapping = task.options.mapping ?? sheet.mapping;
  if (!mapping) throw new DomainError('invalid', 'Choose the parent and child columns in the preview first');
  const checker = new FileChecker(task.rules);
  let seq = 0;
  let rows = 0;
  for await (const read of sheet.rows) {
    const b: CheckedBatch = { seq: ++seq, rows: read.length, empty: 0, lines: [], parents: [], children: [], rejected: [] };
    for (const row of read) {
      const v = checker.check(row, mapping);
      if (v.kind === 'empty') b.empty++;
      else if (v.kind === 'rejected') b.rejected.push({ line: row.line, parent: v.parent, child: v.child, reason: v.reason });
      else {
        b.lines.push(row.line);
        b.parents.push(v.parent);
        b.children.push(v.child);
      }
    }
    rows += read.length;
    send({ type: 'batch', batch: b });
    while (seq - acked >= IN_FLIGHT) await new Promise<void>((r) => (wake = r));
  }
  return { rows };
}

async function preview() {
  const db = new Database(task.dbPath, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  try {
    return await previewImport({ rules: task.rules, facts: new LinkFactsReader(db), tmpDir: task.tmpDir }, task.upload, task.options);
  } finally {
    db.close();
  }
}

(task.kind === 'preview' ? preview() : check())
  .then(
    (value) => send({ type: 'done', value }),
    (error: unknown) => {
      if (error instanceof DomainError) send({ type: 'failed', error: { code: error.code, message: error.message } });
      else
        send({
          type: 'failed',
          error: { code: 'invalid', message: `${task.upload.name} could not be read: it may be damaged. Open it in Excel, save it again and retry.` },
          detail: error instanceof Error ? (error.stack ?? error.message) : String(error),
        });
    },
  )
  .finally(() => port.close());
