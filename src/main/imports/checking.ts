import type { ImportMapping, ImportRowStatus, ImportTotals } from '../../shared/contract/imports';
import type { BagFormat } from '../../shared/contract/settings';
import { classifyCode, compileFormats, normaliseId, type CompiledFormats } from '../bags/formats';
import { checkLink, type LinkFactsReader, type LinkRule } from '../bags/link-rules';
import type { RawCell, SourceRow } from './sheets';

export type Verdict =
  | { kind: 'empty' }
  | { kind: 'rejected'; reason: string; group: string; parent: string; child: string }
  | { kind: 'duplicate'; parent: string; child: string }
  | { kind: 'ok'; parent: string; child: string };

/** What an import checks ids against: the scan patterns only when the station says so. */
export interface ImportRules {
  parentFormats: BagFormat[];
  childFormat: BagFormat;
  /** Off (the default): uploads accept any id format; scanning always checks the patterns. */
  enforceFormats: boolean;
}

/** Excel keeps 15 significant digits: a longer number has already lost some. */
const MAX_EXACT_DIGITS = 15;

/** A cell as read → the id text it holds, or why it cannot be an id. Whole numbers are ids. */
export function cellText(c: RawCell | undefined): string | { problem: string } {
  if (c === null || c === undefined) return '';
  if (typeof c === 'string') return c.trim();
  if (typeof c === 'number') {
    if (!Number.isInteger(c)) return { problem: `a number with decimals (${c}), not an id` };
    if (c < 0) return { problem: `a negative number (${c}), not an id` };
    if (String(c).replace(/e.*$/i, '').replace('.', '').length > MAX_EXACT_DIGITS || c > Number.MAX_SAFE_INTEGER)
      return {
        problem: `a number of more than ${MAX_EXACT_DIGITS} digits: Excel has already changed its last digits; format the column as Text and enter the ids again`,
      };
    return String(c);
  }
  if (typeof c === 'boolean') return { problem: 'a TRUE/FALSE value, not an id' };
  if ('date' in c) return { problem: `a date (${c.date}), not an id` };
  return c;
}

const isBlank = (c: RawCell) => cellText(c) === '';
/** Ids a spreadsheet would run as a formula, or one it turned into scientific notation. */
const SUSPECT = /^[=+@]|^-[^0-9]|^\d+(\.\d+)?E\+\d+$/i;
const show = (v: string | { problem: string }) => (typeof v === 'string' ? v : '');

/** The words each link rule is grouped under in the preview's list of reasons. */
export const RULE_GROUPS: Record<LinkRule, string> = {
  parent_is_child: 'Parent is recorded as a child bag',
  parent_on_finalized_bill: 'Parent is on a finalized bill',
  child_is_parent: 'Child is recorded as a parent bag',
  already_on_this_parent: 'Already linked this way',
  on_other_parent: 'Child is already on another parent',
};

/**
 * Checks one row on its own: empty, cell problems, id shape (any id by default; the scan patterns
 * when the station enforces them). Repeats within the file are found by the preview's
 * SeenChildren and, when importing, by the links this import already made. Parents are interned
 * so a million rows keep one string per parent.
 */
export class FileChecker {
  readonly #parents = new Map<string, string>();
  readonly #formats: CompiledFormats | null;
  /** Cells that were numbers in the spreadsheet, per mapped column: worth a note in the preview. */
  readonly numbers = { parent: 0, child: 0 };

  constructor(rules: ImportRules) {
    this.#formats = rules.enforceFormats ? compileFormats(rules.parentFormats, rules.childFormat) : null;
  }

  check(row: SourceRow, m: ImportMapping): Verdict {
    const rawParent = row.cells[m.parent];
    const rawChild = row.cells[m.child];
    if (typeof rawParent === 'number') this.numbers.parent++;
    if (typeof rawChild === 'number') this.numbers.child++;
    const p = cellText(rawParent);
    const c = cellText(rawChild);
    const parentShown = show(p);
    const childShown = show(c);
    if (p === '' && c === '' && row.cells.every(isBlank)) return { kind: 'empty' };
    const reject = (reason: string, group: string): Verdict => ({ kind: 'rejected', reason, group, parent: parentShown, child: childShown });
    if (typeof p !== 'string') return reject(`Parent column holds ${p.problem}`, 'Parent cell is not an id (number, date, error…)');
    if (typeof c !== 'string') return reject(`Child column holds ${c.problem}`, 'Child cell is not an id (number, date, error…)');
    if (p === '') return reject('Parent is empty', 'Parent is empty');
    if (c === '') return reject('Child is empty', 'Child is empty');
    for (const [what, v] of [
      ['Parent', p],
      ['Child', c],
    ] as const) {
      if (!SUSPECT.test(v)) continue;
      if (/E\+/i.test(v) && !/^[=+@-]/.test(v))
        return reject(
          `${what} “${v}” is a number in scientific notation: the spreadsheet changed the id; format the column as Text`,
          'Id in scientific notation (changed by the spreadsheet)',
        );
      return reject(`${what} “${v.slice(0, 40)}” looks like a spreadsheet formula`, 'Looks like a spreadsheet formula');
    }
    const ids = this.#formats ? this.#byFormats(p, c, this.#formats) : this.#anyIds(p, c);
    if ('reason' in ids) return reject(ids.reason, ids.group);
    let parentCode = this.#parents.get(ids.parent);
    if (!parentCode) this.#parents.set(ids.parent, (parentCode = ids.parent));
    return { kind: 'ok', parent: parentCode, child: ids.child };
  }

  #anyIds(p: string, c: string): { parent: string; child: string } | { reason: string; group: string } {
    const parent = normaliseId(p);
    if (!parent.ok) return { reason: `Parent: ${parent.reason}`, group: 'Parent is not a usable id' };
    const child = normaliseId(c);
    if (!child.ok) return { reason: `Child: ${child.reason}`, group: 'Child is not a usable id' };
    if (parent.code === child.code) return { reason: `Parent and child are the same id (${parent.code})`, group: 'Parent and child are the same id' };
    return { parent: parent.code, child: child.code };
  }

  #byFormats(p: string, c: string, formats: CompiledFormats): { parent: string; child: string } | { reason: string; group: string } {
    const parent = classifyCode(p, formats);
    if (!parent.ok) return { reason: `Parent: ${parent.reason}`, group: 'Parent does not match the scan patterns' };
    if (parent.kind !== 'parent') return { reason: `Parent ${parent.code} is not a parent bag id`, group: 'Parent does not match the scan patterns' };
    const child = classifyCode(c, formats);
    if (!child.ok) return { reason: `Child: ${child.reason}`, group: 'Child does not match the scan patterns' };
    if (child.kind !== 'child') return { reason: `Child ${child.code} is a parent bag id`, group: 'Child does not match the scan patterns' };
    return { parent: parent.code, child: child.code };
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
  return { ...v, kind: 'rejected', reason: verdict.message, group: RULE_GROUPS[verdict.rule] };
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
