import type Database from 'better-sqlite3';
import type { DashboardToday } from '../../shared/contract/dashboard';
import type { ScanSource } from '../../shared/contract/bags';
import type { UpstreamStatus } from '../../shared/contract/sync';
import type { Timers } from '../platform/timers';
import { DashboardFigures } from './figures';
import { LATENCY_WINDOW_MS, LatencyRing } from './latency';
import { localDay, type LocalDay } from './local-day';

/** At most one `dashboard/changed` a second: a burst of 100 scans is one push, one computation. */
export const DASHBOARD_PUSH_EVERY_MS = 1000;
/** A HID report waits this long for the window's bags/scan that stores it; later, it is forgotten. */
const HID_ARRIVAL_KEEP_MS = 60_000;
const HID_ARRIVALS_MAX = 256;

export interface DashboardDeps {
  sqlite: Database.Database;
  stationId: () => string;
  now: () => number;
  timers: Timers;
  /** IANA zone of the station's local day; the system's by default. */
  timeZone: () => string;
  /** The outbox upstreams this station sends to (online or not), from the drainer. */
  syncStatus: () => UpstreamStatus[];
  /** Tells every signed-in window that today's figures changed. */
  push: (at: number) => void;
  /** Monotonic milliseconds for latency; the router's `receivedAt` comes from the same clock. */
  monotonic?: () => number;
}

/**
 * Today's figures, computed lazily: a change only bumps a generation and schedules a push; the
 * figures are computed when a window asks, once per generation however many windows ask.
 */
export class DashboardService {
  readonly #figures: DashboardFigures;
  readonly #latency = new LatencyRing();
  readonly #hidArrivals = new Map<string, number>();
  readonly #monotonic: () => number;
  #generation = 0;
  #cached: { generation: number; dayStart: number; timeZone: string; value: Omit<DashboardToday, 'latency'> } | null = null;
  #lastPushAt = Number.NEGATIVE_INFINITY;
  #pendingPush: (() => void) | null = null;
  #rollover: (() => void) | null = null;
  #closed = false;
  /** How many times the figures were computed (tests check that a burst costs one). */
  computations = 0;

  constructor(private readonly deps: DashboardDeps) {
    this.#figures = new DashboardFigures(deps.sqlite, deps.stationId);
    this.#monotonic = deps.monotonic ?? (() => performance.now());
    this.#scheduleRollover();
  }

  today(): DashboardToday {
    const now = this.deps.now();
    const timeZone = this.deps.timeZone();
    const day = localDay(now, timeZone);
    const c = this.#cached;
    const value =
      c && c.generation === this.#generation && c.dayStart === day.start && c.timeZone === timeZone ? c.value : this.#compute(day, timeZone, now);
    return { ...value, latency: this.latency() };
  }

  /** This station's scan latency over the last hour, without today's figures (Admin → Health). */
  latency(): DashboardToday['latency'] {
    return { ...this.#latency.summary(this.deps.now()), windowMinutes: LATENCY_WINDOW_MS / 60_000 };
  }

  #compute(day: LocalDay, timeZone: string, now: number): Omit<DashboardToday, 'latency'> {
    this.computations++;
    const generation = this.#generation;
    const figures = this.#figures.compute(day, timeZone, now);
    // Upstreams this station sends to are listed even with nothing waiting, with whether they answer.
    const backlog = new Map(figures.backlog.map((b) => [b.upstream, b]));
    for (const s of this.deps.syncStatus()) {
      const b = backlog.get(s.upstream) ?? { upstream: s.upstream, queued: 0, stuck: 0, online: null };
      b.online = s.online;
      backlog.set(s.upstream, b);
    }
    const value = { ...figures, backlog: [...backlog.values()].sort((a, b) => a.upstream.localeCompare(b.upstream)) };
    this.#cached = { generation, dayStart: day.start, timeZone, value };
    return value;
  }

  /** Something today's figures count changed: the next push says so, at most one a second. */
  changed(): void {
    if (this.#closed) return;
    this.#generation++;
    if (this.#pendingPush) return;
    const wait = this.#lastPushAt + DASHBOARD_PUSH_EVERY_MS - this.deps.now();
    if (wait <= 0) this.#push();
    else
      this.#pendingPush = this.deps.timers.after(wait, () => {
        this.#pendingPush = null;
        this.#push();
      });
  }

  #push(): void {
    this.#lastPushAt = this.deps.now();
    this.deps.push(this.#lastPushAt);
  }

  /** At local midnight the dashboard turns to the new day by itself: windows are told once. */
  #scheduleRollover(): void {
    const now = this.deps.now();
    const { end } = localDay(now, this.deps.timeZone());
    this.#rollover = this.deps.timers.after(Math.max(end - now, 1), () => {
      this.#rollover = null;
      if (this.#closed) return;
      this.changed();
      this.#scheduleRollover();
    });
  }

  /** A USB scanner's report reached main: its scan's latency counts from here. `at` is monotonic ms. */
  hidArrived(code: string, at = this.#monotonic()): void {
    this.#hidArrivals.delete(code);
    this.#hidArrivals.set(code, at);
    // Oldest first in a Map: drop reports that never became a stored scan.
    for (const [k, t] of this.#hidArrivals) {
      if (this.#hidArrivals.size <= HID_ARRIVALS_MAX && at - t <= HID_ARRIVAL_KEEP_MS) break;
      this.#hidArrivals.delete(k);
    }
  }

  /**
   * A scan's row was committed. `receivedAt` is when its IPC call reached main (monotonic ms); a
   * HID scan counts from its report instead, when that arrived in the last minute.
   */
  scanStored(code: string, source: ScanSource, receivedAt: number): void {
    const stored = this.#monotonic();
    let from = receivedAt;
    if (source === 'hid') {
      const report = this.#hidArrivals.get(code);
      if (report !== undefined) {
        this.#hidArrivals.delete(code);
        if (stored - report <= HID_ARRIVAL_KEEP_MS) from = Math.min(from, report);
      }
    }
    this.#latency.record(this.deps.now(), Math.max(0, stored - from));
    this.changed();
  }

  close(): void {
    this.#closed = true;
    this.#pendingPush?.();
    this.#pendingPush = null;
    this.#rollover?.();
    this.#rollover = null;
  }
}
