import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { releaseAll } from '../support/cleanup';
import { makeStation, tempDir, withAdmin } from '../support/station';
import { passSecondFactor } from '../support/second-factor';
import { createLogger } from '../../src/main/platform/logger';
import { provisionFrom } from '../../src/main/provisioning/start';
import { HUB_CODE_SECRET, SCANNER_ROUTING_KEY, type ProvisioningOutcome } from '../../src/main/provisioning/apply';
import { UPDATE_SETTINGS_KEY } from '../../src/shared/update-settings';
import type { ProvisioningFile } from '../../src/shared/contract/provisioning';
import { SimulatedHidBus } from '../../src/main/scanners/simulated';
import { ENTER, typed } from '../fixtures/hid-reports';

afterEach(releaseAll);

const SECRETS = {
  code: 'ENROL-7Q4K-SECRET',
  erpPassword: 'erp-pass-S3cret!',
  token: 'lt-token-0c0ffee',
  btPassword: 'bt-pass-hush',
};

function fullFile(version: number | string = 1): ProvisioningFile {
  return {
    version,
    stationName: 'Door 4 north',
    dockDoor: 'Door 4',
    kiosk: true,
    hub: { url: 'http://127.0.0.1:1', enrolmentCode: SECRETS.code },
    upstreams: {
      bags: { url: 'https://bags.example.com/api' },
      erp: { url: 'https://erp.example.com/odata', logins: { DD: { username: 'dock4', password: SECRETS.erpPassword } } },
      leaftrade: { url: 'https://leaftrade.example.com', token: SECRETS.token },
      biotrack: { url: 'https://biotrack.example.com', location: '990010', license: 'LIC-1', username: 'bt', password: SECRETS.btPassword },
    },
    updates: { feedUrl: 'https://updates.example.com/dockside', channel: 'beta', quietHours: { from: '01:00', to: '03:00' }, allowDowngrade: true },
    idleLockMinutes: 7,
    scanners: { defaultTarget: 'scan', byVendor: [{ vendorId: '05E0', target: 'bills' }] },
  };
}

function writeFile(dir: string, content: unknown): string {
  const file = path.join(dir, 'dockside.provision.json');
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

/** A station started the way the entries start one, on `dataDir`, with `file` as --provision. */
async function startWith(dataDir: string, file: string, extra: Parameters<typeof makeStation>[0] = {}) {
  let outcome: ProvisioningOutcome = { outcome: 'none' };
  const t = await makeStation({ dataDir, provision: provisionFrom({ explicit: file, folders: [] }, (o) => (outcome = o)), ...extra });
  return { t, outcome: outcome as ProvisioningOutcome };
}

const auditCount = (t: Awaited<ReturnType<typeof makeStation>>, action: string) =>
  (t.station.database.sqlite.prepare('SELECT count(*) AS n FROM audit_log WHERE action = ?').get(action) as { n: number }).n;

describe('provisioning file at start', () => {
  it('applies every field at first start and records version, hash, time and path', async () => {
    const dir = tempDir();
    const file = writeFile(dir, fullFile('2026.11-1'));
    const { t, outcome } = await startWith(dir, file);
    expect(outcome.outcome).toBe('applied');
    const s = t.station.settings.get();
    expect([s.stationName, s.kioskMode, s.idleLockMinutes, s.biotrackLocation]).toEqual(['Door 4 north', true, 7, '990010']);
    expect(t.station.settings.readKey(UPDATE_SETTINGS_KEY, null)).toEqual(fullFile().updates);
    expect(t.station.settings.readKey(SCANNER_ROUTING_KEY, null)).toEqual({
      defaultTarget: 'scan',
      byVendor: [{ vendorId: '05e0', target: 'bills' }],
    });
    expect(t.station.secrets.get('erp.DD.password')).toBe(SECRETS.erpPassword);
    expect(t.station.secrets.get('leaftrade.token')).toBe(SECRETS.token);
    expect(t.station.secrets.get(HUB_CODE_SECRET)).toBe(SECRETS.code);
    const status = t.station.settings.readKey<{ version: string; hash: string; path: string; appliedAt: number } | null>(
      'provisioning.applied',
      null,
    );
    expect(status).toMatchObject({ version: '2026.11-1', path: file, appliedAt: t.clock.now() });
    expect(status!.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(auditCount(t, 'provisioning.applied')).toBe(1);
  });

  it('keeps the provisioned upstream addresses for the station to start with', async () => {
    const dir = tempDir();
    const { t } = await startWith(
      dir,
      writeFile(dir, { version: 1, stationName: 'Door 1', upstreams: { bags: { url: 'http://127.0.0.1:9/bags' } } }),
    );
    expect(t.station.settings.readKey('provisioning.upstreams', null)).toEqual({ bags: { url: 'http://127.0.0.1:9/bags' } });
  });

  it('does nothing when the same file is there at the next start', async () => {
    const dir = tempDir();
    const file = writeFile(dir, fullFile(3));
    const first = await startWith(dir, file);
    const appliedAt = first.t.station.settings.readKey<{ appliedAt: number }>('provisioning.applied', { appliedAt: 0 }).appliedAt;
    await first.t.close();
    const { t, outcome } = await startWith(dir, file);
    expect(outcome.outcome).toBe('unchanged');
    expect(auditCount(t, 'provisioning.applied')).toBe(1);
    expect(auditCount(t, 'settings.updated')).toBe(1);
    expect(t.station.settings.readKey<{ appliedAt: number }>('provisioning.applied', { appliedAt: 0 }).appliedAt).toBe(appliedAt);
  });

  it('applies a file whose version changed, over what an admin changed meanwhile', async () => {
    const dir = tempDir();
    const file = writeFile(dir, fullFile(1));
    const first = await startWith(dir, file);
    first.t.station.settings.update({ idleLockMinutes: 30 }, { userId: null, username: 'someone' }, { stationId: 'x', now: first.t.clock.now });
    await first.t.close();
    writeFile(dir, { ...fullFile(2), idleLockMinutes: 12 });
    const { t, outcome } = await startWith(dir, file);
    expect(outcome.outcome).toBe('applied');
    expect(t.station.settings.get().idleLockMinutes).toBe(12);
    expect(t.station.settings.readKey<{ version: number }>('provisioning.applied', { version: 0 }).version).toBe(2);
    expect(auditCount(t, 'provisioning.applied')).toBe(2);
  });

  it('a file changed while the station runs is applied when the station looks again, without a restart; looked at again unchanged, nothing more happens', async () => {
    const dir = tempDir();
    const file = writeFile(dir, fullFile(1));
    const { t } = await startWith(dir, file, { provisionRecheckMs: 0 });
    expect(t.station.settings.get().idleLockMinutes).toBe(7);
    writeFile(dir, { ...fullFile(2), stationName: 'Door 4 south', idleLockMinutes: 15 });
    t.station.reprovision();
    expect(t.station.settings.get()).toMatchObject({ stationName: 'Door 4 south', idleLockMinutes: 15 });
    expect(t.station.settings.readKey<{ version: number }>('provisioning.applied', { version: 0 }).version).toBe(2);
    t.station.reprovision();
    expect(auditCount(t, 'provisioning.applied')).toBe(2);
    // A bad edit while running changes nothing and is shown, as at start.
    writeFile(dir, { ...fullFile(3), idleLockMinutes: 0 });
    t.station.reprovision();
    expect(t.station.settings.get().idleLockMinutes).toBe(15);
    const problem = t.station.settings.readKey<{ at: number; messages: string[] } | null>('provisioning.problem', null);
    expect(JSON.stringify(problem)).toContain('idleLockMinutes');
    // Found again a minute later: the same problem, as first seen.
    t.clock.advance(60_000);
    t.station.reprovision();
    expect(t.station.settings.readKey('provisioning.problem', null)).toEqual(problem);
  });

  it('a bad file leaves the station as it was and keeps the error naming the field', async () => {
    const dir = tempDir();
    const file = writeFile(dir, fullFile(1));
    const first = await startWith(dir, file);
    await first.t.close();
    const before = fs.readFileSync(path.join(dir, 'secrets.json'), 'utf8');
    // Valid secrets and settings next to one bad field: none of it may be applied.
    const bad = {
      ...fullFile(2),
      idleLockMinutes: 99,
      upstreams: { erp: { url: 'https://erp2.example.com', logins: { DD: { username: 'x', password: 'new-pass' } } } },
      updates: { channel: 'nightly' },
    };
    writeFile(dir, bad);
    const { t, outcome } = await startWith(dir, file);
    expect(outcome.outcome).toBe('refused');
    expect(t.station.settings.get().idleLockMinutes).toBe(7);
    expect(t.station.settings.readKey('provisioning.upstreams', null)).toMatchObject({ erp: { url: 'https://erp.example.com/odata' } });
    expect(t.station.secrets.get('erp.DD.password')).toBe(SECRETS.erpPassword);
    expect(fs.readFileSync(path.join(dir, 'secrets.json'), 'utf8')).toBe(before);
    const status = await (await adminOn(t)).ok('provisioning/status', {});
    expect(status.applied?.version).toBe(1);
    expect(status.problem?.messages).toEqual(['updates.channel: The channel is stable or beta']);
    expect(status.problem?.path).toBe(file);
  });

  it('a setting out of range inside the transaction rolls back the whole file, secrets too', async () => {
    const dir = tempDir();
    const file = writeFile(dir, { version: 1, stationName: 'Door 2', upstreams: { leaftrade: { url: 'https://lt.example.com', token: 'old' } } });
    await (await startWith(dir, file)).t.close();
    // The file schema trims and then checks; a name of spaces fails there, before anything is written.
    writeFile(dir, { version: 2, stationName: '   ', upstreams: { leaftrade: { url: 'https://lt.example.com', token: 'new' } } });
    const { t, outcome } = await startWith(dir, file);
    expect(outcome.outcome).toBe('refused');
    expect(t.station.secrets.get('leaftrade.token')).toBe('old');
    expect(t.station.settings.get().stationName).toBe('Door 2');
    expect(outcome.outcome === 'refused' && outcome.problem.messages[0]).toMatch(/^stationName: /);
  });

  it('a missing --provision file is reported and changes nothing', async () => {
    const dir = tempDir();
    const { t, outcome } = await startWith(dir, path.join(dir, 'nope.json'));
    expect(outcome.outcome).toBe('refused');
    expect(outcome.outcome === 'refused' && outcome.problem.messages[0]).toMatch(/does not exist/);
    expect(t.station.settings.get().stationName).toBe('Dock station');
  });

  it('no file beside the app: nothing happens', async () => {
    const dir = tempDir();
    let outcome: ProvisioningOutcome | null = null;
    const t = await makeStation({ dataDir: dir, provision: provisionFrom({ folders: [dir] }, (o) => (outcome = o)) });
    expect(outcome).toEqual({ outcome: 'none' });
    expect(auditCount(t, 'provisioning.applied')).toBe(0);
  });

  it('secrets from the file are in the secret store only: not in settings, audit or the log', async () => {
    const dir = tempDir();
    const { logger, close } = await createLogger({ dir: path.join(dir, 'logs'), stdout: false, level: 'debug' });
    const file = writeFile(dir, fullFile(1));
    const { t } = await startWith(dir, file, { logger });
    // A second, bad file is logged too.
    await t.close();
    writeFile(dir, { ...fullFile(2), kiosk: 'yes' });
    const again = await startWith(dir, file, { logger });
    await again.t.close();
    await close();
    const db = fs.readFileSync(path.join(dir, 'dockside.sqlite'));
    const wal = fs.existsSync(path.join(dir, 'dockside.sqlite-wal')) ? fs.readFileSync(path.join(dir, 'dockside.sqlite-wal')) : Buffer.alloc(0);
    const logs = fs
      .readdirSync(path.join(dir, 'logs'))
      .map((f) => fs.readFileSync(path.join(dir, 'logs', f), 'utf8'))
      .join('\n');
    expect(logs).toContain('provisioning file applied');
    expect(logs).toContain('kiosk');
    for (const value of Object.values(SECRETS)) {
      expect(db.includes(value)).toBe(false);
      expect(wal.includes(value)).toBe(false);
      expect(logs.includes(value)).toBe(false);
    }
  });

  it('a newly paired scanner takes the provisioned routing by its vendor', async () => {
    const dir = tempDir();
    const bus = new SimulatedHidBus();
    const file = writeFile(dir, {
      version: 1,
      stationName: 'Door 5',
      scanners: { defaultTarget: 'scan', byVendor: [{ vendorId: '05e0', target: 'bills' }] },
    });
    const t = await withAdmin({
      dataDir: dir,
      hid: { ok: true, backend: bus },
      scannerPollMs: 0,
      provision: provisionFrom({ explicit: file, folders: [] }, () => {}),
    });
    bus.plug({ path: '/dev/hidraw3', vendorId: 0x05e0, productId: 0x1200, product: 'Zebra DS2208', usagePage: 0x01, usage: 0x06 });
    const { code } = await t.admin.ok('scanners/pair-start', {});
    for (const r of [...typed(code), ...ENTER]) bus.report('/dev/hidraw3', r);
    bus.plug({ path: '/dev/hidraw4', vendorId: 0x0c2e, productId: 0x0b87, product: 'Voyager 1250g', usagePage: 0x01, usage: 0x06 });
    const second = await t.admin.ok('scanners/pair-start', {});
    for (const r of [...typed(second.code), ...ENTER]) bus.report('/dev/hidraw4', r);
    const targets = (await t.admin.ok('scanners/status', {})).scanners.map((s) => [s.vendorId, s.target]);
    expect(targets).toEqual([
      [0x05e0, 'bills'],
      [0x0c2e, 'scan'],
    ]);
  });
});

/** An admin window on a station started by startWith (set up as on a first start). */
async function adminOn(t: Awaited<ReturnType<typeof makeStation>>) {
  const w = t.window('admin window');
  await passSecondFactor(t, w.raw, await w.ok('setup/create-admin', { username: 'boss', displayName: 'Boss', password: 'correct horse' }));
  return w;
}
