import type { ImportMapping } from '../../shared/contract/imports';
import { DomainError } from '../../shared/envelope';
import { guessMapping } from './mapping';
import { readRows, sniffFile, type SourceRow } from './read';
import type { Upload } from './uploads';

/**
 * An uploaded sheet opened for reading: its header row and column mapping (the first row with any
 * text), then the data rows in batches.
 */
export async function openSheet(upload: Upload, given?: ImportMapping) {
  const kind = await sniffFile(upload.path, upload.name);
  const batches = readRows(upload.path, kind, upload.name);
  let header: SourceRow | undefined;
  let rest: SourceRow[] = [];
  // next() by hand: breaking out of for-await would close the generator before the data rows.
  for (let r = await batches.next(); !r.done && !header; r = header ? r : await batches.next()) {
    const at = r.value.findIndex((row) => row.cells.some((c) => typeof c === 'string' && c.trim() !== ''));
    if (at >= 0) {
      header = r.value[at];
      rest = r.value.slice(at + 1);
    }
  }
  if (!header) throw new DomainError('invalid', `${upload.name} has no rows: the sheet is empty`);
  const headers = header.cells.map((c) => (typeof c === 'string' ? c.trim() : ''));
  const mapping = given ?? guessMapping(headers);
  if (!mapping) {
    throw new DomainError(
      'invalid',
      `${upload.name} has no parent and child columns. Columns found: ${headers.filter(Boolean).join(', ') || 'none'}. Name them “Parent” and “Child”, or choose them in the preview.`,
    );
  }
  const width = Math.max(headers.length, mapping.parent + 1, mapping.child + 1);
  if (mapping.parent === mapping.child || mapping.parent >= width || mapping.child >= width) {
    throw new DomainError('invalid', 'Choose two different columns for parent and child');
  }
  async function* rows(): AsyncGenerator<SourceRow[]> {
    if (rest.length) yield rest;
    yield* batches;
  }
  return { kind, headers, headerLine: header.line, mapping, rows: rows() };
}
