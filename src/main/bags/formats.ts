import type { BagFormat } from '../../shared/contract/settings';

export type Classified = { ok: true; code: string; kind: 'parent' | 'child' } | { ok: false; code: string | null; reason: string };

export interface CompiledFormats {
  parents: { label: string; re: RegExp; prefix: string }[];
  child: { label: string; re: RegExp };
}

const MAX_ID_LENGTH = 64;

/**
 * The literal text a pattern starts with ('SB' for `SB\d{5}`), used to tell a mis-read parent
 * ("SB1234") from a child id. Stops at the first regex metacharacter.
 */
export function literalPrefix(pattern: string): string {
  const src = pattern.startsWith('^') ? pattern.slice(1) : pattern;
  const m = /^[^\\[\](){}.*+?|^$]*/.exec(src);
  let prefix = m ? m[0] : '';
  // A quantifier applies to the character before it ('AB?' → 'A').
  if (/^[?*{]/.test(src.slice(prefix.length))) prefix = prefix.slice(0, -1);
  return prefix.toUpperCase();
}

export function compileFormats(parents: BagFormat[], child: BagFormat): CompiledFormats {
  // Anchored and case-insensitive: ids are upper-cased before matching, patterns may be written either way.
  const whole = (p: string) => new RegExp(`^(?:${p})$`, 'i');
  return {
    parents: parents.map((f) => ({ label: f.label, re: whole(f.pattern), prefix: literalPrefix(f.pattern) })),
    child: { label: child.label, re: whole(child.pattern) },
  };
}

/** Trims and upper-cases an id, or says why it cannot be one (empty, control characters, too long). */
export function normaliseId(raw: string): { ok: true; code: string } | { ok: false; reason: string } {
  const trimmed = raw.trim();
  if (trimmed === '') return { ok: false, reason: 'Empty scan: nothing was read' };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) {
    return { ok: false, reason: 'The scan contains control characters: check the scanner’s settings' };
  }
  const code = trimmed.toUpperCase();
  if (code.length > MAX_ID_LENGTH) {
    return { ok: false, reason: `Too long: ${code.length} characters (a bag id has at most ${MAX_ID_LENGTH})` };
  }
  return { ok: true, code };
}

/** Trims, upper-cases, and decides: parent, child, or refused with a reason a person can act on. */
export function classifyCode(raw: string, formats: CompiledFormats): Classified {
  const id = normaliseId(raw);
  if (!id.ok) return { ok: false, code: null, reason: id.reason };
  const { code } = id;
  if (formats.parents.some((p) => p.re.test(code))) return { ok: true, code, kind: 'parent' };
  const nearParent = formats.parents.find((p) => p.prefix.length > 0 && code.startsWith(p.prefix));
  if (nearParent) {
    return { ok: false, code, reason: `${code} is not a valid parent id: expected ${nearParent.label}` };
  }
  if (!formats.child.re.test(code)) {
    return { ok: false, code, reason: `${code} is not a valid bag id: expected ${formats.child.label}` };
  }
  return { ok: true, code, kind: 'child' };
}
