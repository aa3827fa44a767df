import type { SiteStatus } from '../../../shared/contract/site';
import { upstreamLabel, type UpstreamStatus } from '../../../shared/contract/sync';

export interface SyncChip {
  text: string;
  /** Everything online and nothing for a person to resolve: green; otherwise red. */
  ok: boolean;
  /** Each problem on a line, for the tooltip. */
  title: string;
}

/**
 * The top bar's one sync chip: the upstreams (the site hub is the bags upstream), what waits,
 * what is stuck, and — for a station in a site — a feed that is down and the conflicts to resolve
 * on the Scan screen. One chip rather than two, so the bar stays one line at 1366 wide.
 * Up to two offline upstreams by name; more would crowd Sign out off the bar (Admin → Sync lists them).
 */
export function syncChip(upstreams: readonly UpstreamStatus[], site: SiteStatus | null): SyncChip | null {
  const member = site?.member ? site : null;
  if (upstreams.length === 0 && !member) return null;
  const offline = upstreams.filter((u) => !u.online).map((u) => ({ label: upstreamLabel(u.upstream), problem: u.lastError }));
  const hub = upstreamLabel('bags');
  // Sending can work while the feed is down (and the other way round): either way the station is not in step with the site.
  if (member && !member.connected && !offline.some((o) => o.label === hub)) offline.push({ label: hub, problem: member.problem });
  const waiting = upstreams.reduce((n, u) => n + u.queued, 0);
  const stuck = upstreams.reduce((n, u) => n + u.stuck, 0);
  const conflicts = member?.openConflicts ?? 0;
  const state =
    offline.length === 0
      ? 'online'
      : offline.length <= 2
        ? `offline (${offline.map((o) => o.label).join(', ')})`
        : `offline (${offline.length} upstreams)`;
  const parts = [`Sync: ${state}`];
  if (waiting) parts.push(`${waiting.toLocaleString()} waiting`);
  if (stuck) parts.push(`${stuck.toLocaleString()} stuck`);
  if (conflicts) parts.push(`${conflicts.toLocaleString()} ${conflicts === 1 ? 'conflict' : 'conflicts'}`);
  const title = offline.map((o) => `${o.label}: ${o.problem ?? 'not reachable'}`);
  if (conflicts)
    title.push(`${conflicts.toLocaleString()} ${conflicts === 1 ? 'change' : 'changes'} refused by the site: resolve on the Scan screen`);
  return { text: parts.join(' · '), ok: offline.length === 0 && conflicts === 0, title: title.join('\n') };
}
