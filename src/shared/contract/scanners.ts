import { z } from 'zod';
import { channel } from './define';
import { empty } from './fields';

/** Which screen a scanner's reads go to: any screen that takes scans, or only one. */
export const SCANNER_TARGETS = ['any', 'scan', 'bills', 'trips'] as const;
export type ScannerTarget = (typeof SCANNER_TARGETS)[number];

/** A paired scanner as the station stores it. */
export interface ScannerConfig {
  id: string;
  name: string;
  vendorId: number;
  productId: number;
  serialNumber: string | null;
  mode: 'keyboard' | 'pos';
  target: ScannerTarget;
}

export interface ScannerStatus extends ScannerConfig {
  state: 'connected' | 'disconnected' | 'keyboard-wedge';
  lastScanAt: number | null;
  lastError: string | null;
  /** A platform note for this device, e.g. Windows keeps keyboard-mode scanners to itself. */
  note: string | null;
}

export interface ScannersOverview {
  /** False when node-hid could not load: keyboard-wedge scanners only. */
  available: boolean;
  reason: string | null;
  scanners: ScannerStatus[];
  pairing: { code: string; expiresAt: number } | null;
}

export interface HidDeviceRow {
  path: string;
  vendorId: number;
  productId: number;
  product: string | null;
  manufacturer: string | null;
  usagePage: number | null;
  pairedAs: string | null;
}

const scannerId = z.string().min(1).max(64);

export const scannerChannels = {
  'scanners/status': channel<ScannersOverview>()({
    request: empty,
    access: 'signed-in',
    summary: 'Scanner availability and each paired scanner’s state.',
  }),
  'scanners/devices': channel<HidDeviceRow[]>()({
    request: empty,
    access: ['admin'],
    summary: 'HID devices connected to this station.',
  }),
  'scanners/pair-start': channel<{ code: string; expiresAt: number }>()({
    request: empty,
    access: ['admin'],
    summary: 'Start pairing: the next device that reads the shown code becomes a station scanner.',
  }),
  'scanners/pair-cancel': channel<null>()({
    request: empty,
    access: ['admin'],
    summary: 'Stop pairing.',
  }),
  'scanners/update': channel<ScannerStatus>()({
    request: z.strictObject({
      id: scannerId,
      name: z.string().trim().min(1, 'Name is required').max(40, 'At most 40 characters').optional(),
      target: z.enum(SCANNER_TARGETS).optional(),
    }),
    access: ['admin'],
    summary: 'Rename a scanner or send its reads to one screen.',
  }),
  'scanners/remove': channel<null>()({
    request: z.strictObject({ id: scannerId }),
    access: ['admin'],
    summary: 'Forget a paired scanner.',
  }),
};
