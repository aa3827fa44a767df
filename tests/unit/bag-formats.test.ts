import { describe, expect, it } from 'vitest';
import { classifyCode, compileFormats, literalPrefix } from '../../src/main/bags/formats';
import { DEFAULT_SETTINGS } from '../../src/shared/contract/settings';

const formats = compileFormats(DEFAULT_SETTINGS.parentFormats, DEFAULT_SETTINGS.childFormat);

describe('bag id formats', () => {
  it.each([
    ['SB12345', 'SB12345'],
    ['sb12345', 'SB12345'],
    ['  SB00001\t', 'SB00001'],
    ['M444-12345', 'M444-12345'],
    ['m444-00007', 'M444-00007'],
  ])('%j is a parent %s', (raw, code) => {
    expect(classifyCode(raw, formats)).toEqual({ ok: true, code, kind: 'parent' });
  });

  it.each(['C-000123', 'abc', 'X', '0012345', 'CHILD 7', 'x'.repeat(64)])('%j is a child', (raw) => {
    expect(classifyCode(raw, formats)).toMatchObject({ ok: true, kind: 'child', code: raw.toUpperCase() });
  });

  it.each([
    ['', /Empty scan/],
    ['   ', /Empty scan/],
    ['SB1234', /SB1234 is not a valid parent id: expected SB \+ 5 digits/],
    ['SB123456', /not a valid parent id/],
    ['M444-1234', /expected M444- \+ 5 digits/],
    ['x'.repeat(65), /Too long: 65 characters/],
    ['AB\u0007C', /control characters/],
    ['ÄPFEL', /not a valid bag id: expected 1–64 printable characters/],
  ])('%j is refused with the reason', (raw, reason) => {
    const r = classifyCode(raw, formats);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });

  it('takes the literal prefix of a pattern up to the first regex syntax', () => {
    expect(literalPrefix('SB\\d{5}')).toBe('SB');
    expect(literalPrefix('^M444-\\d{5}')).toBe('M444-');
    expect(literalPrefix('AB?C')).toBe('A');
    expect(literalPrefix('[A-Z]{2}\\d+')).toBe('');
  });

  it('custom formats are anchored: a pattern cannot match part of an id', () => {
    const f = compileFormats([{ label: 'P + 3 digits', pattern: 'P\\d{3}' }], { label: 'digits', pattern: '\\d+' });
    expect(classifyCode('P123', f)).toMatchObject({ ok: true, kind: 'parent' });
    expect(classifyCode('P1234', f)).toMatchObject({ ok: false });
    expect(classifyCode('12A', f)).toMatchObject({ ok: false, reason: expect.stringContaining('expected digits') });
  });
});
