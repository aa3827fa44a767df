import type { SiteStatus } from '../../../shared/contract/site';
import { call, on } from './client';

/**
 * This station's place in a site (issue 15): its membership, the hub's feed and the conflicts
 * waiting, for the top bar, Admin → Station and the Scan screen. Main pushes `site/changed`;
 * `changes` counts the pushes so a screen that lists conflicts knows to ask again.
 */
export const siteState = $state({ status: null as SiteStatus | null, changes: 0 });

export function setSiteStatus(status: SiteStatus): void {
  siteState.status = status;
  siteState.changes += 1;
}

export async function refreshSite(): Promise<void> {
  const r = await call('site/status', {});
  if (r.ok) setSiteStatus(r.value);
}

/** Starts following the site's state while someone is signed in; returns the stop function. */
export function trackSite(): () => void {
  void refreshSite();
  const off = on('site/changed', setSiteStatus);
  return () => {
    off();
    siteState.status = null;
  };
}

/**
 * The top bar's words for the site, short enough to sit beside the sync chip at 1366 wide:
 * "Site: connected", "Site: offline", or what needs a person, "Site: 2 conflicts".
 */
export function siteChipText(s: SiteStatus): string {
  if (s.openConflicts) return `Site: ${s.openConflicts.toLocaleString()} ${s.openConflicts === 1 ? 'conflict' : 'conflicts'}`;
  return `Site: ${s.connected ? 'connected' : 'offline'}`;
}

/** The chip's tooltip: the hub, the feed's problem, what waits. */
export function siteChipTitle(s: SiteStatus): string {
  const lines = [`Site hub ${s.member?.url ?? ''}: ${s.connected ? 'connected' : `not connected${s.problem ? ` (${s.problem})` : ''}`}`];
  if (s.waiting) lines.push(`${s.waiting.toLocaleString()} changes waiting to be sent`);
  if (s.openConflicts) lines.push(`${s.openConflicts.toLocaleString()} open conflicts: resolve them on the Scan screen`);
  return lines.join('\n');
}
