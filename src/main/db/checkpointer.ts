import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../platform/logger';

/**
 * Copies the WAL back into the database file from a worker thread with its own connection.
 *
 * Why: with SQLite's automatic checkpoint, every ~1000 pages one unlucky commit also writes
 * those pages into the (large) database file and syncs it, on the main thread; that was the
 * p99 of linking a bag (bench/scan.ts). A PASSIVE checkpoint on another connection runs beside
 * the writer without blocking it. The main connection keeps a high automatic threshold as a
 * backstop, should this worker stop.
 */
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.modulePath);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 50');
let stopping = false;
// asked: answers a checkpointNow() (one answer per 'now', in order); timer runs answer no one.
function checkpoint(asked) {
  if (stopping) return;
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ type: 'checkpoint', asked, log: r.log, done: r.checkpointed });
  } catch (e) {
    parentPort.postMessage({ type: 'error', asked, message: String(e && e.message || e) });
  }
}
const timer = setInterval(() => checkpoint(false), workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'now') checkpoint(true);
  // Ends this thread: its message port would otherwise keep it, and the process, alive.
  if (m === 'stop') { stopping = true; clearInterval(timer); db.close(); process.exit(0); }
});
`;

export const BACKSTOP_AUTOCHECKPOINT_PAGES = 20_000;

export interface Checkpointer {
  /** Asks for a checkpoint now; resolves with the WAL size and pages copied. */
  checkpointNow(): Promise<{ log: number; done: number }>;
  stop(): Promise<void>;
}

export function startCheckpointer(dbPath: string, logger: Logger, intervalMs = 500): Checkpointer {
  const log = logger.child({ module: 'checkpointer' });
  const modulePath = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path: dbPath, modulePath, intervalMs } });
  worker.unref();
  // FIFO of checkpointNow() callers; only the worker's answers to 'now' settle them, so a timer
  // checkpoint that ran while the caller was still writing never stands in for the one asked for.
  const waiting: { resolve: (r: { log: number; done: number }) => void; reject: (e: Error) => void }[] = [];
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  let errors = 0;
  worker.on('message', (m: { type: string; asked?: boolean; log?: number; done?: number; message?: string }) => {
    const asker = m.asked ? waiting.shift() : undefined;
    if (m.type === 'checkpoint') asker?.resolve({ log: m.log!, done: m.done! });
    else if (m.type === 'error') {
      asker?.reject(new Error(`checkpoint failed: ${m.message}`));
      if (errors++ < 5) log.warn({ message: m.message }, 'checkpoint failed');
    }
  });
  worker.on('error', (err) => log.error({ err }, 'checkpoint worker died; SQLite automatic checkpoints continue'));
  return {
    checkpointNow: () =>
      new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        worker.postMessage('now');
      }),
    stop: () => {
      worker.ref(); // unref'd while running; closing must wait for it
      worker.postMessage('stop');
      return exited;
    },
  };
}
