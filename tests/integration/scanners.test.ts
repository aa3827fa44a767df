import { afterEach, describe, expect, it } from 'vitest';
import { loadNodeHid } from '../../src/main/scanners/hid';
import { SimulatedHidBus } from '../../src/main/scanners/simulated';
import { ENTER, posReport, typed } from '../fixtures/hid-reports';
import { releaseAll } from '../support/cleanup';
import { makeStation, withAdmin } from '../support/station';

afterEach(releaseAll);

const SCANNER = {
  path: '/dev/hidraw3',
  vendorId: 0x0c2e,
  productId: 0x0b87,
  product: 'Voyager 1250g',
  usagePage: 0x01,
  usage: 0x06,
  serialNumber: 'A123',
};
const POS = { path: '/dev/hidraw4', vendorId: 0x05e0, productId: 0x1300, product: 'DS2208', usagePage: 0x8c, usage: 0x02 };

async function station() {
  const bus = new SimulatedHidBus();
  const t = await withAdmin({ hid: { ok: true, backend: bus }, scannerPollMs: 0 });
  const scanners = t.station.scanners;
  const feed = (path: string, text: string) => {
    for (const r of [...typed(text), ...ENTER]) bus.report(path, r);
  };
  /** Pairs the plugged device at `path` the way an admin does: start pairing, scan the code. */
  const pair = async (path: string) => {
    const { code } = await t.admin.ok('scanners/pair-start', {});
    if (path === POS.path) bus.report(path, posReport(code));
    else feed(path, code);
    return (await t.admin.ok('scanners/status', {})).scanners.at(-1)!;
  };
  return { ...t, bus, scanners, feed, pair };
}

describe('scanner service', () => {
  it('pairs a keyboard-mode scanner by scanning the shown code, then its reads become scan events', async () => {
    const t = await station();
    t.bus.plug(SCANNER);
    const paired = await t.pair(SCANNER.path);
    expect(paired).toMatchObject({ name: 'Voyager 1250g 1', mode: 'keyboard', state: 'connected', vendorId: 0x0c2e, serialNumber: 'A123' });
    const events = t.admin.events;
    t.feed(SCANNER.path, 'SB12345');
    expect(events.filter((e) => e.event === 'scanner/scan').at(-1)?.data).toMatchObject({
      code: 'SB12345',
      scannerName: 'Voyager 1250g 1',
      target: 'any',
    });
    expect((await t.admin.ok('audit/list', { action: 'scanners' })).rows[0]).toMatchObject({ action: 'scanners.paired' });
  });

  it('notices an unplug at once, and reconnects on its own when the scanner is back', async () => {
    const t = await station();
    t.bus.plug(SCANNER);
    const { id } = await t.pair(SCANNER.path);
    t.bus.unplug(SCANNER.path);
    const status = () =>
      t.admin.events.filter((e) => e.event === 'scanner/status').at(-1)?.data as {
        scanners: { id: string; state: string; lastError: string | null }[];
      };
    expect(status().scanners.find((s) => s.id === id)).toMatchObject({ state: 'disconnected', lastError: 'could not read from HID device' });
    t.scanners.refresh(); // the poll finds nothing yet
    expect(t.bus.openHandles(SCANNER.path)).toBe(0);

    t.bus.plug({ ...SCANNER, path: '/dev/hidraw7' }); // back, maybe on another port
    t.scanners.refresh();
    expect(status().scanners.find((s) => s.id === id)).toMatchObject({ state: 'connected', lastError: null });
    t.feed('/dev/hidraw7', 'C-1');
    expect(t.admin.events.at(-1)).toMatchObject({ event: 'scanner/scan', data: { code: 'C-1' } });
  });

  it('reads HID POS (0x8C) scanners and keeps the AIM identifier', async () => {
    const t = await station();
    t.bus.plug(POS);
    expect(await t.pair(POS.path)).toMatchObject({ mode: 'pos', state: 'connected' });
    t.bus.report(POS.path, posReport('M444-00001', ']C0'));
    expect(t.admin.events.at(-1)).toMatchObject({ event: 'scanner/scan', data: { code: 'M444-00001', aim: ']C0' } });
  });

  it('ignores devices that are neither paired nor pairing, and closes listeners when pairing ends', async () => {
    const t = await station();
    t.bus.plug(SCANNER);
    t.scanners.refresh();
    expect(t.bus.openHandles(SCANNER.path)).toBe(0);
    await t.admin.ok('scanners/pair-start', {});
    expect(t.bus.openHandles(SCANNER.path)).toBe(1);
    t.feed(SCANNER.path, 'NOT-THE-CODE');
    expect(t.admin.events.some((e) => e.event === 'scanner/scan')).toBe(false);
    await t.admin.ok('scanners/pair-cancel', {});
    expect(t.bus.openHandles(SCANNER.path)).toBe(0);
  });

  it('renames, retargets and forgets scanners; only admins may', async () => {
    const t = await station();
    t.bus.plug(SCANNER);
    const { id } = await t.pair(SCANNER.path);
    expect(await t.admin.ok('scanners/update', { id, name: 'Door 3', target: 'bills' })).toMatchObject({ name: 'Door 3', target: 'bills' });
    t.feed(SCANNER.path, 'SB00009');
    expect(t.admin.events.at(-1)).toMatchObject({ data: { scannerName: 'Door 3', target: 'bills' } });
    const dock = await t.signedIn('dispatcher', 'dock1');
    expect(await dock.call('scanners/remove', { id })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect((await dock.ok('scanners/status', {})).scanners).toHaveLength(1);
    await t.admin.ok('scanners/remove', { id });
    expect(t.bus.openHandles(SCANNER.path)).toBe(0);
  });

  it('the pairing survives a restart, and the scanner reopens by itself', async () => {
    const t = await station();
    t.bus.plug(SCANNER);
    const { id } = await t.pair(SCANNER.path);
    await t.close();
    const again = await makeStation({ dataDir: t.dataDir, hid: { ok: true, backend: t.bus }, scannerPollMs: 0 });
    again.station.scanners.refresh();
    expect(again.station.scanners.overview().scanners).toMatchObject([{ id, state: 'connected' }]);
    expect(t.bus.openHandles(SCANNER.path)).toBe(1);
  });

  it('on Windows a keyboard-mode scanner is left to the OS and shown as keyboard wedge, with the reason', async () => {
    const t = await station();
    t.bus.plug(SCANNER);
    const { id } = await t.pair(SCANNER.path);
    await t.close();
    const win = await makeStation({ dataDir: t.dataDir, hid: { ok: true, backend: t.bus }, scannerPollMs: 0, platform: 'win32' });
    win.station.scanners.refresh();
    expect(t.bus.openHandles(SCANNER.path)).toBe(0);
    expect(win.station.scanners.overview().scanners).toMatchObject([
      { id, state: 'keyboard-wedge', note: expect.stringContaining('keyboard-wedge path') },
    ]);
  });
});

describe('degraded start', () => {
  it('loadNodeHid reports why node-hid cannot load instead of throwing', async () => {
    const r = await loadNodeHid(async () => {
      throw new Error('libusb-1.0.so.0: cannot open shared object file: No such file or directory\n    at Module._extensions');
    });
    expect(r).toEqual({ ok: false, reason: 'libusb-1.0.so.0: cannot open shared object file: No such file or directory' });
    const wrongAbi = await loadNodeHid(async () => ({
      default: {
        devices: () => {
          throw new Error('was compiled against a different Node.js version using NODE_MODULE_VERSION 140');
        },
        HID: class {},
      },
    }));
    expect(wrongAbi).toMatchObject({ ok: false, reason: expect.stringContaining('NODE_MODULE_VERSION') });
  });

  it('the real node-hid loads on this machine (libusb present) and lists devices', async () => {
    const r = await loadNodeHid();
    expect(r.ok, r.ok ? '' : r.reason).toBe(true);
    if (r.ok) expect(Array.isArray(r.backend.devices())).toBe(true);
  });

  it('a station without HID starts, says why, and refuses pairing with the reason', async () => {
    const t = await withAdmin({ hid: { ok: false, reason: 'libusb-1.0.so.0: cannot open shared object file' }, scannerPollMs: 0 });
    expect(await t.admin.ok('scanners/status', {})).toMatchObject({
      available: false,
      reason: 'libusb-1.0.so.0: cannot open shared object file',
      scanners: [],
    });
    expect(await t.admin.call('scanners/pair-start', {})).toMatchObject({
      ok: false,
      error: { code: 'conflict', message: expect.stringContaining('libusb') },
    });
    // Scanning still works through the keyboard-wedge path.
    const dock = await t.signedIn('dispatcher', 'dock1');
    expect(await dock.ok('bags/scan', { code: 'SB00001', source: 'wedge' })).toMatchObject({ result: 'parent' });
  });
});
