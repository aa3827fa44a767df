import fs from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';

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

export interface LoggerOptions {
  /** Folder for dockside.log; omitted = stdout only. */
  dir?: string;
  level?: pino.Level | 'silent';
  /** Also write to stdout (the browser host does; tests do not). */
  stdout?: boolean;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const streams: pino.StreamEntry[] = [];
  if (options.dir) {
    fs.mkdirSync(options.dir, { recursive: true });
    streams.push({ stream: pino.destination({ dest: path.join(options.dir, 'dockside.log'), sync: false }) });
  }
  if (options.stdout) streams.push({ stream: process.stdout });
  return pino({ level: options.level ?? 'info', redact: { paths: REDACT, censor: '[redacted]' }, base: undefined }, pino.multistream(streams));
}

export const silentLogger: Logger = pino({ level: 'silent' });
