import { channel } from './define';
import { empty } from './fields';

/** One local hour of today: when it starts (ms), its label ("07:00"), and the scans in it. */
export interface DashboardHour {
  start: number;
  label: string;
  scans: number;
}

/** Scans today from one dock door: a paired scanner by its name, else how the scans came in. */
export interface DashboardDoor {
  door: string;
  scans: number;
  linked: number;
}

/** One person's scans today, by display name only. */
export interface DashboardPerson {
  name: string;
  scans: number;
  linked: number;
}

/** An upstream's backlog: records waiting to be sent, and records stuck for an admin. */
export interface DashboardBacklog {
  upstream: string;
  queued: number;
  stuck: number;
  /** Whether the last try reached it; null when this station does not send to it (records wait). */
  online: boolean | null;
}

/** The station's own operations today (its local day), as the dashboard shows them. */
export interface DashboardToday {
  /** When the figures were computed, and the local day they cover [dayStart, dayEnd). */
  computedAt: number;
  dayStart: number;
  dayEnd: number;
  /** "Thursday 26 November 2026" in the station's time zone, and that zone. */
  dayLabel: string;
  timeZone: string;
  scans: { total: number; linked: number; refused: number; hours: DashboardHour[]; doors: DashboardDoor[]; people: DashboardPerson[] };
  /** Bags created today (scanned or imported), and how many of them are parents. */
  bags: { created: number; parents: number; children: number };
  /** Bills open now (drafts, whenever started), started today, and finalized today. */
  bills: { open: number; startedToday: number; finalizedToday: number };
  /** Import and export jobs started today: how many finished well, failed, or are still running. */
  jobs: { imports: JobCounts; exports: JobCounts };
  backlog: DashboardBacklog[];
  /** This station's scan → stored latency over the last hour, measured in main; null without scans. */
  latency: { samples: number; p50Ms: number | null; p95Ms: number | null; windowMinutes: number };
}

export interface JobCounts {
  total: number;
  succeeded: number;
  failed: number;
  running: number;
}

export const dashboardChannels = {
  'dashboard/today': channel<DashboardToday>()({
    request: empty,
    access: 'signed-in',
    summary: "Today's figures for this station: scans per hour, door and person; bags, bills, imports, exports, sync backlog, scan latency.",
  }),
};

/** The push: no figures, so a burst costs one computation when a window asks, not one per change. */
export interface DashboardChanged {
  at: number;
}
