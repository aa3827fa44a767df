import type { UpdateSettings } from '../../shared/update-settings';
import { nextRun, previousRun } from '../upstreams/zoned-time';

/**
 * When a downloaded update may install (issue 17): never while work runs; at once when nobody is
 * signed in; in the station's quiet hours even with someone signed in; otherwise it waits.
 *
 * Locked sessions count as signed in: a person left a screen mid-task and comes back to it, and an
 * install restarts Dockside and signs them out. Their install waits for the quiet hours, or for the
 * shift's end, which signs everyone out.
 *
 * Pure: the caller passes the clock, the zone, who is signed in and what work runs.
 */

/** What the updater holds. */
export type PolicyUpdateState =
  { kind: 'none' } | { kind: 'available'; version: string } | { kind: 'downloading'; version: string } | { kind: 'downloaded'; version: string };

export interface Presence {
  /** Windows with someone signed in, locked or not. */
  signedIn: number;
  /** Of those, how many are idle-locked. */
  locked: number;
}

export interface WorkInProgress {
  /** When the last scan was stored (ms since 1970), or null. */
  lastScanAt: number | null;
  /** Import and export jobs (and other background jobs) queued or running. */
  jobsRunning: number;
  /** Trip executions waiting or sending manifests. */
  tripExecutionsRunning: number;
  /** Stock verification counts open (started and not finalized or cancelled). */
  openCounts: number;
}

/** A scan this recent means someone is scanning: an install would cut them off. */
export const SCAN_QUIET_MS = 5 * 60_000;

export interface PolicyInput {
  state: PolicyUpdateState;
  presence: Presence;
  work: WorkInProgress;
  now: number;
  /** IANA zone of the station's local time (its quiet hours are local). */
  timeZone: string;
  quietHours: UpdateSettings['quietHours'];
  scanQuietMs?: number;
}

export interface InstallDecision {
  installNow: boolean;
  /** Why, in words, for Admin → Station and the log. */
  reason: string;
  /** Start of the quiet hours now open or next to open (null without quiet hours). */
  nextWindow: Date | null;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** What work runs, in words; empty when none. */
export function workInWords(work: WorkInProgress, now: number, scanQuietMs = SCAN_QUIET_MS): string[] {
  const out: string[] = [];
  if (work.lastScanAt !== null && now - work.lastScanAt < scanQuietMs) {
    out.push(`a scan ${Math.max(0, Math.round((now - work.lastScanAt) / 1000))} s ago`);
  }
  if (work.jobsRunning > 0) out.push(plural(work.jobsRunning, 'import or export running', 'imports or exports running'));
  if (work.tripExecutionsRunning > 0) out.push(plural(work.tripExecutionsRunning, 'trip execution running', 'trip executions running'));
  if (work.openCounts > 0) out.push(plural(work.openCounts, 'stock count open', 'stock counts open'));
  return out;
}

/**
 * The quiet hours around `now`: whether they are open, and the start of the open or next window.
 * from = to is an empty window (never open). A window may cross midnight (22:00–04:00).
 */
export function quietWindow(quietHours: UpdateSettings['quietHours'], now: number, timeZone: string): { open: boolean; start: number | null } {
  if (!quietHours || quietHours.from === quietHours.to) return { open: false, start: null };
  const lastStart = previousRun(timeZone, [quietHours.from], now);
  const lastEnd = previousRun(timeZone, [quietHours.to], now);
  const open = lastStart !== null && (lastEnd === null || lastStart > lastEnd);
  return { open, start: open ? lastStart : nextRun(timeZone, [quietHours.from], now) };
}

export function installDecision(input: PolicyInput): InstallDecision {
  const { state, presence, work, now, timeZone, quietHours } = input;
  const window = quietWindow(quietHours, now, timeZone);
  const nextWindow = window.start === null ? null : new Date(window.start);
  const wait = (reason: string): InstallDecision => ({ installNow: false, reason, nextWindow });

  if (state.kind === 'none') return wait('No update to install');
  if (state.kind === 'available') return wait(`Version ${state.version} is available; it downloads first`);
  if (state.kind === 'downloading') return wait(`Version ${state.version} is still downloading`);

  const busy = workInWords(work, now, input.scanQuietMs);
  if (busy.length > 0) return wait(`Waits: work is running (${busy.join(', ')})`);
  if (presence.signedIn === 0) return { installNow: true, reason: 'Nobody is signed in and no work runs', nextWindow };
  if (window.open) {
    return { installNow: true, reason: `Quiet hours (${quietHours!.from}–${quietHours!.to}) and no work runs`, nextWindow };
  }
  const who =
    presence.locked === presence.signedIn
      ? plural(presence.signedIn, 'locked session', 'locked sessions')
      : plural(presence.signedIn, 'person signed in', 'people signed in');
  return wait(
    quietHours && quietHours.from !== quietHours.to
      ? `Waits: ${who}; installs when nobody is signed in or in the quiet hours (${quietHours.from}–${quietHours.to})`
      : `Waits: ${who}; installs when nobody is signed in (no quiet hours set)`,
  );
}
