import type { ImportMapping, ImportPreview, ImportReadOptions, ImportReason } from '../../shared/contract/imports';
import type { LinkFactsReader } from '../bags/link-rules';
import { checkAgainstDatabase, countVerdict, emptyTotals, FileChecker, type ImportRules } from './checking';
import { SeenChildren } from './seen';
import { openSheet } from './sheet';
import type { Upload } from './uploads';

const PREVIEW_ROWS = 20;
const PREVIEW_ERRORS = 100;
const REASON_LINES = 5;

/** Counts rows by reason, keeping the first few lines of each. */
class ReasonTally {
  readonly #by = new Map<string, ImportReason>();

  add(kind: ImportReason['kind'], reason: string, line: number): void {
    let r = this.#by.get(`${kind}:${reason}`);
    if (!r) this.#by.set(`${kind}:${reason}`, (r = { kind, reason, rows: 0, lines: [] }));
    r.rows++;
    if (r.lines.length < REASON_LINES) r.lines.push(line);
  }

  list(): ImportReason[] {
    return [...this.#by.values()].sort((a, b) => (a.kind === b.kind ? b.rows - a.rows : a.kind === 'rejected' ? -1 : 1));
  }
}

function numberNotes(checker: FileChecker, names: { parent: string; child: string }): string[] {
  return (['parent', 'child'] as const)
    .filter((k) => checker.numbers[k] > 0)
    .map(
      (k) =>
        `${checker.numbers[k].toLocaleString('en-US')} ${names[k]} cells are numbers in the spreadsheet: they are read as whole-number ids. ` +
        'Leading zeros cannot be recovered from a number (00123 was stored as 123): if your ids have them, format the column as Text and upload again.',
    );
}

/**
 * Reads the whole file and says what importing it would do — sheets, header row, columns, totals,
 * the first rows, every reason with its count — writing nothing to the station's database (facts
 * come from a read-only connection). Runs in the import worker. Repeats within the file are
 * tracked in a throwaway SQLite file (SeenChildren), not in memory.
 */
export async function previewImport(
  deps: { rules: ImportRules; facts: LinkFactsReader; tmpDir: string },
  upload: Upload,
  options: ImportReadOptions & { mapping?: ImportMapping },
): Promise<ImportPreview> {
  const sheet = await openSheet(upload, options);
  const totals = emptyTotals();
  const base: ImportPreview = {
    uploadId: upload.id,
    fileName: upload.name,
    kind: sheet.kind,
    sheets: sheet.info.sheets,
    sheet: sheet.sheet,
    delimiter: sheet.delimiter,
    detectedDelimiter: sheet.info.delimiter ?? null,
    encoding: sheet.info.encoding ?? null,
    headerLine: sheet.headerLine,
    firstRows: sheet.firstRows,
    columns: sheet.columns,
    headers: sheet.headers,
    mapping: sheet.mapping,
    needs: null,
    notes: [],
    rows: [],
    totals,
    reasons: [],
    errors: [],
  };
  const mapping = sheet.mapping;
  if (!mapping) {
    await sheet.rows.return(undefined);
    const found = sheet.headers.filter(Boolean);
    return {
      ...base,
      needs:
        sheet.headerLine === 0
          ? 'Choose which column holds the parent bag and which the child bag.'
          : `No column is named Parent or Child${found.length ? ` (the header row has ${found.slice(0, 6).join(', ')})` : ''}: choose which column holds the parent bag and which the child bag, or pick another header row.`,
    };
  }
  const checker = new FileChecker(deps.rules);
  const seen = new SeenChildren(deps.tmpDir);
  const tally = new ReasonTally();
  const { rows, errors } = base;
  try {
    for await (const batch of sheet.rows) {
      for (const row of batch) {
        totals.rows++;
        let checked = checker.check(row, mapping);
        if (checked.kind === 'ok') {
          const before = seen.remember(checked.child, checked.parent);
          if (before === checked.parent) checked = { ...checked, kind: 'duplicate' };
          else if (before)
            checked = {
              ...checked,
              kind: 'rejected',
              reason: `${checked.child} is on ${before} earlier in the file`,
              group: 'Child is under another parent earlier in the file',
            };
        }
        const v = checked.kind === 'ok' ? checkAgainstDatabase(deps.facts, checked) : checked;
        const status = countVerdict(totals, v);
        if (v.kind === 'rejected') {
          tally.add('rejected', v.group, row.line);
          if (errors.length < PREVIEW_ERRORS) errors.push({ line: row.line, reason: v.reason });
        } else if (v.kind === 'duplicate') tally.add('skipped', 'Repeated in the file (same parent and child): imported once', row.line);
        else if (v.kind === 'present') tally.add('skipped', 'Already linked this way: nothing to do', row.line);
        if (rows.length < PREVIEW_ROWS && v.kind !== 'empty') {
          rows.push({
            line: row.line,
            parent: v.parent,
            child: v.child,
            status,
            reason: v.kind === 'rejected' ? v.reason : null,
          });
        }
      }
    }
  } finally {
    seen.close();
  }
  const names = { parent: sheet.columns[mapping.parent]?.name ?? 'parent', child: sheet.columns[mapping.child]?.name ?? 'child' };
  return {
    ...base,
    needs:
      totals.rows - totals.empty === 0
        ? `There are no bag rows below the header row (row ${sheet.headerLine}): pick another header row or sheet.`
        : null,
    notes: numberNotes(checker, names),
    reasons: tally.list(),
  };
}
