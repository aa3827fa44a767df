import { randomBytes, randomUUID } from 'node:crypto';
import type { HidDeviceRow, ScannerConfig, ScannersOverview, ScannerStatus, ScannerTarget } from '../../shared/contract/scanners';
import { DomainError } from '../../shared/envelope';
import type { AuditActor } from '../audit/record';
import type { Logger } from '../platform/logger';
import { KeyboardReportDecoder, PosReportDecoder, type Barcode } from './decode';
import type { HidAvailability, HidDevice, HidDeviceInfo } from './hid';

interface Pairing {
  code: string;
  expiresAt: number;
  actor: AuditActor;
}

export type { ScannerConfig };

export interface ScannerStore {
  load(): ScannerConfig[];
  /** Who made the change is audited: the admin who paired, renamed or removed the scanner. */
  save(list: ScannerConfig[], change: { action: string; scanner: ScannerConfig; actor: AuditActor }): void;
}

export interface ScanFromDevice {
  barcode: Barcode;
  scanner: ScannerConfig;
}

export interface ScannerServiceDeps {
  hid: HidAvailability;
  store: ScannerStore;
  now: () => number;
  log: Logger;
  platform?: NodeJS.Platform;
  /** How often devices are listed to notice plug and unplug (node-hid has no hot-plug events). */
  pollMs?: number;
  /** The screen a newly paired scanner's reads go to (provisioning's routing defaults); any screen without it. */
  newScannerTarget?: (vendorId: number) => ScannerTarget;
  onScan: (scan: ScanFromDevice) => void;
  onStatus: (overview: ScannersOverview) => void;
}

const POS_USAGE_PAGE = 0x8c;
const PAIRING_MS = 2 * 60_000;

const isKeyboard = (d: HidDeviceInfo) => d.usagePage === 0x01 && d.usage === 0x06;
const modeOf = (d: HidDeviceInfo): 'keyboard' | 'pos' => (d.usagePage === POS_USAGE_PAGE ? 'pos' : 'keyboard');
const matches = (c: ScannerConfig, d: HidDeviceInfo) =>
  c.vendorId === d.vendorId &&
  c.productId === d.productId &&
  (c.serialNumber === null || c.serialNumber === (d.serialNumber ?? null)) &&
  c.mode === modeOf(d);

interface OpenDevice {
  info: HidDeviceInfo;
  handle: HidDevice;
  feed: (report: Buffer) => Barcode[];
  flush: () => Barcode | null;
  /** The paired scanner it is, or null while open only to listen for the pairing code. */
  config: ScannerConfig | null;
}

/**
 * Reads USB HID scanners in main, so a scan reaches the station even when the window has no
 * focus, and an unplugged scanner is noticed. One scan event type for every device; the
 * renderer routes it like a keyboard-wedge scan.
 */
export class ScannerService {
  readonly #open = new Map<string, OpenDevice>();
  readonly #runtime = new Map<string, { lastScanAt: number | null; lastError: string | null }>();
  #configs: ScannerConfig[];
  #pairing: Pairing | null = null;
  #timer: NodeJS.Timeout | null = null;
  readonly #platform: NodeJS.Platform;

  constructor(private readonly deps: ScannerServiceDeps) {
    this.#configs = deps.store.load();
    this.#platform = deps.platform ?? process.platform;
  }

  start(): void {
    if (!this.deps.hid.ok) {
      this.deps.log.warn({ reason: this.deps.hid.reason }, 'USB HID scanners unavailable; keyboard wedge only');
      return;
    }
    this.refresh();
    this.#timer = setInterval(() => this.refresh(), this.deps.pollMs ?? 1000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const path of [...this.#open.keys()]) this.closeDevice(path);
  }

  /** Lists devices: opens the paired ones that appeared (re-plug), and during pairing every candidate. */
  refresh(): void {
    if (!this.deps.hid.ok) return;
    const now = this.deps.now();
    if (this.#pairing && now > this.#pairing.expiresAt) {
      this.#pairing = null;
      for (const [path, dev] of this.#open) if (!dev.config) this.closeDevice(path);
      this.emitStatus();
    }
    // Ends reads of scanners configured without a terminator.
    for (const dev of this.#open.values()) {
      const b = dev.flush();
      if (b) this.deliver(dev, b);
    }
    let devices: HidDeviceInfo[];
    try {
      devices = this.deps.hid.backend.devices();
    } catch (error) {
      this.deps.log.warn({ err: error }, 'listing HID devices failed');
      return;
    }
    const present = new Set(devices.map((d) => d.path));
    let changed = false;
    for (const [path, dev] of this.#open) {
      if (!present.has(path)) {
        this.closeDevice(path);
        if (dev.config) changed = true;
      }
    }
    for (const info of devices) {
      if (this.#open.has(info.path)) continue;
      const config = this.#configs.find((c) => matches(c, info)) ?? null;
      const listenForPairing = this.#pairing !== null && (info.usagePage === POS_USAGE_PAGE || isKeyboard(info) || info.usagePage === undefined);
      if (!config && !listenForPairing) continue;
      if (this.#platform === 'win32' && isKeyboard(info)) continue; // Windows does not let keyboards be opened
      if (this.openDevice(info, config) && config) changed = true;
    }
    if (changed) this.emitStatus();
  }

  private openDevice(info: HidDeviceInfo, config: ScannerConfig | null): boolean {
    if (!this.deps.hid.ok) return false;
    let handle: HidDevice;
    try {
      handle = this.deps.hid.backend.open(info.path);
    } catch (error) {
      if (config) this.setError(config.id, error);
      return false;
    }
    const mode = modeOf(info);
    const kb = new KeyboardReportDecoder({ interReportTimeoutMs: 100 });
    const pos = new PosReportDecoder();
    const dev: OpenDevice = {
      info,
      handle,
      config,
      feed: (r) => (mode === 'pos' ? pos.feed(r) : kb.feed(r, this.deps.now())),
      flush: () => (mode === 'pos' ? null : kb.flushIfIdle(this.deps.now())),
    };
    this.#open.set(info.path, dev);
    handle.on('data', (report) => {
      // One bad report must not take the device down.
      try {
        for (const b of dev.feed(report)) this.deliver(dev, b);
      } catch (error) {
        this.deps.log.warn({ err: error, path: info.path }, 'could not decode a HID report');
      }
    });
    handle.on('error', (error) => {
      this.deps.log.warn({ path: info.path, message: error.message }, 'scanner read failed (unplugged?)');
      if (dev.config) this.setError(dev.config.id, error);
      this.closeDevice(info.path);
      if (dev.config) this.emitStatus();
    });
    if (config) this.runtime(config.id).lastError = null;
    return true;
  }

  private closeDevice(path: string): void {
    const dev = this.#open.get(path);
    if (!dev) return;
    this.#open.delete(path);
    dev.handle.removeAllListeners();
    try {
      dev.handle.close();
    } catch {
      // Already gone with the cable.
    }
  }

  private deliver(dev: OpenDevice, barcode: Barcode): void {
    if (this.#pairing && barcode.code === this.#pairing.code) {
      this.pair(dev, this.#pairing);
      return;
    }
    if (!dev.config) return; // open only to listen for the pairing code
    this.runtime(dev.config.id).lastScanAt = this.deps.now();
    this.deps.onScan({ barcode, scanner: dev.config });
  }

  private pair(dev: OpenDevice, pairing: Pairing): void {
    this.#pairing = null;
    let config = this.#configs.find((c) => matches(c, dev.info));
    if (!config) {
      config = {
        id: randomUUID(),
        name: `${dev.info.product?.trim() || 'Scanner'} ${this.#configs.length + 1}`,
        vendorId: dev.info.vendorId,
        productId: dev.info.productId,
        serialNumber: dev.info.serialNumber || null,
        mode: modeOf(dev.info),
        target: this.deps.newScannerTarget?.(dev.info.vendorId) ?? 'any',
      };
      this.#configs = [...this.#configs, config];
      this.deps.store.save(this.#configs, { action: 'scanners.paired', scanner: config, actor: pairing.actor });
    }
    dev.config = config;
    // Devices opened only to hear the pairing code are closed again.
    for (const [path, other] of this.#open) if (!other.config) this.closeDevice(path);
    this.emitStatus();
  }

  /** `actor`: the admin who asked; the scanner that reads the code is paired in their name. */
  startPairing(actor: AuditActor): { code: string; expiresAt: number } {
    if (!this.deps.hid.ok) throw new DomainError('conflict', `USB scanners are unavailable here: ${this.deps.hid.reason}`);
    // Letters and digits a scanner reads in any layout; no ambiguous 0/O, 1/I.
    const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
    const code = `PAIR-${[...randomBytes(6)].map((b) => alphabet[b % alphabet.length]).join('')}`;
    this.#pairing = { code, expiresAt: this.deps.now() + PAIRING_MS, actor };
    this.refresh();
    this.emitStatus();
    return { code, expiresAt: this.#pairing.expiresAt };
  }

  cancelPairing(): null {
    this.#pairing = null;
    for (const [path, dev] of this.#open) if (!dev.config) this.closeDevice(path);
    this.emitStatus();
    return null;
  }

  update(id: string, patch: { name?: string; target?: ScannerTarget }, actor: AuditActor): ScannerStatus {
    const config = this.#configs.find((c) => c.id === id);
    if (!config) throw new DomainError('not_found', 'No such scanner');
    const next = { ...config, ...patch };
    this.#configs = this.#configs.map((c) => (c.id === id ? next : c));
    for (const dev of this.#open.values()) if (dev.config?.id === id) dev.config = next;
    this.deps.store.save(this.#configs, { action: 'scanners.updated', scanner: next, actor });
    this.emitStatus();
    return this.overview().scanners.find((s) => s.id === id)!;
  }

  remove(id: string, actor: AuditActor): null {
    const config = this.#configs.find((c) => c.id === id);
    if (!config) throw new DomainError('not_found', 'No such scanner');
    this.#configs = this.#configs.filter((c) => c.id !== id);
    for (const [path, dev] of this.#open) if (dev.config?.id === id) this.closeDevice(path);
    this.deps.store.save(this.#configs, { action: 'scanners.removed', scanner: config, actor });
    this.emitStatus();
    return null;
  }

  devices(): HidDeviceRow[] {
    if (!this.deps.hid.ok) return [];
    return this.deps.hid.backend.devices().map((d) => ({
      path: d.path,
      vendorId: d.vendorId,
      productId: d.productId,
      product: d.product ?? null,
      manufacturer: d.manufacturer ?? null,
      usagePage: d.usagePage ?? null,
      pairedAs: this.#configs.find((c) => matches(c, d))?.name ?? null,
    }));
  }

  overview(): ScannersOverview {
    const hid = this.deps.hid;
    const present = hid.ok ? safeList(() => hid.backend.devices()) : [];
    return {
      available: hid.ok,
      reason: hid.ok ? null : hid.reason,
      pairing: this.#pairing && { code: this.#pairing.code, expiresAt: this.#pairing.expiresAt },
      scanners: this.#configs.map((c) => {
        const open = [...this.#open.values()].some((d) => d.config?.id === c.id);
        const info = present.find((d) => matches(c, d));
        const windowsKeyboard = this.#platform === 'win32' && c.mode === 'keyboard';
        const rt = this.runtime(c.id);
        return {
          ...c,
          state: windowsKeyboard ? 'keyboard-wedge' : open && info ? 'connected' : 'disconnected',
          lastScanAt: rt.lastScanAt,
          lastError: rt.lastError,
          note: windowsKeyboard
            ? 'Windows keeps keyboard-mode scanners for itself: this one works through the keyboard-wedge path (or switch it to HID POS mode).'
            : null,
        };
      }),
    };
  }

  private runtime(id: string) {
    let rt = this.#runtime.get(id);
    if (!rt) this.#runtime.set(id, (rt = { lastScanAt: null, lastError: null }));
    return rt;
  }

  private setError(id: string, error: unknown): void {
    this.runtime(id).lastError = error instanceof Error ? error.message : String(error);
  }

  private emitStatus(): void {
    this.deps.onStatus(this.overview());
  }
}

function safeList(fn: () => HidDeviceInfo[]): HidDeviceInfo[] {
  try {
    return fn();
  } catch {
    return [];
  }
}
