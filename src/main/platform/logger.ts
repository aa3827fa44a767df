import fs from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import pinoRoll from 'pino-roll';
import { ownerOnlyFolder } from '../files/owner-only';

export type { Logger };

/**
 * Secrets never reach a log line, even if a careless call passes a whole payload: pino
 * censors these paths wherever they appear one or two levels down.
 */
const REDACT = ['password', 'secret', 'pin', 'current', 'next', 'passwordHash', 'pinHash', 'token', 'authorization'].flatMap((k) => [
  k,
  `*.${k}`,
  `*.*.${k}`,
]);

/** A log file is closed and a new one begun past this size. */
export const LOG_ROTATE_BYTES = 10 * 1024 * 1024;
/** Log files kept, the one being written included: at most about 50 MB of logs. */
export const LOG_FILES_KEPT = 5;
/** Lines waiting for a disk that refuses them (full) are dropped past this, not held in memory. */
const LOG_BUFFER_MAX_BYTES = 16 * 1024 * 1024;

export interface LoggerOptions {
  /** Folder for dockside.N.log; omitted = stdout only. */
  dir?: string;
  level?: pino.Level | 'silent';
  /** Also write to stdout (the browser host does; tests do not). */
  stdout?: boolean;
  /** Default LOG_ROTATE_BYTES. */
  rotateBytes?: number;
  /** Log files kept, the current one included; default LOG_FILES_KEPT. */
  filesKept?: number;
  /** The clock errors are counted by (Admin → Health's errors in the last hour); Date.now by default. */
  now?: () => number;
}

export interface StationLog {
  logger: Logger;
  /** Resolves once the lines logged so far are on disk (a rotation past the size is then under way). */
  flush(): Promise<void>;
  /** Writes out what is buffered and closes the file; call last, when stopping. */
  close(): Promise<void>;
  /** Lines logged at error level or worse, counted as they are written (no log file is read back). */
  errors: ErrorCounter;
  /** The folder of the log files, or null when logging to stdout only. */
  dir: string | null;
}

/** Errors counted per minute; an hour of minutes is kept. */
const MINUTE = 60_000;
const MINUTES_KEPT = 60;

/** Counts the lines logged at error level or worse, per minute of the clock, for the last hour. */
export class ErrorCounter {
  readonly #minute = new Float64Array(MINUTES_KEPT).fill(-1);
  readonly #count = new Uint32Array(MINUTES_KEPT);

  constructor(private readonly now: () => number = Date.now) {}

  hit(): void {
    const m = Math.floor(this.now() / MINUTE);
    const slot = m % MINUTES_KEPT;
    if (this.#minute[slot] !== m) {
      this.#minute[slot] = m;
      this.#count[slot] = 0;
    }
    this.#count[slot]++;
  }

  /** Errors in the last hour (the current minute and the 59 before it). */
  lastHour(): number {
    const m = Math.floor(this.now() / MINUTE);
    let total = 0;
    for (let i = 0; i < MINUTES_KEPT; i++) if (this.#minute[i] > m - MINUTES_KEPT && this.#minute[i] <= m) total += this.#count[i];
    return total;
  }
}

/**
 * The station's log: JSON lines in `<dir>/dockside.N.log`, a new file past `rotateBytes` (at the
 * first moment the writes catch up, so a burst may carry a file a little past it), the newest
 * `filesKept` kept (pino-roll, from the pino authors). pino-roll runs here, in this thread,
 * not as a pino transport in a worker thread: a worker needs its own module paths inside the
 * Electron bundle, and closing then only has to end one stream, not wait for a thread. Its writes
 * are async (sonic-boom), so a slow disk never holds up a scan.
 */
export async function createLogger(options: LoggerOptions = {}): Promise<StationLog> {
  const streams: pino.StreamEntry[] = [];
  let file: Awaited<ReturnType<typeof pinoRoll>> | null = null;
  if (options.dir) {
    ownerOnlyFolder(options.dir);
    // Before rotation the log was one dockside.log: as generation 0 it is deleted in its turn.
    const legacy = path.join(options.dir, 'dockside.log');
    if (fs.existsSync(legacy)) fs.renameSync(legacy, path.join(options.dir, 'dockside.0.log'));
    file = await pinoRoll({
      file: path.join(options.dir, 'dockside'),
      extension: 'log',
      size: `${options.rotateBytes ?? LOG_ROTATE_BYTES}b`,
      mkdir: true,
      sync: false,
      // Every line is written at once as with 0, but flush() then waits for the disk (with 0 it
      // answers at once), so shutdown and tests can wait for the log to be written.
      minLength: 1,
      maxLength: LOG_BUFFER_MAX_BYTES,
    });
    streams.push({ stream: file });
    // pino-roll's own limit races its clean-up against opening the new file, keeping N or N+1;
    // pruning once the new file is open ('ready') keeps exactly the newest N, earlier runs' too.
    const dir = options.dir;
    file.on('ready', () => pruneLogFiles(dir, options.filesKept ?? LOG_FILES_KEPT));
    // A full disk refuses log lines: say so once on stderr, keep running, and write again when
    // space returns (sonic-boom retries what it holds with the next line).
    let failing = false;
    file.on('error', (err: Error) => {
      if (!failing) process.stderr.write(`Dockside: cannot write the log (${err.message}); lines are dropped until it can\n`);
      failing = true;
    });
    file.on('write', () => (failing = false));
  }
  if (options.stdout) streams.push({ stream: process.stdout });
  // Every error line is counted as it is written, whatever else receives it.
  const errors = new ErrorCounter(options.now);
  streams.push({ level: 'error', stream: { write: () => errors.hit() } });
  const logger = pino(
    { level: options.level ?? 'info', redact: { paths: REDACT, censor: '[redacted]' }, base: undefined },
    pino.multistream(streams),
  );
  return {
    logger,
    errors,
    dir: options.dir ?? null,
    flush: () => new Promise<void>((resolve) => (file ? file.flush(() => resolve()) : resolve())),
    close: () =>
      new Promise<void>((resolve) => {
        if (!file) return resolve();
        // An error (a full disk) ends the wait too: there is nothing more to write then.
        file.once('close', () => resolve());
        file.once('error', () => resolve());
        file.end();
      }),
  };
}

/** Deletes all but the newest `keep` dockside.N.log files (by N). */
function pruneLogFiles(dir: string, keep: number): void {
  try {
    const numbered = fs
      .readdirSync(dir)
      .map((name) => ({ name, n: Number(/^dockside\.(\d+)\.log$/.exec(name)?.[1] ?? NaN) }))
      .filter((f) => !Number.isNaN(f.n))
      .sort((a, b) => b.n - a.n);
    for (const old of numbered.slice(keep)) fs.rmSync(path.join(dir, old.name), { force: true });
  } catch {
    // A folder that cannot be read now is pruned at the next rotation.
  }
}

export const silentLogger: Logger = pino({ level: 'silent' });
