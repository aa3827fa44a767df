import type { ScannersOverview } from '../../../shared/contract/scanners';
import { call, on } from './client';
import { play } from './sounds';

/**
 * Paired scanners and their state. A scanner that goes from connected to unplugged is "lost":
 * a banner and an alarm every few seconds until it is back or an admin removes it.
 */
export const scannerState = $state({ overview: null as ScannersOverview | null, lost: [] as string[] });

let alarm: ReturnType<typeof setInterval> | null = null;

function apply(next: ScannersOverview): void {
  const before = new Map((scannerState.overview?.scanners ?? []).map((s) => [s.id, s.state]));
  const stillLost = scannerState.lost.filter((name) => next.scanners.some((s) => s.name === name && s.state === 'disconnected'));
  const newlyLost = next.scanners.filter((s) => s.state === 'disconnected' && before.get(s.id) === 'connected').map((s) => s.name);
  scannerState.overview = next;
  scannerState.lost = [...new Set([...stillLost, ...newlyLost])];
  if (scannerState.lost.length > 0 && !alarm) {
    play('error');
    alarm = setInterval(() => play('error'), 4000);
  } else if (scannerState.lost.length === 0 && alarm) {
    clearInterval(alarm);
    alarm = null;
  }
}

/** Starts following scanner status; returns the stop function. */
export function trackScanners(): () => void {
  void call('scanners/status', {}).then((r) => {
    if (r.ok) apply(r.value);
  });
  const off = on('scanner/status', apply);
  return () => {
    off();
    if (alarm) clearInterval(alarm);
    alarm = null;
    scannerState.lost = [];
  };
}

/** For the Admin panel, which changes scanners and wants the answer at once. */
export function setScannerOverview(next: ScannersOverview): void {
  apply(next);
}
