import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeProvisioningIssues, provisioningFileSchema } from '../../src/shared/contract/provisioning';
import { findProvisioningFile, provisioningFolders, readProvisioningFile } from '../../src/main/provisioning/file';
import { routeNewScanner } from '../../src/main/provisioning/apply';

const EXAMPLE = path.join(import.meta.dirname, '../../resources/provisioning.example.json');
const example = () => JSON.parse(fs.readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>;

type Json = Record<string, unknown>;

/** The messages for the example with the value at `path` replaced (undefined: taken out). */
function messagesFor(at: string, value: unknown): string[] {
  const f = example();
  const keys = at.split('.');
  const parent = keys.slice(0, -1).reduce<Json>((o, k) => o[k] as Json, f);
  if (value === undefined) delete parent[keys.at(-1)!];
  else parent[keys.at(-1)!] = value;
  const r = provisioningFileSchema.safeParse(f);
  return r.success ? [] : describeProvisioningIssues(r.error, f);
}

describe('provisioning file schema', () => {
  it('the example in resources/ is valid', () => {
    expect(readProvisioningFile(EXAMPLE)).toMatchObject({ ok: true });
  });

  it('only version and stationName are required', () => {
    expect(provisioningFileSchema.safeParse({ version: 3, stationName: 'Door 1' }).success).toBe(true);
    expect(messagesFor('version', undefined)).toEqual(['version: is required']);
    expect(messagesFor('stationName', undefined)).toEqual(['stationName: is required']);
  });

  // Each field's error starts with the field's path in the file.
  const cases: [string, unknown, RegExp][] = [
    ['version', true, /^version: The version is a number or a text/],
    ['version', ' ', /^version: The version is empty/],
    ['stationName', '', /^stationName: Station name is required/],
    ['dockDoor', 4, /^dockDoor: The dock door is text/],
    ['kiosk', 'yes', /^kiosk: kiosk is true or false/],
    ['hub.url', 'ftp://hub', /^hub\.url: The hub address must look like/],
    ['hub.enrolmentCode', '', /^hub\.enrolmentCode: The enrolment code is required/],
    ['upstreams.bags.url', 'not an address', /^upstreams\.bags\.url: The bag-tracking address must be an http or https/],
    ['upstreams.erp.url', 'https://user:pw@erp.example.com', /^upstreams\.erp\.url: The ERP address must be/],
    ['upstreams.erp.logins.DD.password', '', /^upstreams\.erp\.logins\.DD\.password: The password is empty/],
    ['upstreams.erp.logins.XX', {}, /^upstreams\.erp\.logins\.XX: not a provisioning field in upstreams\.erp\.logins/],
    ['upstreams.leaftrade.token', 5, /^upstreams\.leaftrade\.token: The LeafTrade token is text/],
    ['upstreams.biotrack.location', '12', /^upstreams\.biotrack\.location: The BioTrack location is the facility licence/],
    ['updates.feedUrl', 'updates', /^updates\.feedUrl: The update feed is a web address/],
    ['updates.channel', 'nightly', /^updates\.channel: The channel is stable or beta/],
    ['updates.quietHours.from', '25:00', /^updates\.quietHours\.from: A time is HH:MM/],
    ['updates.allowDowngrade', 'no', /^updates\.allowDowngrade: /],
    ['idleLockMinutes', 0, /^idleLockMinutes: At least 1 minute/],
    ['scanners.defaultTarget', 'fridge', /^scanners\.defaultTarget: The screen is one of any, scan, bills, trips/],
    ['scanners.byVendor.0.vendorId', 'zebra', /^scanners\.byVendor\[0\]\.vendorId: The vendor id is 4 hex digits/],
    ['kioskMode', true, /^kioskMode: not a provisioning field \(check the spelling\)/],
  ];
  it.each(cases)('%s: the error names the field', (at, value, expected) => {
    const messages = messagesFor(at, value);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(expected);
  });
});

describe('reading the file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dockside-prov-unit-'));

  it('a file that is not JSON is refused without quoting its text', () => {
    const file = path.join(dir, 'broken.json');
    fs.writeFileSync(file, '{"version": 1, "hub": {"enrolmentCode": "SECRET-CODE",}');
    const read = readProvisioningFile(file);
    expect(read).toMatchObject({ ok: false, messages: ['the file: is not valid JSON (check its quotes, commas and braces)'] });
  });

  it('the hash changes with the content and not with reading again', () => {
    const file = path.join(dir, 'p.json');
    fs.writeFileSync(file, JSON.stringify({ version: 1, stationName: 'A' }));
    const a = readProvisioningFile(file);
    const b = readProvisioningFile(file);
    fs.writeFileSync(file, JSON.stringify({ version: 1, stationName: 'B' }));
    const c = readProvisioningFile(file);
    expect(a.ok && b.ok && c.ok && [a.hash === b.hash, a.hash === c.hash]).toEqual([true, false]);
  });

  it('--provision wins; else the first folder holding dockside.provision.json', () => {
    const present = new Set(['/opt/Dockside/dockside.provision.json', '/data/dockside.provision.json']);
    const exists = (p: string) => present.has(p);
    expect(findProvisioningFile({ explicit: '/etc/x.json', folders: ['/opt/Dockside'] }, exists)).toBe('/etc/x.json');
    expect(findProvisioningFile({ folders: [null, '/opt/Dockside', '/data'] }, exists)).toBe('/opt/Dockside/dockside.provision.json');
    expect(findProvisioningFile({ folders: ['/nowhere'] }, exists)).toBeNull();
  });

  it('the app looks next to the AppImage file, next to the executable, then in the machine folder that outlives updates', () => {
    expect(provisioningFolders({ exePath: '/tmp/.mount_Dock/dockside', appImage: '/home/it/Dockside.AppImage', platform: 'linux' })).toEqual([
      '/home/it',
      '/tmp/.mount_Dock',
      '/etc/dockside',
    ]);
    expect(provisioningFolders({ exePath: '/opt/Dockside/dockside', platform: 'linux' })).toEqual(['/opt/Dockside', '/etc/dockside']);
    expect(provisioningFolders({ exePath: 'C:/Program Files/Dockside/Dockside.exe', platform: 'win32', programData: 'D:\\ProgramData' })).toEqual([
      'C:/Program Files/Dockside',
      'D:\\ProgramData\\Dockside',
    ]);
  });
});

describe('scanner routing defaults', () => {
  it('a vendor rule, else the default, else any screen', () => {
    const routing = { defaultTarget: 'scan' as const, byVendor: [{ vendorId: '05e0', target: 'bills' as const }] };
    expect([routeNewScanner(routing, 0x05e0), routeNewScanner(routing, 0x0c2e), routeNewScanner(null, 0x05e0)]).toEqual(['bills', 'scan', 'any']);
  });
});
