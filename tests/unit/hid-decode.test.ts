import { describe, expect, it } from 'vitest';
import { KeyboardReportDecoder, PosReportDecoder, splitAim } from '../../src/main/scanners/decode';
import { down, ENTER, posReport, SHIFT, TAB, typed, UP } from '../fixtures/hid-reports';

/** Feeds reports 8 ms apart, as a scanner does. */
function decode(reports: Uint8Array[], gapMs = 8, d = new KeyboardReportDecoder({ interReportTimeoutMs: 100 })) {
  return reports.flatMap((r, i) => d.feed(r, i * gapMs));
}

describe('keyboard-mode reports', () => {
  it('a shifted character: Shift in the modifier byte gives the capital', () => {
    // 'S' = Left Shift (0x02) + usage 0x16, then release.
    expect(decode([Uint8Array.from([0x02, 0, 0x16, 0, 0, 0, 0, 0]), UP, ...ENTER])).toEqual([{ code: 'S', aim: null, end: 'enter' }]);
    expect(decode([...typed('SB12345'), ...ENTER])[0].code).toBe('SB12345');
  });

  it('the same character twice needs the release in between; a held key types once', () => {
    expect(decode([...typed('C11'), ...ENTER])[0].code).toBe('C11');
    // Key held across two reports (no release): one '1'.
    expect(decode([down(0, 0x1e), down(0, 0x1e), UP, ...ENTER])[0].code).toBe('1');
  });

  it('Tab ends a read like Enter', () => {
    expect(decode([...typed('M444-00001'), ...TAB])).toEqual([{ code: 'M444-00001', aim: null, end: 'tab' }]);
  });

  it('two keys in one report (rollover) both type, in report order', () => {
    expect(decode([Uint8Array.from([0, 0, 0x04, 0x05, 0, 0, 0, 0]), UP, ...ENTER])[0].code).toBe('ab');
  });

  it('Caps Lock inverts letters but not digits; Shift inverts again', () => {
    const caps = [down(0, 0x39), UP];
    expect(decode([...caps, ...typed('ab1'), down(SHIFT, 0x04), UP, ...ENTER])[0].code).toBe('AB1a');
  });

  it('an AIM symbology identifier is recorded and stripped', () => {
    expect(decode([...typed(']C1'), ...typed('0112345'), ...ENTER])).toEqual([{ code: '0112345', aim: ']C1', end: 'enter' }]);
  });

  it('GS1 group separators (Ctrl+]) are kept in the data', () => {
    const out = decode([...typed(']C1'), ...typed('10ABC'), ...typed('\x1d'), ...typed('21X9'), ...ENTER]);
    expect(out).toEqual([{ code: '10ABC\x1d21X9', aim: ']C1', end: 'enter' }]);
  });

  it('a read with no terminator ends after the inter-report timeout', () => {
    const d = new KeyboardReportDecoder({ interReportTimeoutMs: 50 });
    const reports = typed('C-9');
    reports.forEach((r, i) => expect(d.feed(r, i * 5)).toEqual([]));
    expect(d.flushIfIdle(reports.length * 5 + 10)).toBeNull();
    expect(d.flushIfIdle(reports.length * 5 + 60)).toEqual({ code: 'C-9', aim: null, end: 'timeout' });
    // ...and a report arriving late completes the earlier read first.
    const d2 = new KeyboardReportDecoder({ interReportTimeoutMs: 50 });
    typed('AB').forEach((r, i) => d2.feed(r, i * 5));
    expect(d2.feed(typed('c')[0], 500)).toEqual([{ code: 'AB', aim: null, end: 'timeout' }]);
  });

  it('reports with a report-ID byte (9 bytes) decode the same; short reports are ignored', () => {
    const withId = typed('Q7').map((r) => Uint8Array.from([0x01, ...r]));
    expect(decode([...withId, ...ENTER])[0].code).toBe('Q7');
    expect(decode([Uint8Array.from([0, 0, 4]), ...ENTER])).toEqual([]);
  });

  it('a layout override maps keys differently (e.g. AZERTY a/q)', () => {
    const d = new KeyboardReportDecoder({ interReportTimeoutMs: 100, layoutOverrides: { 0x14: ['a', 'A'], 0x04: ['q', 'Q'] } });
    expect(decode([...typed('qa'), ...ENTER], 8, d)[0].code).toBe('aq');
  });
});

describe('HID POS (usage page 0x8C) reports', () => {
  it('one scanned-data report: data and AIM identifier', () => {
    expect(new PosReportDecoder().feed(posReport('SB12345', ']C0'))).toEqual([{ code: 'SB12345', aim: ']C0', end: 'report' }]);
  });

  it('a long barcode over several reports, joined on the continuation flag', () => {
    const d = new PosReportDecoder();
    const long = 'X'.repeat(58) + 'TAIL';
    expect(d.feed(posReport(long.slice(0, 58), ']d2', true))).toEqual([]);
    expect(d.feed(posReport(long.slice(58), ']d2'))).toEqual([{ code: long, aim: ']d2', end: 'report' }]);
  });

  it('keeps GS1 separators and ignores other report ids', () => {
    expect(new PosReportDecoder().feed(posReport('01095\x1d10LOT', ']C1'))[0].code).toBe('01095\x1d10LOT');
    const other = posReport('SB00001');
    other[0] = 0x04;
    expect(new PosReportDecoder().feed(other)).toEqual([]);
  });
});

describe('splitAim', () => {
  it('strips only a well-formed prefix', () => {
    expect(splitAim(']E09780201379624')).toEqual({ code: '9780201379624', aim: ']E0' });
    expect(splitAim('SB12345')).toEqual({ code: 'SB12345', aim: null });
    expect(splitAim(']')).toEqual({ code: ']', aim: null });
  });
});

describe('simulated scanner reports', () => {
  it('keyboardReportsFor produces what the decoder reads back, separators included', async () => {
    const { keyboardReportsFor } = await import('../../src/main/scanners/simulated');
    for (const text of ['SB12345', 'm444-00001', 'A!b@C#', ']C1\x1d10X']) {
      const out = decode(keyboardReportsFor(text));
      expect(out).toHaveLength(1);
      expect(out[0].aim ? out[0].aim + out[0].code : out[0].code).toBe(text);
    }
    expect(decode(keyboardReportsFor('C-1', 'tab'))[0].end).toBe('tab');
  });
});
