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
