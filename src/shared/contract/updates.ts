import { channel } from './define';
import { empty } from './fields';
import type { UpdateChannel } from '../update-settings';

/**
 * Updates of this station (issue 17): what it runs, where it looks, what the updater holds and
 * when a downloaded update may install (src/main/updates/policy.ts). Admin → Station.
 */

export type UpdateStateView =
  /** This copy cannot update itself (the browser host, a development build): `why` says so. */
  | { kind: 'unsupported'; why: string }
  /** No feed set: the station does not look for updates. */
  | { kind: 'off' }
  | { kind: 'idle' }
  | { kind: 'checking' }
  | { kind: 'up-to-date'; latest: string | null }
  | { kind: 'available'; version: string }
  | { kind: 'downloading'; version: string; percent: number }
  | { kind: 'downloaded'; version: string }
  | { kind: 'installing'; version: string }
  /** The check or download failed: `message` in words. */
  | { kind: 'error'; message: string };

export interface UpdateStatus {
  version: string;
  channel: UpdateChannel;
  feedUrl: string | null;
  quietHours: { from: string; to: string } | null;
  allowDowngrade: boolean;
  state: UpdateStateView;
  /** The policy's answer for a downloaded update: installs now or why it waits. */
  install: { installNow: boolean; reason: string } | null;
  /** Start of the quiet hours now open or next to open (ms since 1970), null without quiet hours. */
  nextWindow: number | null;
  /** The station's staged-rollout id and where it falls (0–100): a release at stagingPercentage P reaches it when bucket < P. */
  rollout: { id: string; bucket: number } | null;
  lastCheckedAt: number | null;
}

export const updateChannels = {
  'updates/status': channel<UpdateStatus>()({
    request: empty,
    access: ['admin'],
    summary: "This station's version, update channel and feed, what the updater holds and when it may install",
  }),
  'updates/check': channel<UpdateStatus>()({
    request: empty,
    access: ['admin'],
    summary: 'Looks at the update feed now; an update found downloads in the background (audited)',
  }),
} as const;
