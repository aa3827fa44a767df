import {
  DEFAULT_PREWARM_TIME_ZONE,
  type PrewarmInstanceView,
  type PrewarmResult,
  type PrewarmScheduleView,
  type PrewarmTrigger,
} from '../../shared/contract/erp-schedule';
import { ERP_ORGS, type ErpOrg, type OpenOrders } from '../../shared/contract/erp';
import type { AuditActor, AuditContext } from '../audit/record';
import type { Logger } from '../platform/logger';
import type { SettingsService } from '../settings/service';
import { describeInstant, nextRun, normalizeTimes, previousRun, stationTimeZone } from './zoned-time';

/** How often the scheduler looks at the clock: a run starts at most this late. */
export const PREWARM_CHECK_EVERY_MS = 30_000;
/** A scheduled run that starts later than this after its time is called a catch-up. */
const LATE_MS = 10 * 60_000;

const SCHEDULE_KEY = 'erp.prewarm.schedule';
const STATE_KEY = 'erp.prewarm.state';

export interface PrewarmSchedule {
  times: string[];
  timeZone: string;
}
type Schedules = Record<ErpOrg, PrewarmSchedule>;

interface InstanceState {
  /** Every scheduled time up to this one has been run or knowingly skipped. */
  handledThrough: number | null;
  last: PrewarmResult | null;
}
type States = Record<ErpOrg, InstanceState>;

export interface PrewarmDeps {
  settings: Pick<SettingsService, 'readKey' | 'writeKey' | 'storeKey'>;
  audit: AuditContext;
  erp: { openOrders(org: ErpOrg, refresh: boolean): Promise<OpenOrders>; configured(): boolean };
  now: () => number;
  log: Logger;
}

/**
 * Prewarms the ERP cache per instance at daily local times in a time zone (the ERP's users are in
 * Sydney), so a fresh copy is saved before a known blackout window. Runs go one at a time; each
 * records its result (rows cached, or why not) in the settings table, which outlives restarts.
 *
 * Missed runs: every scheduled time up to `handledThrough` is dealt with. A station that was off
 * over several scheduled times runs once when it starts (a catch-up, logged and shown as such)
 * for the latest of them, never once per missed time.
 */
export class PrewarmScheduler {
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  /** Runs one after another: one ERP read at a time. */
  #chain: Promise<void> = Promise.resolve();
  /** Instances with a run queued or under way. */
  readonly #pending = new Set<ErpOrg>();

  constructor(private readonly deps: PrewarmDeps) {}

  schedules(): Schedules {
    const stored = this.deps.settings.readKey<Partial<Schedules>>(SCHEDULE_KEY, {});
    const out = {} as Schedules;
    for (const org of ERP_ORGS) out[org] = stored[org] ?? { times: [], timeZone: DEFAULT_PREWARM_TIME_ZONE };
    return out;
  }

  /** The zone an instance's times are read in (also the one its "cooling down until" is written in). */
  timeZone(org: ErpOrg): string {
    return this.schedules()[org].timeZone;
  }

  private states(): States {
    const stored = this.deps.settings.readKey<Partial<States>>(STATE_KEY, {});
    const out = {} as States;
    for (const org of ERP_ORGS) out[org] = stored[org] ?? { handledThrough: null, last: null };
    return out;
  }

  private saveState(org: ErpOrg, change: Partial<InstanceState>): void {
    const states = this.states();
    states[org] = { ...states[org], ...change };
    this.deps.settings.storeKey(STATE_KEY, states);
  }

  /** Sets an instance's times (sorted, each once) and zone; times already past today are not "missed". */
  set(org: ErpOrg, schedule: PrewarmSchedule, actor: AuditActor): PrewarmScheduleView {
    const schedules = this.schedules();
    const next: PrewarmSchedule = { times: normalizeTimes(schedule.times), timeZone: schedule.timeZone };
    schedules[org] = next;
    this.deps.settings.writeKey(SCHEDULE_KEY, schedules, actor, this.deps.audit, { action: 'erp.prewarm_schedule_set', entityId: org, after: next });
    this.saveState(org, { handledThrough: this.deps.now() });
    return this.view();
  }

  view(): PrewarmScheduleView {
    const schedules = this.schedules();
    const states = this.states();
    const now = this.deps.now();
    const stationZone = stationTimeZone();
    const instances = ERP_ORGS.map((org): PrewarmInstanceView => {
      const { times, timeZone } = schedules[org];
      const next = nextRun(timeZone, times, now);
      return {
        org,
        times,
        timeZone,
        nextRunAt: next,
        nextRunInZone: next === null ? null : describeInstant(next, timeZone),
        nextRunStationTime: next === null ? null : describeInstant(next, stationZone),
        last: states[org].last,
        running: this.#pending.has(org),
      };
    });
    return { configured: this.deps.erp.configured(), stationTimeZone: stationZone, instances };
  }

  /**
   * Runs what is due: per instance, the latest scheduled time not yet handled, once. `startup`
   * marks the check made when the station starts, whose runs are catch-ups by definition.
   * Resolves when the runs it queued have finished.
   */
  tick(startup = false): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    const now = this.deps.now();
    const schedules = this.schedules();
    const states = this.states();
    const runs: Promise<void>[] = [];
    for (const org of ERP_ORGS) {
      const { times, timeZone } = schedules[org];
      if (this.#pending.has(org) || times.length === 0) continue;
      const due = previousRun(timeZone, times, now);
      const handled = states[org].handledThrough;
      if (due === null) continue;
      if (handled === null) {
        // A schedule stored without a state (an older station): start counting from now.
        this.saveState(org, { handledThrough: now });
        continue;
      }
      if (due <= handled) continue;
      const trigger: PrewarmTrigger = startup || now - due > LATE_MS ? 'catch-up' : 'scheduled';
      if (trigger === 'catch-up') {
        this.deps.log.info(
          { org, missed: new Date(due).toISOString() },
          'ERP prewarm: one catch-up run for the scheduled time missed while the station was off (earlier missed times are skipped)',
        );
      }
      runs.push(this.enqueue(org, trigger, due));
    }
    return Promise.all(runs).then(() => undefined);
  }

  /** Runs one instance, or both one after the other, now; resolves with the view once they are done. */
  async runNow(org?: ErpOrg): Promise<PrewarmScheduleView> {
    const orgs = org ? [org] : [...ERP_ORGS];
    await Promise.all(orgs.map((o) => this.enqueue(o, 'manual', null)));
    return this.view();
  }

  private enqueue(org: ErpOrg, trigger: PrewarmTrigger, scheduledFor: number | null): Promise<void> {
    this.#pending.add(org);
    const run = this.#chain.then(() => this.run(org, trigger, scheduledFor));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  private async run(org: ErpOrg, trigger: PrewarmTrigger, scheduledFor: number | null): Promise<void> {
    const startedAt = this.deps.now();
    let rows: number | null = null;
    let error: string | null = null;
    if (this.#stopped) {
      this.#pending.delete(org); // left for the catch-up at the next start
      return;
    }
    try {
      const r = await this.deps.erp.openOrders(org, true);
      // The ERP did not answer and the old copy was served: the cache is no fresher than before.
      if (r.fromCache) error = `${r.warning ?? 'The ERP did not answer'}; the copy cached ${describeInstant(r.fetchedAt)} is kept`;
      else rows = r.orders.length;
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    const last: PrewarmResult = { org, trigger, scheduledFor, startedAt, finishedAt: this.deps.now(), rows, error };
    try {
      const handled = this.states()[org].handledThrough;
      this.saveState(org, {
        last,
        ...(scheduledFor !== null ? { handledThrough: Math.max(handled ?? scheduledFor, scheduledFor) } : {}),
      });
    } catch (e) {
      this.deps.log.error({ err: e, org }, 'ERP prewarm: the result could not be saved');
    } finally {
      this.#pending.delete(org);
    }
    if (error) this.deps.log.warn({ org, trigger, error }, 'ERP prewarm failed');
    else this.deps.log.info({ org, trigger, rows }, 'ERP prewarm cached open orders');
  }

  /** Checks the clock every `everyMs` (0: only at start and when a test calls tick). A check at start catches up once. */
  start(everyMs = PREWARM_CHECK_EVERY_MS): Promise<void> {
    if (everyMs > 0) {
      this.#timer = setInterval(() => {
        this.tick().catch((err: unknown) => this.deps.log.error({ err }, 'ERP prewarm check failed'));
      }, everyMs);
      this.#timer.unref();
    }
    return this.tick(true).catch((err: unknown) => this.deps.log.error({ err }, 'ERP prewarm check at start failed'));
  }

  /** Waits for every queued run. */
  idle(): Promise<void> {
    return this.#chain;
  }

  /** Stops the timer and waits for the run under way: the database may be closed after this. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#chain;
  }
}
