/**
 * The spreadsheet reader the import uses (sheets/ once merged). Temporary: the old reader behind
 * the new reader's API.
 */
import type { Delimiter } from '../../shared/contract/imports';
import { readRows as readOld, sniffFile, type FileKind } from './read';

export type { FileKind };
export type RawCell = null | string | number | boolean | { date: string } | { problem: string };
export interface SourceRow {
  line: number;
  cells: RawCell[];
}
export interface SheetInfo {
  index: number;
  name: string;
  rows: number | null;
}
export interface FileInfo {
  kind: FileKind;
  sheets: SheetInfo[];
  delimiter?: Delimiter;
  encoding?: string;
}

export async function inspectFile(path: string, name: string): Promise<FileInfo> {
  const kind = await sniffFile(path, name);
  return {
    kind,
    sheets: [{ index: 0, name: kind === 'csv' ? name : 'Sheet1', rows: null }],
    ...(kind === 'csv' ? { delimiter: ',' as const, encoding: 'utf-8' } : {}),
  };
}

export function readRows(path: string, name: string, opts: { kind: FileKind; sheet?: number; delimiter?: Delimiter }): AsyncGenerator<SourceRow[]> {
  return readOld(path, opts.kind, name) as AsyncGenerator<SourceRow[]>;
}
