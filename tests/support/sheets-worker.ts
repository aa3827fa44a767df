/**
 * Runs in a worker thread (tests/support/ts-worker.mjs): reads each of workerData.files as the
 * station's import worker will, and posts what it got for each.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DomainError } from '../../src/shared/envelope';
import { inspectFile, readRows } from '../../src/main/imports/sheets';

async function read(file: string, name: string): Promise<Record<string, unknown>> {
  try {
    const info = await inspectFile(file, name);
    let rows = 0;
    let first: unknown;
    for await (const batch of readRows(file, name, { kind: info.kind, delimiter: info.delimiter, encoding: info.encoding })) {
      first ??= batch[0];
      rows += batch.length;
    }
    return { info, rows, first };
  } catch (error) {
    return error instanceof DomainError ? { refused: error.message } : { crashed: String(error) };
  }
}

const results = [];
for (const { file, name } of workerData.files as { file: string; name: string }[]) results.push(await read(file, name));
parentPort!.postMessage(results);
