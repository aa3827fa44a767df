import path from 'node:path';
import type { ImportMapping, ImportPreview } from '../../shared/contract/imports';
import { DomainError } from '../../shared/envelope';
import type { LinkFactsReader } from '../bags/link-rules';
import type { SettingsService } from '../settings/service';
import { checkAgainstDatabase, countVerdict, emptyTotals, FileChecker } from './checking';
import { SeenChildren } from './seen';
import { openSheet } from './sheet';
import type { Upload } from './uploads';

const PREVIEW_ROWS = 20;
const PREVIEW_ERRORS = 100;

/**
 * Reads the whole file and says what importing it would do — totals, the first rows, every
 * rejected row with its reason — writing nothing to the station's database. Repeats within the
 * file are tracked in a throwaway SQLite file (SeenChildren), not in memory.
 */
export async function previewImport(
  deps: { settings: SettingsService; facts: LinkFactsReader; filesDir: string },
  upload: Upload,
  given?: ImportMapping,
): Promise<ImportPreview> {
  const sheet = await openSheet(upload, given);
  const checker = new FileChecker(deps.settings);
  const seen = new SeenChildren(path.join(deps.filesDir, 'tmp'));
  const totals = emptyTotals();
  const rows: ImportPreview['rows'] = [];
  const errors: ImportPreview['errors'] = [];
  try {
    for await (const batch of sheet.rows) {
      for (const row of batch) {
        totals.rows++;
        let checked = checker.check(row, sheet.mapping);
        if (checked.kind === 'ok') {
          const before = seen.remember(checked.child, checked.parent);
          if (before === checked.parent) checked = { ...checked, kind: 'duplicate' };
          else if (before) checked = { ...checked, kind: 'rejected', reason: `${checked.child} is on ${before} earlier in the file` };
        }
        const v = checked.kind === 'ok' ? checkAgainstDatabase(deps.facts, checked) : checked;
        const status = countVerdict(totals, v);
        if (v.kind === 'rejected' && errors.length < PREVIEW_ERRORS) errors.push({ line: row.line, reason: v.reason });
        if (rows.length < PREVIEW_ROWS) {
          rows.push({
            line: row.line,
            parent: 'parent' in v ? v.parent : '',
            child: 'child' in v ? v.child : '',
            status,
            reason: v.kind === 'rejected' ? v.reason : null,
          });
        }
      }
    }
  } finally {
    seen.close();
  }
  if (totals.rows === 0) throw new DomainError('invalid', `${upload.name} has a header row but no bag rows`);
  return {
    uploadId: upload.id,
    fileName: upload.name,
    kind: sheet.kind,
    headers: sheet.headers,
    headerLine: sheet.headerLine,
    mapping: sheet.mapping,
    rows,
    totals,
    errors,
  };
}
