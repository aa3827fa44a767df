import { DomainError } from '../../shared/envelope';
import type { UpdateStateView, UpdateStatus } from '../../shared/contract/updates';
import type { UpdateSettings } from '../../shared/update-settings';
import type { AuditActor } from '../audit/record';
import type { Logger } from '../platform/logger';
import type { DriverEvent, UpdaterDriver } from './driver';
import { rolloutBucket } from './driver';
import { installDecision, type InstallDecision, type PolicyUpdateState, type Presence, type WorkInProgress } from './policy';

/** The policy looks at the station once a minute while an update waits. */
export const POLICY_TICK_MS = 60_000;
/** The feed is asked every four hours (and at start, and on Check now). */
export const CHECK_EVERY_MS = 4 * 3_600_000;

export interface UpdateServiceDeps {
  /** The updater; null where this copy cannot update itself, `unsupported` says why. */
  driver: UpdaterDriver | null;
  unsupported?: string;
  /** The version this copy runs (the driver's when there is one). */
  version: string;
  settings: () => UpdateSettings;
  presence: () => Presence;
  work: () => WorkInProgress;
  now: () => number;
  timeZone: () => string;
  /** The station's per-install id: the staged-rollout id. */
  stagingId: string;
  log: Logger;
  /** Audits what a person or the policy did (a check asked for, an install started). */
  audit: (actor: AuditActor, action: string, detail: string) => void;
  onChanged: (status: UpdateStatus) => void;
  /** 0 = only when a test calls tick(). */
  tickMs?: number;
  /** 0 = only at start() and on check(). */
  checkEveryMs?: number;
}

/**
 * Drives the updater: check → download in the background → downloaded → the install policy every
 * minute → install. The decisions are policy.ts's; this holds the state and says what happens.
 */
export class UpdateService {
  #state: UpdateStateView;
  #downloaded: string | null = null;
  #offered: string | null = null;
  #lastCheckedAt: number | null = null;
  #lastPercent = -1;
  #timers: NodeJS.Timeout[] = [];
  #installing = false;

  constructor(private readonly deps: UpdateServiceDeps) {
    // Without a feed status() says 'off' (provisioning may set one later).
    this.#state = deps.driver ? { kind: 'idle' } : { kind: 'unsupported', why: this.#why() };
    deps.driver?.onEvent((e) => this.#heard(e));
  }

  #why(): string {
    return this.deps.unsupported ?? 'This copy does not update itself';
  }

  /** Checks once now, then every checkEveryMs; the policy every tickMs. */
  start(): void {
    if (!this.deps.driver) return;
    const checkEvery = this.deps.checkEveryMs ?? CHECK_EVERY_MS;
    const tickEvery = this.deps.tickMs ?? POLICY_TICK_MS;
    if (this.deps.settings().feedUrl) void this.#check();
    if (checkEvery > 0) this.#timers.push(setInterval(() => void this.#check(), checkEvery));
    if (tickEvery > 0) this.#timers.push(setInterval(() => this.#tickQuietly(), tickEvery));
    for (const t of this.#timers) t.unref();
  }

  stop(): void {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
  }

  #policyState(): PolicyUpdateState {
    if (this.#downloaded) return { kind: 'downloaded', version: this.#downloaded };
    const s = this.#state;
    if (s.kind === 'downloading') return { kind: 'downloading', version: s.version };
    if (s.kind === 'available') return { kind: 'available', version: s.version };
    return { kind: 'none' };
  }

  decision(): InstallDecision {
    return installDecision({
      state: this.#policyState(),
      presence: this.deps.presence(),
      work: this.deps.work(),
      now: this.deps.now(),
      timeZone: this.deps.timeZone(),
      quietHours: this.deps.settings().quietHours,
    });
  }

  status(): UpdateStatus {
    const s = this.deps.settings();
    const d = this.decision();
    const bucket = rolloutBucket(this.deps.stagingId);
    return {
      version: this.deps.driver?.version ?? this.deps.version,
      channel: s.channel,
      feedUrl: s.feedUrl,
      quietHours: s.quietHours,
      allowDowngrade: s.allowDowngrade,
      state: this.#state.kind === 'idle' && !s.feedUrl ? { kind: 'off' } : this.#state,
      install: this.#downloaded ? { installNow: d.installNow, reason: d.reason } : null,
      nextWindow: d.nextWindow?.getTime() ?? null,
      rollout: bucket === null ? null : { id: this.deps.stagingId, bucket },
      lastCheckedAt: this.#lastCheckedAt,
    };
  }

  /** Check now (Admin → Station): the feed and channel as the settings say now. */
  async check(actor: AuditActor): Promise<UpdateStatus> {
    if (!this.deps.driver) throw new DomainError('unavailable', this.#why());
    const s = this.deps.settings();
    if (!s.feedUrl) throw new DomainError('conflict', 'No update feed is set for this station: the provisioning file sets feedUrl');
    if (this.#installing) throw new DomainError('conflict', 'An update is installing: Dockside restarts in a moment');
    this.deps.audit(actor, 'updates.checked', `${s.feedUrl} (${s.channel})`);
    await this.#check();
    return this.status();
  }

  /** Never throws: what went wrong becomes the card's error (timers call it). */
  async #check(): Promise<void> {
    const driver = this.deps.driver;
    if (!driver || this.#installing) return;
    try {
      const s = this.deps.settings();
      if (!s.feedUrl) return;
      driver.configure({ feedUrl: s.feedUrl, channel: s.channel, allowDowngrade: s.allowDowngrade });
      this.#lastCheckedAt = this.deps.now();
      await driver.check();
    } catch (err) {
      try {
        this.#heard({ type: 'error', message: `The update check failed: ${(err as Error)?.message ?? String(err)}` });
      } catch (inner) {
        this.deps.log.error({ err: inner }, 'the update check failed and could not say so');
      }
    }
  }

  #set(state: UpdateStateView): void {
    this.#state = state;
    this.deps.onChanged(this.status());
  }

  #heard(e: DriverEvent): void {
    switch (e.type) {
      case 'checking':
        // A check while an update waits to install keeps saying so.
        if (!this.#downloaded) this.#set({ kind: 'checking' });
        return;
      case 'available':
        this.#offered = e.version;
        this.#lastPercent = -1;
        if (this.#downloaded !== e.version) this.#set({ kind: 'available', version: e.version });
        return;
      case 'not-available':
        // The feed no longer offers what was downloaded (a rollback, a channel change): it is not installed.
        if (this.#downloaded) this.deps.log.info({ version: this.#downloaded }, 'the feed no longer offers the downloaded update');
        this.#downloaded = null;
        this.#set({ kind: 'up-to-date', latest: e.version });
        return;
      case 'progress': {
        const percent = Math.floor(e.percent);
        if (percent === this.#lastPercent || this.#downloaded === this.#offered) return;
        this.#lastPercent = percent;
        this.#set({ kind: 'downloading', version: this.#offered ?? '', percent });
        return;
      }
      case 'downloaded':
        this.#downloaded = e.version;
        this.deps.log.info({ version: e.version }, 'update downloaded; it installs when the policy allows');
        this.#set({ kind: 'downloaded', version: e.version });
        this.#tickQuietly();
        return;
      case 'error':
        this.deps.log.warn({ message: e.message }, 'update check, download or install failed');
        if (this.#installing) return this.#installFailed(e.message);
        if (this.#downloaded) return void this.deps.onChanged(this.status());
        this.#set({ kind: 'error', message: e.message });
        return;
    }
  }

  /** From a timer or an event: a failure (a full disk refusing the audit row) is logged, never thrown into the process. */
  #tickQuietly(): void {
    this.tick().catch((err: unknown) => this.deps.log.error({ err }, 'the update policy could not run'));
  }

  /** The policy's look: installs the downloaded update when it says so. Returns its decision. */
  async tick(): Promise<InstallDecision | null> {
    if (!this.deps.driver || !this.#downloaded || this.#installing) return null;
    const d = this.decision();
    if (!d.installNow) return d;
    const version = this.#downloaded;
    this.#installing = true;
    this.deps.log.info({ version, reason: d.reason }, 'installing the update');
    this.deps.audit({ userId: null, username: null }, 'updates.installing', `${version}: ${d.reason}`);
    this.#set({ kind: 'installing', version });
    try {
      await this.deps.driver.install();
    } catch (err) {
      this.#installFailed((err as Error)?.message ?? String(err));
    }
    return d;
  }

  /** Not retried every minute: the next check downloads it again (from the cache) and the policy tries then. */
  #installFailed(message: string): void {
    this.#installing = false;
    this.#downloaded = null;
    this.#set({ kind: 'error', message: `The update could not be installed: ${message}` });
  }
}
