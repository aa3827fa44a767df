import type { ImportMapping, ImportRowStatus, ImportTotals } from '../../shared/contract/imports';
import { classifyCode, compileFormats } from '../bags/formats';
import { checkLink, type LinkFactsReader } from '../bags/link-rules';
import type { SettingsService } from '../settings/service';
import type { Cell, SourceRow } from './read';

export type Verdict =
  | { kind: 'empty' }
  | { kind: 'rejected'; reason: string; parent: string; child: string }
  | { kind: 'duplicate'; parent: string; child: string }
  | { kind: 'ok'; parent: string; child: string };

const cellText = (c: Cell | undefined): string | { problem: string } => (c === undefined ? '' : typeof c === 'string' ? c.trim() : c);
const isBlank = (c: Cell) => typeof c === 'string' && c.trim() === '';
/** Ids a spreadsheet would run as a formula, or one it turned into scientific notation. */
const SUSPECT = /^[=+@]|^-[^0-9]|^\d+(\.\d+)?E\+\d+$/i;
const show = (v: string | { problem: string }) => (typeof v === 'string' ? v : '');

/**
 * Checks one row on its own: empty, cell problems, formats. Repeats within the file are found
 * by the preview's SeenChildren and, when importing, by the links this import already made.
 * Parents are interned so a million rows keep one string per parent.
 */
export class FileChecker {
  readonly #parents = new Map<string, string>();
  readonly #formats;

  constructor(settings: SettingsService) {
    const s = settings.get();
    this.#formats = compileFormats(s.parentFormats, s.childFormat);
  }

  check(row: SourceRow, m: ImportMapping): Verdict {
    const p = cellText(row.cells[m.parent]);
    const c = cellText(row.cells[m.child]);
    const parentShown = show(p);
    const childShown = show(c);
    if (p === '' && c === '' && row.cells.every(isBlank)) return { kind: 'empty' };
    const reject = (reason: string): Verdict => ({ kind: 'rejected', reason, parent: parentShown, child: childShown });
    if (typeof p !== 'string') return reject(`Parent column holds ${p.problem}`);
    if (typeof c !== 'string') return reject(`Child column holds ${c.problem}`);
    if (p === '') return reject('Parent is empty');
    if (c === '') return reject('Child is empty');
    for (const [what, v] of [
      ['Parent', p],
      ['Child', c],
    ] as const) {
      if (!SUSPECT.test(v)) continue;
      if (/E\+/i.test(v) && !/^[=+@-]/.test(v))
        return reject(`${what} “${v}” is a number in scientific notation: the spreadsheet changed the id; format the column as Text`);
      return reject(`${what} “${v.slice(0, 40)}” looks like a spreadsheet formula`);
    }
    const parent = classifyCode(p, this.#formats);
    if (!parent.ok) return reject(`Parent: ${parent.reason}`);
    if (parent.kind !== 'parent') return reject(`Parent ${parent.code} is not a parent bag id`);
    const child = classifyCode(c, this.#formats);
    if (!child.ok) return reject(`Child: ${child.reason}`);
    if (child.kind !== 'child') return reject(`Child ${child.code} is a parent bag id`);
    let parentCode = this.#parents.get(parent.code);
    if (!parentCode) this.#parents.set(parent.code, (parentCode = parent.code));
    return { kind: 'ok', parent: parentCode, child: child.code };
  }
}

/** What a preview row would do to the database, by the same link rules as a scan. Read-only. */
export function checkAgainstDatabase(
  facts: LinkFactsReader,
  v: Extract<Verdict, { kind: 'ok' }>,
): Verdict | { kind: 'present'; parent: string; child: string } {
  const verdict = checkLink(v.parent, facts.parent(v.parent), v.child, facts.child(v.child));
  if (verdict.ok) return v;
  if (verdict.rule === 'already_on_this_parent') return { ...v, kind: 'present' };
  return { ...v, kind: 'rejected', reason: verdict.message };
}

export const emptyTotals = (): ImportTotals => ({ rows: 0, linked: 0, alreadyPresent: 0, duplicates: 0, empty: 0, rejected: 0 });

/** Adds a row's verdict to the totals and names its status. */
export function countVerdict(t: ImportTotals, v: Verdict | { kind: 'present' }): ImportRowStatus {
  switch (v.kind) {
    case 'empty':
      t.empty++;
      return 'empty';
    case 'duplicate':
      t.duplicates++;
      return 'duplicate';
    case 'rejected':
      t.rejected++;
      return 'rejected';
    case 'present':
      t.alreadyPresent++;
      return 'present';
    default:
      t.linked++;
      return 'link';
  }
}
