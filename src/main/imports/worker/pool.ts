import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DomainError, type ErrorCode } from '../../../shared/envelope';
import type { Logger } from '../../platform/logger';
import type { CheckedBatch, FromWorker, ToWorker, WorkerTask } from './protocol';

/** Running from source (tests, benches, tsx): the TypeScript entry, loaded through tsx. */
export const SOURCE_ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'entry.ts');

/**
 * A worker's heap is capped: a hostile file that would need more fails the task with a sentence
 * instead of taking the station's memory.
 */
const WORKER_HEAP_MB = 256;

function spawn(script: string, task: WorkerTask): Worker {
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

/**
 * Runs import tasks (read, check, preview) in worker threads, one worker a task, so parsing never
 * holds the main thread where scans are committed. Batches a task sends are handed to `onBatch`
 * one at a time, in order; the worker waits for them to be taken before reading far ahead.
 */
export class ImportWorkers {
  readonly #running = new Set<Worker>();

  constructor(
    private readonly script: string,
    private readonly log: Logger,
  ) {}

  run<T>(task: WorkerTask, onBatch?: (batch: CheckedBatch) => Promise<void> | void): WorkerRun<T> {
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
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'batch') {
          queue = queue
            .then(() => (stopped ? undefined : onBatch?.(m.batch)))
            .then(() => worker.postMessage({ type: 'ack', seq: m.batch.seq } satisfies ToWorker))
            .catch((error: unknown) => settle(() => reject(error)));
        } else if (m.type === 'done') {
          answered = true;
          // Every batch is taken before the answer: the commit's last rows are in by then.
          void queue.then(() => settle(() => resolve({ stopped: false, value: m.value as T })));
        } else {
          answered = true;
          if (m.detail) this.log.warn({ file: task.upload.name, detail: m.detail }, 'import worker could not read a file');
          void queue.then(() => settle(() => reject(new DomainError(m.error.code as ErrorCode, m.error.message))));
        }
      });
      worker.on('error', (error: Error & { code?: string }) => {
        this.log.error({ err: error, file: task.upload.name }, 'import worker failed');
        const message =
          error.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? `${task.upload.name} needs more memory to read than an import may use: split it into smaller files or save it as CSV`
            : `${task.upload.name} could not be read: it may be damaged. Open it in Excel, save it again and retry.`;
        settle(() => reject(new DomainError('invalid', message)));
      });
      worker.on('exit', (code) => {
        if (stopped) settle(() => resolve({ stopped: true }));
        else if (!answered) settle(() => reject(new Error(`import worker exited (code ${code}) before answering`)));
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
