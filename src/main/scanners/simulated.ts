import { EventEmitter } from 'node:events';
import type { HidBackend, HidDevice, HidDeviceInfo } from './hid';
import { KEY, MOD, US_LAYOUT } from './keymap';

/**
 * An in-memory HID bus with node-hid's device interface: devices are plugged, fed reports and
 * unplugged. Used by tests and by the browser host in test mode (`--hid-sim`); never loaded otherwise.
 */
export class SimulatedHidBus implements HidBackend {
  readonly #plugged = new Map<string, HidDeviceInfo>();
  readonly #open = new Map<string, Set<SimulatedDevice>>();

  devices(): HidDeviceInfo[] {
    return [...this.#plugged.values()];
  }

  open(path: string): HidDevice {
    if (!this.#plugged.has(path)) throw new Error(`cannot open device with path ${path}`);
    const device = new SimulatedDevice(() => this.#open.get(path)?.delete(device));
    const set = this.#open.get(path) ?? new Set();
    set.add(device);
    this.#open.set(path, set);
    return device;
  }

  plug(info: HidDeviceInfo): void {
    this.#plugged.set(info.path, info);
  }

  /** Like pulling the cable: open handles get node-hid's read error. */
  unplug(path: string): void {
    this.#plugged.delete(path);
    for (const d of this.#open.get(path) ?? []) d.emit('error', new Error('could not read from HID device'));
    this.#open.delete(path);
  }

  /** Delivers one input report to every open handle of the device. */
  report(path: string, bytes: Uint8Array): number {
    const handles = [...(this.#open.get(path) ?? [])];
    for (const d of handles) d.emit('data', Buffer.from(bytes));
    return handles.length;
  }

  openHandles(path: string): number {
    return this.#open.get(path)?.size ?? 0;
  }
}

class SimulatedDevice extends EventEmitter implements HidDevice {
  constructor(private readonly onClose: () => void) {
    super();
  }
  close(): void {
    this.onClose();
    this.removeAllListeners();
  }
}

/**
 * The boot-keyboard reports a US-layout scanner sends for `text` and its terminator: each
 * character a press report and a release report. Used by the test host's control endpoint.
 */
export function keyboardReportsFor(text: string, end: 'enter' | 'tab' | 'none' = 'enter'): Uint8Array[] {
  const reverse = new Map<string, [number, boolean]>();
  for (const [code, [plain, shifted]] of Object.entries(US_LAYOUT)) {
    const key = Number(code);
    if (key >= 0x54) continue; // prefer the main keys over the keypad
    if (!reverse.has(plain)) reverse.set(plain, [key, false]);
    if (!reverse.has(shifted)) reverse.set(shifted, [key, true]);
  }
  const up = new Uint8Array(8);
  const reports: Uint8Array[] = [];
  for (const c of text) {
    if (c === '\x1d') {
      reports.push(Uint8Array.from([MOD.L_CTRL, 0, KEY.CLOSE_BRACKET, 0, 0, 0, 0, 0]), up);
      continue;
    }
    const k = reverse.get(c);
    if (!k) throw new Error(`No key for ${JSON.stringify(c)} in the US layout`);
    reports.push(Uint8Array.from([k[1] ? MOD.L_SHIFT : 0, 0, k[0], 0, 0, 0, 0, 0]), up);
  }
  if (end !== 'none') reports.push(Uint8Array.from([0, 0, end === 'tab' ? KEY.TAB : KEY.ENTER, 0, 0, 0, 0, 0]), up);
  return reports;
}
