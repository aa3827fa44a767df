import type { ImportMapping } from '../../shared/contract/imports';

const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/** Header names people use for each column, compared without case, spaces or punctuation. */
const PARENT = ['parent', 'parentbag', 'parentid', 'parentbagid', 'parentbarcode', 'master', 'masterbag', 'outer', 'outerbag', 'sack'];
const CHILD = ['child', 'childbag', 'childid', 'childbagid', 'childbarcode', 'bag', 'bagid', 'barcode', 'inner', 'innerbag', 'item'];

/** Finds the parent and child columns in a header row, or null when either is missing. */
export function guessMapping(headers: string[]): ImportMapping | null {
  const n = headers.map(norm);
  const find = (names: string[], not = -1) => {
    const exact = n.findIndex((h, i) => i !== not && names.includes(h));
    if (exact >= 0) return exact;
    return n.findIndex((h, i) => i !== not && names.some((x) => x.length >= 4 && h.includes(x)));
  };
  const parent = find(PARENT);
  const child = find(CHILD, parent);
  return parent >= 0 && child >= 0 && parent !== child ? { parent, child } : null;
}
