import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parentPort, Worker } from 'node:worker_threads';
import { DomainError, type ErrorCode } from '../../shared/envelope';
import { jobStoppedByDiskMessage, storageFault } from './disk-full';
import type { Logger } from './logger';

/** Running from source (tests, benches, tsx): the TypeScript entry, loaded through tsx. Built: out/main/worker.js. */
export const SOURCE_WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), '../app/worker.ts');

/**
 * A worker's heap is capped: a hostile file that would need more fails the task with a sentence
 * instead of taking the station's memory.
 */
const WORKER_HEAP_MB = 256;

/** What every worker task carries: its kind (app/worker.ts dispatches on it) and a name for logs and messages. */
export interface TaskBase {
  kind: string;
  /** The file the task reads or writes, as people know it. */
  subject: string;
}

export type FromWorker<B> =
  | { type: 'batch'; seq: number; batch: B }
  | { type: 'progress'; rowsDone: number; rowsTotal: number | null }
  | { type: 'done'; value: unknown }
  | { type: 'failed'; error: { code: string; message: string }; detail?: string };

type ToWorker = { type: 'ack'; seq: number };

function spawn(script: string, task: TaskBase): Worker {
  const resourceLimits = { maxOldGenerationSizeMb: WORKER_HEAP_MB };
  if (!script.endsWith('.ts')) return new Worker(script, { workerData: task, resourceLimits });
  const boot = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(pathToFileURL(script).href)}); })`;
  return new Worker(boot, { eval: true, workerData: task, resourceLimits });
}

export interface WorkerRun<T> {
  /** The task's answer; `stopped` when stop() ended it first. */
  done: Promise<{ stopped: false; value: T } | { stopped: true }>;
  stop(): Promise<void>;
}

export interface RunHandlers<B> {
  /** Batches the task sends, one at a time and in order; the worker waits for them to be taken. */
  onBatch?: (batch: B) => Promise<void> | void;
  onProgress?: (p: { rowsDone: number; rowsTotal: number | null }) => void;
}

/**
 * Runs tasks (reading, checking and previewing spreadsheets, writing exports) in worker threads,
 * one worker a task, so that work never holds the main thread where scans are committed.
 */
export class WorkerPool {
  readonly #running = new Set<Worker>();

  constructor(
    private readonly script: string,
    private readonly log: Logger,
  ) {}

  run<T, B = never>(task: TaskBase, handlers: RunHandlers<B> = {}): WorkerRun<T> {
    const worker = spawn(this.script, task);
    this.#running.add(worker);
    let stopped = false;
    let queue = Promise.resolve();
    const done = new Promise<{ stopped: false; value: T } | { stopped: true }>((resolve, reject) => {
      let settled = false;
      /** The worker said done or failed: its exit after that is expected. */
      let answered = false;
      const settle = (f: () => void) => {
        if (settled) return;
        settled = true;
        this.#running.delete(worker);
        void worker.terminate();
        f();
      };
      worker.on('message', (m: FromWorker<B>) => {
        if (m.type === 'batch') {
          queue = queue
            .then(() => (stopped ? undefined : handlers.onBatch?.(m.batch)))
            .then(() => worker.postMessage({ type: 'ack', seq: m.seq } satisfies ToWorker))
            .catch((error: unknown) => settle(() => reject(error)));
        } else if (m.type === 'progress') {
          handlers.onProgress?.(m);
        } else if (m.type === 'done') {
          answered = true;
          // Every batch is taken before the answer: a commit's last rows are in by then.
          void queue.then(() => settle(() => resolve({ stopped: false, value: m.value as T })));
        } else {
          answered = true;
          if (m.detail) this.log.warn({ task: task.kind, subject: task.subject, detail: m.detail }, 'worker task failed');
          void queue.then(() => settle(() => reject(new DomainError(m.error.code as ErrorCode, m.error.message))));
        }
      });
      worker.on('error', (error: Error & { code?: string }) => {
        this.log.error({ err: error, task: task.kind, subject: task.subject }, 'worker failed');
        const message =
          error.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? `${task.subject} needs more memory than the station allows for one file: split it into smaller files or save it as CSV`
            : `${task.subject} could not be read: it may be damaged. Open it in Excel, save it again and retry.`;
        settle(() => reject(new DomainError('invalid', message)));
      });
      worker.on('exit', (code) => {
        if (stopped) settle(() => resolve({ stopped: true }));
        else if (!answered) settle(() => reject(new Error(`worker for ${task.kind} exited (code ${code}) before answering`)));
      });
    });
    return {
      done,
      stop: async () => {
        stopped = true;
        await worker.terminate();
      },
    };
  }

  /** Ends every running task (the station is closing). */
  async close(): Promise<void> {
    await Promise.all([...this.#running].map((w) => w.terminate()));
    this.#running.clear();
  }
}

/** Batches sent and not yet taken by main: two keep both threads busy without piling rows up. */
const IN_FLIGHT = 2;

/**
 * The worker's side: send batches (waiting while main is behind), progress, and the answer. A
 * DomainError's sentence reaches the person as it is; anything else as "could not be read", with
 * the stack for the log.
 */
export function workerSide<B>(subject: string) {
  const port = parentPort!;
  let seq = 0;
  let acked = 0;
  let wake: (() => void) | null = null;
  port.on('message', (m: ToWorker) => {
    if (m.type === 'ack') acked = Math.max(acked, m.seq);
    wake?.();
  });
  const send = (m: FromWorker<B>) => port.postMessage(m);
  return {
    async batch(batch: B): Promise<void> {
      send({ type: 'batch', seq: ++seq, batch });
      while (seq - acked >= IN_FLIGHT) await new Promise<void>((r) => (wake = r));
    },
    progress(rowsDone: number, rowsTotal: number | null): void {
      send({ type: 'progress', rowsDone, rowsTotal });
    },
    finish(work: Promise<unknown>): void {
      work
        .then(
          (value) => send({ type: 'done', value }),
          (error: unknown) => {
            if (error instanceof DomainError) send({ type: 'failed', error: { code: error.code, message: error.message } });
            // A full disk (temporary files, an export) is not a damaged file: say what it is.
            else if (storageFault(error))
              send({ type: 'failed', error: { code: 'disk_full', message: jobStoppedByDiskMessage(storageFault(error)!, `work on ${subject}`) } });
            else
              send({
                type: 'failed',
                error: { code: 'invalid', message: `${subject} could not be read: it may be damaged. Open it in Excel, save it again and retry.` },
                detail: error instanceof Error ? (error.stack ?? error.message) : String(error),
              });
          },
        )
        .finally(() => port.close());
    },
  };
}
