import type { SiteStatus } from '../../shared/contract/site';
import { DomainError } from '../../shared/envelope';
import type { FeedEntry } from '../../shared/hub';
import type { AuditActor, AuditContext } from '../audit/record';
import type { SecretStore } from '../credentials/store';
import type { Db } from '../db/open';
import type { OutboxTransport, RecordResult } from '../outbox/drainer';
import { BAGS_UPSTREAM } from '../outbox/enqueue';
import type { Logger } from '../platform/logger';
import type { SettingsService } from '../settings/service';
import { UpstreamError } from '../upstreams/http';
import { enrolAtHub, HubClient } from './client';
import { recordConflict, SiteConflicts } from './conflicts';
import { applyFeedPage, BAG_APPLIERS, type FeedApplier } from './feed-apply';
import { HUB_SETTING, HUB_TOKEN_SECRET, membershipOf, type HubMembership } from './membership';

/** Where the feed cursor is kept (settings, written in the page's transaction). */
export const FEED_CURSOR_KEY = 'hub-feed';
interface FeedCursor {
  seq: number;
  appliedAt: number | null;
}

const RECONNECT_FIRST_MS = 1_000;
/** Links per push request, at most (an op that is not an import weighs one). */
export const PUSH_WEIGHT = 5_000;
const opWeight = (payload: unknown): number => {
  const links = (payload as { links?: unknown } | null)?.links;
  return Array.isArray(links) ? Math.max(1, links.length) : 1;
};
const RECONNECT_MAX_MS = 10_000;

/**
 * This station's membership of a site hub: joining (enrolment), the outbox transport that sends
 * bag changes to the hub, the feed follower that applies other stations' changes to the replica,
 * and the conflicts the hub answered. Standalone (no membership) the transport hands bag changes
 * to the configured bags upstream, as before the hub existed.
 */
export class SiteService {
  readonly conflicts: SiteConflicts;
  #client: HubClient | null = null;
  #membership: HubMembership | null;
  #follow: AbortController | null = null;
  #following: Promise<void> | null = null;
  #connected = false;
  #problem: string | null = null;
  #changedTimer: NodeJS.Timeout | null = null;
  readonly #appliers: Record<string, FeedApplier>;

  constructor(
    private readonly deps: {
      db: Db;
      settings: SettingsService;
      secrets: SecretStore;
      audit: AuditContext;
      now: () => number;
      log: Logger;
      /** The bags upstream a standalone station sends to (the simulator in the demo), or null. */
      fallback: OutboxTransport | null;
      /** Appliers beyond the bag ops' (people, leases), by op name. */
      appliers?: Record<string, FeedApplier>;
      /** The status changed (feed connected or dropped, a page applied, a conflict came or went). */
      onChanged?: (status: SiteStatus) => void;
      /** After a join, in its own transaction: what the station sends the site first (its people). */
      onJoined?: (actor: AuditActor) => void;
      /** Waiting outbox records for the hub. */
      waiting?: () => number;
      sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
    },
  ) {
    this.conflicts = new SiteConflicts({ db: deps.db, audit: deps.audit, now: deps.now });
    this.#appliers = { ...BAG_APPLIERS, ...deps.appliers };
    this.#membership = membershipOf(deps.settings);
  }

  get membership(): HubMembership | null {
    return this.#membership;
  }

  /** The hub client while a member (leases, verification records and notices go through it), else null. */
  get client(): HubClient | null {
    return this.#client;
  }

  /** The feed stream is open now. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Starts following the feed when the station is a member. */
  start(): void {
    this.#connect();
  }

  async stop(): Promise<void> {
    this.#follow?.abort();
    await this.#following;
    this.#follow = null;
    this.#following = null;
    if (this.#changedTimer) clearTimeout(this.#changedTimer);
  }

  status(): SiteStatus {
    const m = this.#membership;
    const cursor = this.#cursor();
    return {
      member: m ? { url: m.url, stationName: m.stationName, joinedAt: m.joinedAt, joinedBy: m.joinedBy } : null,
      connected: !!m && this.#connected,
      problem: m && !this.#connected ? (this.#problem ?? 'Connecting to the site hub…') : null,
      lastSeq: cursor.seq,
      lastAppliedAt: cursor.appliedAt,
      waiting: this.deps.waiting?.() ?? 0,
      openConflicts: this.conflicts.openCount(),
    };
  }

  async join(input: { url: string; code: string; stationName: string }, actor: AuditActor): Promise<SiteStatus> {
    const current = this.#membership;
    if (current) {
      throw new DomainError('conflict', `This station is already a member of the site at ${current.url} as “${current.stationName}”: leave it first`);
    }
    const refusal = this.deps.secrets.refusal?.();
    if (refusal) throw new DomainError('conflict', `The station token cannot be kept safely here: ${refusal}`);
    const url = input.url.replace(/\/+$/, '');
    let enrolled;
    try {
      enrolled = await enrolAtHub({ url, code: input.code, stationName: input.stationName, log: this.deps.log, now: this.deps.now });
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      if (error.kind === 'refused') {
        const field = /station name|station named/i.test(error.message) ? 'stationName' : 'code';
        throw new DomainError('invalid', error.message, { issues: [{ path: field, message: error.message }] });
      }
      throw new DomainError('unavailable', `${error.message}: check the address and that the hub runs`);
    }
    const membership: HubMembership = {
      url,
      stationName: enrolled.stationName,
      stationId: enrolled.stationId,
      joinedAt: this.deps.now(),
      joinedBy: actor.username ?? '?',
    };
    this.deps.secrets.set(HUB_TOKEN_SECRET, enrolled.token);
    this.deps.db.$client.transaction(() => {
      this.deps.settings.writeKey(HUB_SETTING, membership, actor, this.deps.audit, {
        action: 'site.joined',
        entityId: url,
        after: { url, stationName: membership.stationName },
      });
      // The station is called at home what the site calls it (the top bar, sign-in, audit).
      if (this.deps.settings.get().stationName !== membership.stationName && membership.stationName.length <= 64)
        this.deps.settings.update({ stationName: membership.stationName }, actor, this.deps.audit);
      // A new site's feed starts from its beginning.
      this.deps.settings.storeKey(FEED_CURSOR_KEY, { seq: 0, appliedAt: null } satisfies FeedCursor);
      // Bag changes still waiting for the old upstream are in what the station now sends the site
      // (onJoined: what it holds); sent on their own first, a bill among them would close its parent
      // at the hub before the links the station made to it arrived.
      const superseded = this.deps.db.$client
        .prepare(
          "UPDATE outbox SET status = 'discarded', last_error = 'Sent to the site hub with what this station held when it joined', updated_at = ? WHERE upstream = ? AND status IN ('pending', 'error')",
        )
        .run(this.deps.now(), BAGS_UPSTREAM).changes;
      if (superseded) this.deps.log.info({ superseded }, 'bag changes waiting for the old upstream go to the site with the join');
      this.deps.onJoined?.(actor);
    })();
    this.#membership = membership;
    this.deps.log.info({ url, stationName: membership.stationName }, 'joined the site hub');
    this.#connect();
    this.changed();
    return this.status();
  }

  async leave(actor: AuditActor): Promise<SiteStatus> {
    const current = this.#membership;
    if (!current) throw new DomainError('conflict', 'This station is not a member of a site');
    await this.stop();
    this.deps.settings.writeKey(HUB_SETTING, null, actor, this.deps.audit, { action: 'site.left', entityId: current.url, after: null });
    this.deps.secrets.delete(HUB_TOKEN_SECRET);
    this.#membership = null;
    this.#client = null;
    this.#connected = false;
    this.#problem = null;
    this.changed();
    return this.status();
  }

  /** The outbox transport for bag changes: the hub when a member, else the configured bags upstream. */
  transport(): OutboxTransport {
    const fallback = this.deps.fallback;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the transport's getters read the service's current client
    const site = this;
    return {
      get breaker() {
        return site.#client?.http.breaker ?? fallback?.breaker;
      },
      // The hub's batches are kept small (each op is a transaction there); the standalone upstream keeps its own.
      get batchSize() {
        return site.#membership ? 200 : fallback?.batchSize;
      },
      listed: () => !!site.#membership || !!fallback,
      async send(records): Promise<RecordResult[]> {
        // The client exists as soon as the station is a member (the drainer may tick before the follower starts).
        const client = site.#ensureClient();
        const m = site.#membership;
        if (!m) {
          if (fallback) return fallback.send(records);
          throw new UpstreamError(BAGS_UPSTREAM, 'network', 'This station is not a member of a site: an admin joins one in Admin → Station');
        }
        if (!client) throw new UpstreamError(BAGS_UPSTREAM, 'credentials', site.#problem ?? 'The station token is missing');
        // One request carries at most PUSH_WEIGHT links (an import's op has up to a thousand): the
        // hub answers it well inside the read timeout; the rest go in the next request.
        let weight = 0;
        const now = records.filter((r, i) => {
          weight += opWeight(r.payload);
          return i === 0 || weight <= PUSH_WEIGHT;
        });
        const results = await client.push(
          m.stationName,
          now.map(({ opId, op, payload }) => ({ opId, op, payload })),
        );
        const answered: RecordResult[] = results.map((r) => ({ opId: r.opId, status: r.status, message: r.message, detail: r }));
        return [...answered, ...records.slice(now.length).map((r) => ({ opId: r.opId, status: 'later' as const }))];
      },
      onConflict(record, result, at) {
        if (!site.#membership || result.detail === undefined) return;
        recordConflict(site.deps.db.$client, record, result, at);
        setImmediate(() => site.changed());
      },
    };
  }

  #cursor(): FeedCursor {
    return this.deps.settings.readKey<FeedCursor>(FEED_CURSOR_KEY, { seq: 0, appliedAt: null });
  }

  /** The hub client of the current membership, made on first use; null when standalone or the token is gone. */
  #ensureClient(): HubClient | null {
    const m = this.#membership;
    if (!m) return null;
    if (this.#client?.url === m.url) return this.#client;
    const token = this.deps.secrets.get(HUB_TOKEN_SECRET);
    if (!token) {
      this.#problem = 'The station token is missing from the secret store: an admin leaves the site and joins it again';
      return null;
    }
    this.#client = new HubClient(m.url, token, { log: this.deps.log, now: this.deps.now });
    return this.#client;
  }

  #connect(): void {
    const m = this.#membership;
    if (!m || this.#following) return;
    const client = this.#ensureClient();
    if (!client) return;
    const follow = new AbortController();
    this.#follow = follow;
    this.#following = this.#followFeed(client, m, follow.signal);
  }

  #apply(m: HubMembership, entries: FeedEntry[]): void {
    if (entries.length === 0) return;
    const report = applyFeedPage({
      db: this.deps.db,
      entries,
      ctx: { now: this.deps.now(), stationName: m.stationName },
      appliers: this.#appliers,
      cursor: {
        read: () => this.#cursor().seq,
        write: (seq) => this.deps.settings.storeKey(FEED_CURSOR_KEY, { seq, appliedAt: this.deps.now() } satisfies FeedCursor),
      },
      log: this.deps.log,
    });
    if (report.applied + report.own + report.skipped > 0) this.changed();
  }

  async #followFeed(client: HubClient, m: HubMembership, signal: AbortSignal): Promise<void> {
    let delay = RECONNECT_FIRST_MS;
    while (!signal.aborted) {
      try {
        // Catch up page by page from the last applied seq, then take the live stream from there.
        for (let more = true; more && !signal.aborted;) {
          const page = await client.feedPage(this.#cursor().seq, 500);
          this.#apply(m, page.entries);
          more = page.more;
        }
        if (signal.aborted) break;
        this.#connected = true;
        this.#problem = null;
        delay = RECONNECT_FIRST_MS;
        this.changed();
        await client.stream(this.#cursor().seq, (entries) => this.#apply(m, entries), signal);
        if (!signal.aborted) this.#problem = 'The site hub closed the feed; reconnecting';
      } catch (error) {
        this.#problem = error instanceof Error ? error.message : String(error);
        if (!signal.aborted) this.deps.log.warn({ err: this.#problem }, 'site hub feed interrupted; reconnecting');
      }
      if (this.#connected) {
        this.#connected = false;
        this.changed();
      }
      if (signal.aborted) break;
      await (this.deps.sleep ?? abortableSleep)(delay, signal);
      delay = Math.min(delay * 2, RECONNECT_MAX_MS);
    }
    this.#connected = false;
  }

  /** Tells the windows, at most every 300 ms (a feed catching up applies many pages). */
  changed(): void {
    if (this.#changedTimer || !this.deps.onChanged) return;
    this.#changedTimer = setTimeout(() => {
      this.#changedTimer = null;
      this.deps.onChanged?.(this.status());
    }, 300);
    this.#changedTimer.unref();
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
