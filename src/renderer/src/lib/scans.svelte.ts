import type { ScanSource } from '../../../shared/contract/bags';
import { on } from './client';
import { reportActivity } from './session.svelte';
import { ui } from './ui.svelte';
import { DEFAULT_WEDGE, WedgeDetector } from './wedge';

/**
 * One path for every scan in the renderer: keyboard-wedge bursts (detected here) and, later,
 * HID scans pushed by main. The screen on view registers the handler; with none, the scan is
 * reported as unused instead of vanishing.
 */
export type ScanHandler = (code: string, source: ScanSource, device?: string) => void;

let handler: ScanHandler | null = null;
export const scanBus = $state({ unused: null as string | null });

export function useScanHandler(h: ScanHandler): () => void {
  handler = h;
  scanBus.unused = null;
  return () => {
    if (handler === h) handler = null;
  };
}

export function deliverScan(code: string, source: ScanSource, device?: string): void {
  // A USB scanner's scan arrives without a key or pointer event in this window: it is input too.
  reportActivity();
  if (handler) handler(code, source, device);
  else scanBus.unused = `Scanned ${code} — open Scan, Bills, a trip's packing or Verify → Count to use it`;
}

function isEditable(el: Element | null): el is HTMLInputElement | HTMLTextAreaElement {
  return (el instanceof HTMLInputElement && !['checkbox', 'radio', 'button', 'submit'].includes(el.type)) || el instanceof HTMLTextAreaElement;
}

/**
 * Listens on the whole window (capture phase), so a scan works wherever focus is. When a burst
 * turns out to be a scan, its characters are taken back out of whatever field they landed in.
 */
export function installWedge(): () => void {
  const detector = new WedgeDetector(DEFAULT_WEDGE);
  let snapshot: { el: HTMLInputElement | HTMLTextAreaElement; value: string; start: number | null; end: number | null } | null = null;

  const onKey = (e: KeyboardEvent) => {
    if (e.ctrlKey || e.altKey || e.metaKey) {
      detector.reset();
      return;
    }
    const verdict = detector.key(e.key, e.timeStamp);
    if (verdict.kind === 'char' && verdict.first) {
      const el = document.activeElement;
      snapshot = isEditable(el) ? { el, value: el.value, start: el.selectionStart, end: el.selectionEnd } : null;
    } else if (verdict.kind === 'scan') {
      e.preventDefault();
      e.stopPropagation();
      if (snapshot && snapshot.el.value !== snapshot.value) {
        snapshot.el.value = snapshot.value;
        snapshot.el.dispatchEvent(new Event('input', { bubbles: true }));
        if (snapshot.start !== null) snapshot.el.setSelectionRange(snapshot.start, snapshot.end);
      }
      snapshot = null;
      deliverScan(verdict.code, 'wedge');
    }
  };
  window.addEventListener('keydown', onKey, { capture: true });
  return () => window.removeEventListener('keydown', onKey, { capture: true });
}

/** USB HID scans come from main as events; the window whose screen the scanner serves takes them. */
export function listenForDeviceScans(): () => void {
  return on('scanner/scan', (s) => {
    if (s.target === 'any' || s.target === ui.screen) deliverScan(s.code, 'hid', s.scannerName);
  });
}
