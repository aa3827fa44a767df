import { describe, expect, it } from 'vitest';
import { WedgeDetector } from '../../src/renderer/src/lib/wedge';

/** Feeds keys at the given times; returns the scans found. */
function feed(keys: [string, number][]): string[] {
  const d = new WedgeDetector();
  return keys.flatMap(([k, t]) => {
    const v = d.key(k, t);
    return v.kind === 'scan' ? [v.code] : [];
  });
}

const burst = (text: string, start: number, gap = 8, end: 'Enter' | 'Tab' = 'Enter'): [string, number][] => [
  ...[...text].map((c, i) => [c, start + i * gap] as [string, number]),
  [end, start + text.length * gap],
];

describe('keyboard-wedge detection', () => {
  it('takes a fast burst ending in Enter or Tab as a scan', () => {
    expect(feed(burst('SB12345', 0))).toEqual(['SB12345']);
    expect(feed(burst('C-000123', 0, 5, 'Tab'))).toEqual(['C-000123']);
  });

  it('ignores Shift between characters, as scanners send it for capitals', () => {
    const keys: [string, number][] = [
      ['Shift', 0],
      ['S', 2],
      ['Shift', 4],
      ['B', 6],
      ['1', 12],
      ['2', 18],
      ['3', 24],
      ['Enter', 30],
    ];
    expect(feed(keys)).toEqual(['SB123']);
  });

  it('does not take a person typing as a scan', () => {
    expect(feed(burst('SB12345', 0, 120))).toEqual([]);
  });

  it('a slow start then a burst keeps only the burst', () => {
    expect(feed([['x', 0], ['y', 300], ...burst('M444-00001', 1000)])).toEqual(['M444-00001']);
  });

  it('needs the minimum length: a fast rollover of two keys plus Enter is typing', () => {
    expect(feed(burst('ab', 0, 10))).toEqual([]);
  });

  it('a long pause before Enter is a person pressing Enter', () => {
    expect(feed([...burst('SB12345', 0).slice(0, -1), ['Enter', 2000]])).toEqual([]);
  });

  it('two scans in a row', () => {
    expect(feed([...burst('SB00001', 0), ...burst('C-1', 500), ...burst('C-22', 900)])).toEqual(['SB00001', 'C-1', 'C-22']);
  });
});
