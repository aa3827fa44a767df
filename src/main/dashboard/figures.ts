import type Database from 'better-sqlite3';
import type { DashboardBacklog, DashboardDoor, DashboardPerson, DashboardToday, JobCounts } from '../../shared/contract/dashboard';
import type { LocalDay } from './local-day';

/** Scan results the door refused (the person had to act); the rest were taken. */
const REFUSED = new Set(['conflict', 'invalid', 'no_parent', 'bill_closed']);

const SOURCE_LABELS: Record<string, string> = { wedge: 'Keyboard scanner', manual: 'Typed in', hid: 'USB scanner' };

/** The door a scan came from: the paired scanner's name, else how it came in; another station's is prefixed by its id. */
export function doorLabel(stationId: string, ownStationId: string, source: string, device: string | null): string {
  const how = device?.trim() || SOURCE_LABELS[source] || source;
  return stationId === ownStationId ? how : `${stationId} · ${how}`;
}

const emptyJobs = (): JobCounts => ({ total: 0, succeeded: 0, failed: 0, running: 0 });

/**
 * Today's figures, each from an index range of the day (scans_at, bags_created, bills_created,
 * bills_finalized, jobs_kind_created) or a partial index (outbox_pending, outbox_stuck), so months
 * of history are never read. The scans are read once, grouped by hour, door and person together.
 */
export class DashboardFigures {
  readonly #sql: ReturnType<typeof statements>;

  constructor(
    private readonly sqlite: Database.Database,
    private readonly stationId: () => string,
  ) {
    this.#sql = statements(sqlite);
  }

  compute(day: LocalDay, timeZone: string, now: number): Omit<DashboardToday, 'latency' | 'backlog'> & { backlog: DashboardBacklog[] } {
    const range = { start: day.start, end: day.end };
    const own = this.stationId();
    const hours = day.hours.map((h) => ({ ...h, scans: 0 }));
    const doors = new Map<string, DashboardDoor>();
    const people = new Map<number | null, { scans: number; linked: number }>();
    let total = 0;
    let linked = 0;
    let refused = 0;
    const groups = this.#sql.scans.all(range) as {
      hour: number;
      station_id: string;
      source: string;
      device: string | null;
      user_id: number | null;
      result: string;
      n: number;
    }[];
    for (const g of groups) {
      const isLinked = g.result === 'linked' ? g.n : 0;
      total += g.n;
      linked += isLinked;
      if (REFUSED.has(g.result)) refused += g.n;
      const hour = hours[Math.min(Math.max(g.hour, 0), hours.length - 1)];
      if (hour) hour.scans += g.n;
      const door = doorLabel(g.station_id, own, g.source, g.device);
      const d = doors.get(door) ?? { door, scans: 0, linked: 0 };
      d.scans += g.n;
      d.linked += isLinked;
      doors.set(door, d);
      const p = people.get(g.user_id) ?? { scans: 0, linked: 0 };
      p.scans += g.n;
      p.linked += isLinked;
      people.set(g.user_id, p);
    }
    const names = new Map<number, string>();
    for (const id of people.keys()) {
      if (id === null) continue;
      const row = this.#sql.userName.get(id) as { display_name: string } | undefined;
      names.set(id, row?.display_name ?? 'Removed user');
    }
    const byScans = <T extends { scans: number }>(a: T, b: T) => b.scans - a.scans;
    const peopleList: DashboardPerson[] = [...people].map(([id, p]) => ({ name: id === null ? 'Unknown' : names.get(id)!, ...p })).sort(byScans);

    const bagRows = this.#sql.bags.all(range) as { kind: string; n: number }[];
    const parents = bagRows.find((r) => r.kind === 'parent')?.n ?? 0;
    const children = bagRows.find((r) => r.kind === 'child')?.n ?? 0;

    const bills = this.#sql.bills.get(range) as { open: number; started: number; finalized: number };

    const jobs = { imports: emptyJobs(), exports: emptyJobs() };
    for (const r of this.#sql.jobs.all(range) as { kind: string; status: string; n: number }[]) {
      const c = r.kind === 'import' ? jobs.imports : jobs.exports;
      c.total += r.n;
      if (r.status === 'succeeded') c.succeeded += r.n;
      else if (r.status === 'failed' || r.status === 'cancelled') c.failed += r.n;
      else c.running += r.n;
    }

    const backlog = new Map<string, DashboardBacklog>();
    for (const r of this.#sql.pending.all() as { upstream: string; n: number }[])
      backlog.set(r.upstream, { upstream: r.upstream, queued: r.n, stuck: 0, online: null });
    for (const r of this.#sql.stuck.all() as { upstream: string; n: number }[]) {
      const b = backlog.get(r.upstream) ?? { upstream: r.upstream, queued: 0, stuck: 0, online: null };
      b.stuck = r.n;
      backlog.set(r.upstream, b);
    }

    return {
      computedAt: now,
      dayStart: day.start,
      dayEnd: day.end,
      dayLabel: day.label,
      timeZone,
      scans: { total, linked, refused, hours, doors: [...doors.values()].sort(byScans), people: peopleList },
      bags: { created: parents + children, parents, children },
      bills: { open: bills.open, startedToday: bills.started, finalizedToday: bills.finalized },
      jobs,
      backlog: [...backlog.values()],
    };
  }
}

/** The dashboard's statements; `@start` and `@end` bound to the local day. Exported for the query-plan test and the bench. */
export const DASHBOARD_SQL = {
  // One pass over the day's range of scans_at. (at - start) / 3600000 is the hour's place in
  // LocalDay.hours, since every hour of a local day, DST days too, starts a whole hour after midnight;
  // the CAST keeps it whole when the bound numbers arrive as REAL.
  scans: `
    SELECT CAST((at - @start) / 3600000 AS INTEGER) AS hour, station_id, source, device, user_id, result, count(*) AS n
    FROM scans WHERE at >= @start AND at < @end
    GROUP BY hour, station_id, source, device, user_id, result`,
  userName: 'SELECT display_name FROM users WHERE id = ?',
  bags: 'SELECT kind, count(*) AS n FROM bags WHERE created_at >= @start AND created_at < @end GROUP BY kind',
  bills: `
    SELECT (SELECT count(*) FROM bills WHERE status = 'draft') AS open,
      (SELECT count(*) FROM bills WHERE created_at >= @start AND created_at < @end) AS started,
      (SELECT count(*) FROM bills WHERE finalized_at >= @start AND finalized_at < @end) AS finalized`,
  jobs: `
    SELECT kind, status, count(*) AS n FROM jobs
    WHERE kind IN ('import', 'export') AND created_at >= @start AND created_at < @end GROUP BY kind, status`,
  pending: "SELECT upstream, count(*) AS n FROM outbox WHERE status = 'pending' GROUP BY upstream",
  stuck: "SELECT upstream, count(*) AS n FROM outbox WHERE status = 'error' GROUP BY upstream",
} as const;

function statements(db: Database.Database) {
  const prepared = {} as Record<keyof typeof DASHBOARD_SQL, Database.Statement>;
  for (const [name, sql] of Object.entries(DASHBOARD_SQL)) prepared[name as keyof typeof DASHBOARD_SQL] = db.prepare(sql);
  return prepared;
}
