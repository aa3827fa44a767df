import fs from 'node:fs';
import path from 'node:path';
import { DomainError } from '../../src/shared/envelope';
import { inspectFile, readRows, type ReadOptions, type SourceRow } from '../../src/main/imports/sheets';
import { tempDir } from './station';

/** Writes `bytes` as `name` in a temp folder of the test; returns its path. */
export function fileOf(name: string, bytes: Buffer | string): string {
  const file = path.join(tempDir('dockside-sheets-'), name);
  fs.writeFileSync(file, bytes);
  return file;
}

/** Every row readRows gives, batches checked on the way (never empty, at most 1,000 rows). */
export async function allRows(file: string, name: string, opts?: Partial<ReadOptions>): Promise<SourceRow[]> {
  const info = opts?.kind ? undefined : await inspectFile(file, name);
  const rows: SourceRow[] = [];
  for await (const batch of readRows(file, name, {
    kind: info?.kind ?? opts!.kind!,
    delimiter: info?.delimiter,
    encoding: info?.encoding,
    ...opts,
  })) {
    if (batch.length === 0 || batch.length > 1000) throw new Error(`a batch of ${batch.length} rows`);
    rows.push(...batch);
  }
  return rows;
}

/** The sentence a promise was refused with; fails the test on any other error or on success. */
export async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError && error.code === 'invalid') return error.message;
    throw error;
  }
  throw new Error('expected a refusal, but it succeeded');
}

/** Both ways a person meets a file: inspecting it, and reading its rows. Both must refuse it the same. */
export async function refusals(file: string, name: string, kind: 'xlsx' | 'csv' = 'xlsx'): Promise<[string, string]> {
  return [await refusal(inspectFile(file, name)), await refusal(allRows(file, name, { kind }))];
}

/** File descriptors this process holds: a reader that forgets to close its file shows here. */
export function openFiles(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/**
 * Waits until `done()` holds: for what finishes a little after the call that started it (a file
 * closes on the next turns of the event loop). The deadline only turns "never" into a failure.
 */
export async function eventually(done: () => boolean, what: string, deadlineMs = 10_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!done()) {
    if (Date.now() > until) throw new Error(`${what}: still not so after ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
