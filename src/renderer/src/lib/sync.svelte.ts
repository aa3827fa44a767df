import type { UpstreamStatus } from '../../../shared/contract/sync';
import { call } from './client';

/** Upstream sync status for the top bar, refreshed every few seconds while signed in. */
export const syncState = $state({ upstreams: [] as UpstreamStatus[] });

export async function refreshSync(): Promise<void> {
  const r = await call('sync/status', {});
  if (r.ok) syncState.upstreams = r.value;
}

export function trackSync(): () => void {
  void refreshSync();
  const t = setInterval(() => void refreshSync(), 5000);
  return () => clearInterval(t);
}
