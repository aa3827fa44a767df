import type { DashboardChanged } from './contract/dashboard';
import type { JobView } from './contract/jobs';
import type { ScannersOverview, ScannerTarget } from './contract/scanners';
import type { SessionInfo } from './contract/session';
import type { SiteStatus } from './contract/site';
import type { TripExecutionView } from './contract/trip-execution';
import type { UpdateStatus } from './contract/updates';
import type { VerifyChanged } from './contract/verify';

/**
 * Events main pushes to the renderer. Kept free of zod so the preload bundle stays tiny:
 * the preload imports only EVENT_NAMES to allow-list subscriptions.
 */
export interface EventMap {
  /** The session changed without the renderer asking: idle lock, account disabled, role changed. */
  'session/changed': SessionInfo;
  /** A USB HID scanner read a barcode; the window on the target screen takes it. */
  'scanner/scan': { code: string; aim: string | null; scannerId: string; scannerName: string; target: ScannerTarget };
  /** A scanner was plugged, unplugged, paired, renamed or removed. */
  'scanner/status': ScannersOverview;
  /** A background job moved on, finished or failed (to signed-in windows). */
  'job/progress': JobView;
  /** A trip's execution moved on, waits for BioTrack, finished or failed (to its starter and admins). */
  'trip/progress': TripExecutionView;
  /** Today's figures changed (a scan, bill, import, export or sync); at most one a second. Ask dashboard/today. */
  'dashboard/changed': DashboardChanged;
  /** The site hub's feed connected or dropped, or a conflict arrived or was resolved. Ask site/conflicts. */
  'site/changed': SiteStatus;
  /** Stock verification: racks, leases (a claim, release or break anywhere on the site), a session, records or notices changed. */
  'verify/changed': VerifyChanged;
  /** The updater checked, downloaded, failed or is about to install (to signed-in admins). Admin → Station. */
  'updates/changed': UpdateStatus;
}

export type EventName = keyof EventMap;
export const EVENT_NAMES = [
  'session/changed',
  'scanner/scan',
  'scanner/status',
  'job/progress',
  'trip/progress',
  'dashboard/changed',
  'site/changed',
  'verify/changed',
  'updates/changed',
] as const satisfies readonly EventName[];
