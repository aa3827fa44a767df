import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { releaseAll } from '../support/cleanup';
import { fileOf } from '../support/sheets';
import { workbookParts, zipBuffer } from '../support/workbooks';

afterEach(releaseAll);

const SHEETS = new URL('../../src/main/imports/sheets/', import.meta.url);

/** What the sheet reader, run in a worker thread of its own, posts back for each file. */
function readInWorker(files: { file: string; name: string }[]): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('../support/ts-worker.mjs', import.meta.url), {
      workerData: { entry: new URL('../support/sheets-worker.ts', import.meta.url).href, files },
    });
    worker.once('message', (message: Record<string, unknown>[]) => {
      resolve(message);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the worker ended (${code}) without an answer`)));
  });
}

describe('the sheet reader in a worker thread', () => {
  it('reads a workbook and a CSV file, and refuses a damaged file with its sentence', async () => {
    const xlsx = fileOf(
      'bags.xlsx',
      await zipBuffer(workbookParts({ sheets: [{ name: 'Bags', data: '<row r="1"><c t="inlineStr"><is><t>Parent</t></is></c></row>' }] })),
    );
    const csv = fileOf('bags.csv', 'Parent;Child\r\nSB1;C1\r\n');
    const bad = fileOf('bad.xlsx', Buffer.from('PK\u0003\u0004 not really a zip'));
    const [fromXlsx, fromCsv, fromBad] = await readInWorker([
      { file: xlsx, name: 'bags.xlsx' },
      { file: csv, name: 'bags.csv' },
      { file: bad, name: 'bad.xlsx' },
    ]);
    expect(fromXlsx).toEqual({
      info: { kind: 'xlsx', sheets: [{ index: 0, name: 'Bags', rows: 1 }] },
      rows: 1,
      first: { line: 1, cells: ['Parent'] },
    });
    expect(fromCsv).toMatchObject({ info: { delimiter: ';' }, rows: 2 });
    expect(fromBad).toEqual({ refused: 'bad.xlsx is damaged or not a complete Excel file: open it in Excel and save it again' });
  });

  it('imports nothing but Node, yauzl, its own folder and the shared envelope: no Electron, no database', () => {
    const seen = new Set<string>();
    const outside = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const [, spec] of fs.readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^;]*?from '([^']+)'/gms)) {
        if (!spec.startsWith('.')) outside.add(spec);
        else if (path.resolve(path.dirname(file), spec).startsWith(SHEETS.pathname)) visit(path.resolve(path.dirname(file), spec) + '.ts');
        else outside.add(path.relative(SHEETS.pathname, path.resolve(path.dirname(file), spec)));
      }
    };
    visit(new URL('index.ts', SHEETS).pathname);
    expect([...outside].sort()).toEqual(['../../../shared/envelope', 'node:buffer', 'node:fs', 'node:path', 'yauzl']);
    expect(seen.size).toBeGreaterThan(8);
  });
});
