import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNodeHid } from '../../src/main/scanners/hid';

const RULES = path.resolve(import.meta.dirname, '../../build/70-dockside-scanners.rules');

/** The scanner makes the station supports, by USB vendor id (README, USB scanners). */
const SCANNER_VENDORS: Record<string, string> = {
  '0c2e': 'Honeywell / Hand Held Products / Metrologic',
  '05e0': 'Zebra / Symbol',
  '05f9': 'Datalogic',
  '1eab': 'Newland',
  '0d2e': 'Code Corporation',
};

/** Each rule line as its key/operator/value triples, comments and blank lines left out. */
function rules(): { line: string; pairs: { key: string; op: string; value: string }[] }[] {
  return fs
    .readFileSync(RULES, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => ({
      line,
      pairs: [...line.matchAll(/([A-Z]+(?:\{[^}]+\})?)\s*(==|!=|\+=|:=|=)\s*"([^"]*)"/g)].map(([, key, op, value]) => ({ key, op, value })),
    }));
}

describe('udev rules for scanners', () => {
  it('match hidraw nodes only, never raw USB devices', () => {
    for (const { line, pairs } of rules()) {
      expect(
        pairs.filter((p) => p.key === 'SUBSYSTEM'),
        line,
      ).toEqual([{ key: 'SUBSYSTEM', op: '==', value: 'hidraw' }]);
    }
  });

  it('give access to the seated user (uaccess) and to no group or mode', () => {
    for (const { line, pairs } of rules()) {
      expect(pairs, line).toContainEqual({ key: 'TAG', op: '+=', value: 'uaccess' });
      expect(
        pairs.map((p) => p.key),
        line,
      ).not.toContain('GROUP');
      expect(
        pairs.map((p) => p.key),
        line,
      ).not.toContain('MODE');
      expect(
        pairs.map((p) => p.key),
        line,
      ).not.toContain('OWNER');
    }
  });

  it('name exactly the scanner vendors, one line each, and no Motorola phones (22b8)', () => {
    const vendors = rules().map(({ pairs }) => pairs.find((p) => p.key === 'ATTRS{idVendor}')?.value);
    expect(vendors.toSorted()).toEqual(Object.keys(SCANNER_VENDORS).toSorted());
    expect(vendors).not.toContain('22b8');
  });

  it('sort before systemd’s 73-seat-late.rules, which applies uaccess', () => {
    expect(Number(/^(\d+)-/.exec(path.basename(RULES))![1])).toBeLessThan(73);
  });
});

describe('node-hid driver', () => {
  function fakeNodeHid() {
    const calls: string[] = [];
    const mod = {
      setDriverType: (t: string) => void calls.push(`setDriverType ${t}`),
      devices: () => {
        calls.push('devices');
        return [];
      },
      HID: class {},
    };
    return { calls, importer: () => Promise.resolve(mod) };
  }

  it('selects hidraw on Linux before the first device listing', async () => {
    const { calls, importer } = fakeNodeHid();
    expect(await loadNodeHid(importer, 'linux')).toMatchObject({ ok: true });
    expect(calls).toEqual(['setDriverType hidraw', 'devices']);
  });

  it('leaves the driver alone elsewhere', async () => {
    const { calls, importer } = fakeNodeHid();
    await loadNodeHid(importer, 'win32');
    expect(calls).toEqual(['devices']);
  });
});
