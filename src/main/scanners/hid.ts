/**
 * The slice of node-hid Dockside uses. node-hid's `HID.devices()` and `new HID.HID(path)`
 * fit these shapes, and so do the in-memory devices of tests and the test host.
 */
export interface HidDeviceInfo {
  path: string;
  vendorId: number;
  productId: number;
  product?: string;
  manufacturer?: string;
  serialNumber?: string;
  usagePage?: number;
  usage?: number;
  interface?: number;
}

/** An open device: 'data' with each input report, 'error' when it fails or is unplugged. */
export interface HidDevice {
  on(event: 'data', listener: (report: Buffer) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  removeAllListeners(): unknown;
  close(): void;
}

export interface HidBackend {
  devices(): HidDeviceInfo[];
  open(path: string): HidDevice;
}

export type HidAvailability = { ok: true; backend: HidBackend } | { ok: false; reason: string };

/**
 * Loads node-hid (its hidraw driver on Linux). If the native module is missing, built for another
 * ABI, or its libusb runtime is absent, the station still starts (keyboard-wedge scanners only)
 * and says why.
 */
export async function loadNodeHid(
  importer: () => Promise<unknown> = () => import('node-hid'),
  platform: NodeJS.Platform = process.platform,
): Promise<HidAvailability> {
  try {
    const mod = (await importer()) as { default?: unknown } & Record<string, unknown>;
    const HID = (mod.devices ? mod : mod.default) as {
      devices(): HidDeviceInfo[];
      HID: new (path: string) => HidDevice;
      setDriverType?: (t: 'hidraw' | 'libusb') => void;
    };
    if (typeof HID?.devices !== 'function' || typeof HID.HID !== 'function') throw new Error('node-hid has an unexpected shape');
    // hidraw is node-hid's Linux default; said here because build/70-dockside-scanners.rules
    // grants hidraw nodes only (no raw USB access), so libusb would find no scanner it may open.
    if (platform === 'linux') HID.setDriverType?.('hidraw');
    HID.devices(); // the first call is where a broken native module or libusb shows up
    return { ok: true, backend: { devices: () => HID.devices(), open: (path) => new HID.HID(path) } };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: reason.split('\n')[0].slice(0, 300) };
  }
}
