import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { NoticeView, VerifyChanged, VerifyLineView, VerifySessionView } from '../../shared/contract/verify';
import { DomainError } from '../../shared/envelope';
import type { LeaseEventPayloads, VerifyRecord } from '../../shared/hub';
import { recordAudit, type AuditActor, type AuditContext } from '../audit/record';
import type { Db } from '../db/open';
import type { FeedApplier } from '../hub/feed-applier';
import type { SiteService } from '../hub/service';
import { enqueueOnce } from '../outbox/enqueue';
import type { Logger } from '../platform/logger';
import type { SettingsService } from '../settings/service';
import type { ItemCatalogue } from './items';
import { HEARTBEAT_EVERY_MS, LeaseRefused, rackWords, type HeldLease, type LeaseClient } from './lease-client';
import { rackResourceOf, type RackRegistry } from './racks';
import { keepSiteRecords } from './reports';

/**
 * Counting a claimed rack: a session per person and rack, opened by claiming the rack's lease at the
 * hub and kept by a heartbeat (renew every 20 s, presence); lines are drafts until the session is
 * finalized, when each becomes a record queued for the hub under the `verify` upstream. A lease that
 * is lost (not renewed in time, broken, ran out while the hub was away) marks the session lapsed:
 * counting goes on, and lines made after that are flagged `lapsed` for review when the hub answers.
 */

export const VERIFY_UPSTREAM = 'verify';
export const VERIFY_RECORD_OP = 'verify_record@1';
/** A serial the site recorded (serial, client_record_id, rack_id, floor, station, user, at); the first one kept. */
export const PUT_SITE_SERIAL =
  'INSERT INTO site_serials (serial, client_record_id, rack_id, floor, station, user, at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (serial) DO NOTHING';
/** Where the last measured hub clock offset is kept (hub − station, ms). */
const OFFSET_KEY = 'hub-clock-offset';

interface SessionRow {
  id: string;
  rack_id: string;
  floor: string;
  user_id: number;
  username: string;
  started_at: number;
  lease_id: string | null;
  lease_expires_at: number | null;
  lapsed_at: number | null;
  lapsed_reason: string | null;
  status: 'open' | 'finalized' | 'cancelled';
  ended_at: number | null;
}
interface LineRow {
  client_record_id: string;
  session_id: string;
  item_code: string;
  verified: number;
  damaged: number;
  serials: string;
  floor: string;
  made_at: number;
  hub_made_at: number;
  lease_id: string | null;
  lapsed: number;
  status: VerifyLineView['status'];
  hub_code: string | null;
  hub_reason: string | null;
  updated_at: number;
  resolved_by: string | null;
  resolved_at: number | null;
  rack_id: string;
  username: string;
  item_name: string | null;
}

const LINE_SELECT = `SELECT l.*, s.rack_id, s.username, i.name AS item_name FROM verify_lines l JOIN verify_sessions s ON s.id = l.session_id
  LEFT JOIN items i ON i.item_code = l.item_code`;

const lineView = (r: LineRow): VerifyLineView => ({
  clientRecordId: r.client_record_id,
  sessionId: r.session_id,
  rackId: r.rack_id,
  floor: r.floor,
  itemCode: r.item_code,
  itemName: r.item_name,
  verified: r.verified,
  damaged: r.damaged,
  serials: JSON.parse(r.serials) as string[],
  madeAt: r.made_at,
  lapsed: r.lapsed === 1,
  status: r.status,
  hubCode: r.hub_code,
  hubReason: r.hub_reason,
  user: r.username,
  resolvedBy: r.resolved_by,
  resolvedAt: r.resolved_at,
});

const leasePayload = z.object({ resource: z.string(), leaseId: z.string(), user: z.string(), station: z.string(), claimedAt: z.string() });
const noticePayload = z.object({ id: z.number().int(), text: z.string(), by: z.string(), station: z.string(), postedAt: z.string() });
const recordedPayload = z.object({
  records: z.array(
    z.object({ id: z.string(), rackId: z.string(), floor: z.string(), serials: z.array(z.string()), user: z.string(), hubMadeAt: z.number() }),
  ),
  station: z.string(),
});

export interface VerifyDeps {
  db: Db;
  audit: AuditContext;
  settings: SettingsService;
  now: () => number;
  log: Logger;
  site: SiteService;
  leases: LeaseClient;
  items: ItemCatalogue;
  racks: RackRegistry;
  /** Tells signed-in windows (verify/changed). */
  push: (data: VerifyChanged) => void;
  /** Tells one person's windows (their claim was broken). */
  pushTo: (userId: number, data: VerifyChanged) => void;
  /** The person has a window signed in at this station (locked or not): only then is their claim renewed. */
  present: (userId: number) => boolean;
  /** Finalized records are waiting: send them soon. */
  sendSoon: () => void;
  /** How often held leases are renewed; 0: only when heartbeat() is called (tests). */
  heartbeatEveryMs?: number;
}

export class VerifyService {
  #timer: NodeJS.Timeout | null = null;
  #beating: Promise<void> | null = null;
  /** The heartbeat reached the hub last time (or nothing has been tried yet). */
  #hubReachable = true;

  constructor(private readonly deps: VerifyDeps) {}

  start(): void {
    const every = this.deps.heartbeatEveryMs ?? HEARTBEAT_EVERY_MS;
    if (every <= 0 || this.#timer) return;
    this.#timer = setInterval(() => void this.heartbeat().catch((err: unknown) => this.deps.log.error({ err }, 'verify heartbeat failed')), every);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#beating;
  }

  get #sql() {
    return this.deps.db.$client;
  }

  #offset(): number {
    return this.deps.settings.readKey<{ offsetMs: number } | null>(OFFSET_KEY, null)?.offsetMs ?? 0;
  }

  #measured(held: HeldLease): void {
    this.deps.settings.storeKey(OFFSET_KEY, { offsetMs: held.offsetMs, at: this.deps.now() });
  }

  #session(id: string): SessionRow | null {
    return (this.#sql.prepare('SELECT * FROM verify_sessions WHERE id = ?').get(id) as SessionRow | undefined) ?? null;
  }

  #openSessionOf(userId: number): SessionRow | null {
    return (
      (this.#sql.prepare("SELECT * FROM verify_sessions WHERE user_id = ? AND status = 'open' ORDER BY started_at DESC LIMIT 1").get(userId) as
        SessionRow | undefined) ?? null
    );
  }

  #mine(sessionId: string, actor: AuditActor): SessionRow {
    const s = this.#session(sessionId);
    if (!s || s.user_id !== actor.userId) throw new DomainError('not_found', 'No such counting session of yours');
    if (s.status !== 'open')
      throw new DomainError('conflict', `The session on ${rackWords({ rackId: s.rack_id, floor: s.floor })} is already ${s.status}`);
    return s;
  }

  #line(id: string): LineRow | null {
    return (this.#sql.prepare(`${LINE_SELECT} WHERE l.client_record_id = ?`).get(id) as LineRow | undefined) ?? null;
  }

  #setLease(resource: string, lease: { leaseId: string; user: string; station: string; since: number; expiresAt: number | null }): void {
    this.#sql
      .prepare(
        `INSERT INTO rack_leases (resource, lease_id, user, station, since, expires_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (resource) DO UPDATE SET lease_id = excluded.lease_id, user = excluded.user, station = excluded.station,
           since = excluded.since, expires_at = excluded.expires_at, updated_at = excluded.updated_at`,
      )
      .run(resource, lease.leaseId, lease.user, lease.station, lease.since, lease.expiresAt, this.deps.now());
  }

  #dropLease(resource: string, leaseId: string | null): void {
    if (leaseId) this.#sql.prepare('DELETE FROM rack_leases WHERE resource = ? AND lease_id = ?').run(resource, leaseId);
    else this.#sql.prepare('DELETE FROM rack_leases WHERE resource = ?').run(resource);
  }

  /** The caller's open session (the HUD), or null. */
  current(userId: number): VerifySessionView | null {
    const s = this.#openSessionOf(userId);
    return s ? this.#view(s) : null;
  }

  #view(s: SessionRow): VerifySessionView {
    const now = this.deps.now();
    const lines = (this.#sql.prepare(`${LINE_SELECT} WHERE l.session_id = ? ORDER BY l.made_at, l.client_record_id`).all(s.id) as LineRow[]).map(
      lineView,
    );
    const waiting = this.#sql.prepare("SELECT count(*) FROM verify_lines WHERE status = 'queued'").pluck().get() as number;
    return {
      id: s.id,
      rackId: s.rack_id,
      floor: s.floor,
      user: s.username,
      startedAt: s.started_at,
      heldMs: Math.max(0, (s.ended_at ?? now) - s.started_at),
      leaseId: s.lease_id,
      leaseRemainingMs: s.lease_id && s.lapsed_at === null && s.lease_expires_at !== null ? Math.max(0, s.lease_expires_at - now) : null,
      lapsed: s.lapsed_at !== null || (s.lease_expires_at !== null && now >= s.lease_expires_at),
      lapsedReason:
        s.lapsed_reason ?? (s.lease_expires_at !== null && now >= s.lease_expires_at ? 'The claim ran out before it could be renewed' : null),
      hubReachable: this.#hubReachable,
      status: s.status,
      lines: lines.filter((l) => l.status !== 'discarded' || s.status !== 'open'),
      linesCounted: lines.filter((l) => l.status !== 'discarded').length,
      recordsWaiting: waiting,
    };
  }

  async claim(rack: { rackId: string; floor: string }, actor: AuditActor & { userId: number; username: string }): Promise<VerifySessionView> {
    const known = this.deps.racks.get(rack.rackId, rack.floor);
    if (!known) throw new DomainError('not_found', `There is no rack ${rackWords(rack)}: an admin adds it under Verify → Racks`);
    if (!known.active) throw new DomainError('conflict', `Rack ${rackWords(rack)} is not in use`);
    const open = this.#openSessionOf(actor.userId);
    if (open && (open.rack_id !== rack.rackId || open.floor !== rack.floor))
      throw new DomainError('conflict', `You are counting ${rackWords({ rackId: open.rack_id, floor: open.floor })}: finalize or cancel it first`);
    // Already held (and not run out): the session as it is; lapsed, the claim is taken again for it.
    if (open && !this.#lapsedNow(open)) return this.#view(open);
    const resource = rackResourceOf(rack);
    const held = await this.deps.leases.claim(rack, resource, actor.username);
    this.#hubReachable = true;
    const now = this.deps.now();
    const id = open?.id ?? randomUUID();
    this.#sql.transaction(() => {
      this.#measured(held);
      if (open) {
        // A lapsed session claims again: counting goes on under the new lease.
        this.#sql
          .prepare('UPDATE verify_sessions SET lease_id = ?, lease_expires_at = ?, lapsed_at = NULL, lapsed_reason = NULL WHERE id = ?')
          .run(held.lease.leaseId, held.localExpiresAt, id);
      } else {
        this.#sql
          .prepare(
            "INSERT INTO verify_sessions (id, rack_id, floor, user_id, username, started_at, lease_id, lease_expires_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open')",
          )
          .run(id, rack.rackId, rack.floor, actor.userId, actor.username, now, held.lease.leaseId, held.localExpiresAt);
      }
      this.#setLease(resource, {
        leaseId: held.lease.leaseId,
        user: held.lease.user,
        station: held.lease.station,
        since: Date.parse(held.lease.claimedAt),
        expiresAt: Date.parse(held.lease.expiresAt),
      });
      recordAudit(this.deps.db, this.deps.audit, actor, {
        action: 'verify.claimed',
        entity: 'rack',
        entityId: resource,
        after: { sessionId: id, leaseId: held.lease.leaseId },
      });
    })();
    this.start();
    this.deps.push({ what: 'leases' });
    void this.deps.leases.presence(actor.username).catch(() => undefined);
    // The catalogue is read when counting starts (at most hourly; an ERP that is down keeps the last copy).
    void this.deps.items
      .refresh()
      .then(() => this.deps.push({ what: 'items' }))
      .catch((err: unknown) => this.deps.log.warn({ err: (err as Error).message }, 'items not refreshed at claim'));
    return this.#view(this.#session(id)!);
  }

  /**
   * Renews every held lease of this station and sends its people's presence. A renew the hub refuses
   * marks the session lapsed (the person is told); a hub that cannot be reached leaves the lease to
   * run out on this station's clock, after which lines are flagged lapsed.
   */
  heartbeat(): Promise<void> {
    this.#beating ??= this.#beat().finally(() => (this.#beating = null));
    return this.#beating;
  }

  async #beat(): Promise<void> {
    // A claim lives while its person is here: signed out (or the station closed), the lease runs out at
    // the hub within its TTL and the rack is free for others; back, they claim it again.
    const open = (
      this.#sql.prepare("SELECT * FROM verify_sessions WHERE status = 'open' AND lease_id IS NOT NULL AND lapsed_at IS NULL").all() as SessionRow[]
    ).filter((s) => this.deps.present(s.user_id));
    const people = new Set<string>();
    for (const s of open) {
      const rack = { rackId: s.rack_id, floor: s.floor };
      people.add(s.username);
      try {
        const held = await this.deps.leases.renew(rack, rackResourceOf(rack), s.lease_id!);
        this.#hubReachable = true;
        this.#sql.transaction(() => {
          this.#measured(held);
          this.#sql
            .prepare('UPDATE verify_sessions SET lease_expires_at = ? WHERE id = ? AND lease_id = ?')
            .run(held.localExpiresAt, s.id, s.lease_id);
          this.#setLease(rackResourceOf(rack), {
            leaseId: held.lease.leaseId,
            user: held.lease.user,
            station: held.lease.station,
            since: Date.parse(held.lease.claimedAt),
            expiresAt: Date.parse(held.lease.expiresAt),
          });
        })();
      } catch (error) {
        if (error instanceof LeaseRefused) {
          this.#lapse(s, `The claim on ${rackWords(rack)} was lost: ${error.message}`);
          this.deps.pushTo(s.user_id, {
            what: 'session',
            message: `Your claim on ${rackWords(rack)} was lost: lines counted from now are flagged for review`,
          });
        } else if (error instanceof DomainError && error.code === 'unavailable') {
          this.#hubReachable = false;
          if (s.lease_expires_at !== null && this.deps.now() >= s.lease_expires_at)
            this.#lapse(s, `The claim on ${rackWords(rack)} ran out while the site hub could not be reached`);
        } else throw error;
      }
    }
    for (const user of people) await this.deps.leases.presence(user).catch(() => (this.#hubReachable = false));
    if (open.length) this.deps.push({ what: 'session' });
  }

  #lapse(s: SessionRow, reason: string): void {
    this.#sql.transaction(() => {
      this.#sql
        .prepare('UPDATE verify_sessions SET lapsed_at = ?, lapsed_reason = ? WHERE id = ? AND lapsed_at IS NULL')
        .run(this.deps.now(), reason, s.id);
      this.#dropLease(rackResourceOf({ rackId: s.rack_id, floor: s.floor }), s.lease_id);
    })();
  }

  /** Whether a line made now in this session is made without a live lease. */
  #lapsedNow(s: SessionRow): boolean {
    return !s.lease_id || s.lapsed_at !== null || s.lease_expires_at === null || this.deps.now() >= s.lease_expires_at;
  }

  /** Where a serial is already counted (another line here, or a record the site holds), in words; null: nowhere. */
  #serialTaken(serial: string, exceptLine: string | null): string | null {
    const here = this.#sql
      .prepare(
        `SELECT s.rack_id, s.floor, s.username, l.item_code FROM verify_lines l JOIN verify_sessions s ON s.id = l.session_id, json_each(l.serials) j
         WHERE j.value = ? AND l.status NOT IN ('discarded') AND l.client_record_id IS NOT ? LIMIT 1`,
      )
      .get(serial, exceptLine) as { rack_id: string; floor: string; username: string; item_code: string } | undefined;
    if (here)
      return `Serial ${serial} is already counted on ${rackWords({ rackId: here.rack_id, floor: here.floor })} (item ${here.item_code}) by ${here.username} at this station`;
    const site = this.#sql.prepare('SELECT * FROM site_serials WHERE serial = ? AND client_record_id IS NOT ?').get(serial, exceptLine) as
      { rack_id: string; floor: string; station: string; user: string } | undefined;
    if (site)
      return `Serial ${serial} is already recorded on ${rackWords({ rackId: site.rack_id, floor: site.floor })} by ${site.user} at ${site.station}`;
    return null;
  }

  saveLine(
    input: { sessionId: string; clientRecordId?: string; itemCode: string; verified: number; damaged: number; serials: string[] },
    actor: AuditActor,
  ): VerifyLineView {
    const s = this.#mine(input.sessionId, actor);
    if (input.damaged > input.verified)
      throw new DomainError('invalid', `Damaged (${input.damaged}) cannot be more than verified (${input.verified})`, {
        issues: [{ path: 'damaged', message: `Damaged cannot be more than verified (${input.verified})` }],
      });
    const seen = new Set<string>();
    for (const serial of input.serials) {
      if (seen.has(serial))
        throw new DomainError('invalid', `Serial ${serial} is twice on this line`, {
          issues: [{ path: 'serials', message: `Serial ${serial} is twice on this line` }],
        });
      seen.add(serial);
    }
    const item = this.deps.items.byCode(input.itemCode);
    if (!item)
      throw new DomainError('invalid', `There is no item ${input.itemCode} in the catalogue: scan its barcode or search by name`, {
        issues: [{ path: 'itemCode', message: `No item ${input.itemCode}` }],
      });
    if (input.clientRecordId) {
      const before = this.#line(input.clientRecordId);
      if (!before || before.session_id !== s.id) throw new DomainError('not_found', 'That line is not in this session');
      if (before.status !== 'draft') throw new DomainError('conflict', 'That line was finalized: it cannot be changed');
    }
    for (const serial of input.serials) {
      const taken = this.#serialTaken(serial, input.clientRecordId ?? null);
      if (taken) throw new DomainError('conflict', taken, { issues: [{ path: 'serials', message: taken }] });
    }
    const now = this.deps.now();
    const id = input.clientRecordId ?? randomUUID();
    const lapsed = this.#lapsedNow(s);
    this.#sql.transaction(() => {
      this.#sql
        .prepare(
          `INSERT INTO verify_lines (client_record_id, session_id, item_code, verified, damaged, serials, floor, made_at, hub_made_at, lease_id, lapsed, status, updated_at)
           VALUES (@id, @session, @item, @verified, @damaged, @serials, @floor, @now, @hubNow, @lease, @lapsed, 'draft', @now)
           ON CONFLICT (client_record_id) DO UPDATE SET item_code = excluded.item_code, verified = excluded.verified, damaged = excluded.damaged,
             serials = excluded.serials, made_at = excluded.made_at, hub_made_at = excluded.hub_made_at, lease_id = excluded.lease_id,
             lapsed = excluded.lapsed, updated_at = excluded.updated_at`,
        )
        .run({
          id,
          session: s.id,
          item: item.itemCode,
          verified: input.verified,
          damaged: input.damaged,
          serials: JSON.stringify(input.serials),
          floor: s.floor,
          now,
          hubNow: now + this.#offset(),
          lease: s.lease_id,
          lapsed: lapsed ? 1 : 0,
        });
    })();
    this.deps.push({ what: 'session' });
    return lineView(this.#line(id)!);
  }

  deleteLine(clientRecordId: string, actor: AuditActor): void {
    const line = this.#line(clientRecordId);
    if (!line) throw new DomainError('not_found', 'No such line');
    this.#mine(line.session_id, actor);
    if (line.status !== 'draft') throw new DomainError('conflict', 'That line was finalized: it cannot be deleted');
    this.#sql.prepare("DELETE FROM verify_lines WHERE client_record_id = ? AND status = 'draft'").run(clientRecordId);
    this.deps.push({ what: 'session' });
  }

  /** The lines become records queued for the hub; the lease is released (or left to run out when the hub cannot be reached). */
  async finalize(sessionId: string, actor: AuditActor): Promise<VerifySessionView> {
    const s = this.#mine(sessionId, actor);
    const station = this.deps.site.membership?.stationName ?? '';
    const now = this.deps.now();
    this.#sql.transaction(() => {
      const lines = this.#sql.prepare("SELECT * FROM verify_lines WHERE session_id = ? AND status = 'draft'").all(s.id) as LineRow[];
      for (const l of lines) {
        const record: VerifyRecord = {
          clientRecordId: l.client_record_id,
          sessionId: s.id,
          rack: { rackId: s.rack_id, floor: s.floor },
          itemCode: l.item_code,
          verified: l.verified,
          damaged: l.damaged,
          serials: JSON.parse(l.serials) as string[],
          madeAt: l.made_at,
          leaseId: l.lease_id,
          hubMadeAt: l.hub_made_at,
          user: s.username,
          station,
        };
        enqueueOnce(this.deps.db, now, { opId: l.client_record_id, op: VERIFY_RECORD_OP, upstream: VERIFY_UPSTREAM, payload: record });
      }
      this.#sql.prepare("UPDATE verify_lines SET status = 'queued', updated_at = ? WHERE session_id = ? AND status = 'draft'").run(now, s.id);
      this.#sql.prepare("UPDATE verify_sessions SET status = 'finalized', ended_at = ? WHERE id = ?").run(now, s.id);
      recordAudit(this.deps.db, this.deps.audit, actor, {
        action: 'verify.finalized',
        entity: 'verify_session',
        entityId: s.id,
        after: {
          rack: rackResourceOf({ rackId: s.rack_id, floor: s.floor }),
          records: lines.length,
          lapsed: lines.filter((l) => l.lapsed === 1).length,
        },
      });
    })();
    await this.#releaseLease(s);
    this.deps.sendSoon();
    this.deps.push({ what: 'records' });
    return this.#view(this.#session(s.id)!);
  }

  /** Cancels the session: its draft lines are discarded, the lease released. */
  async cancel(sessionId: string, actor: AuditActor): Promise<VerifySessionView> {
    const s = this.#mine(sessionId, actor);
    const now = this.deps.now();
    this.#sql.transaction(() => {
      const drafts = this.#sql
        .prepare("UPDATE verify_lines SET status = 'discarded', updated_at = ? WHERE session_id = ? AND status = 'draft'")
        .run(now, s.id).changes;
      this.#sql.prepare("UPDATE verify_sessions SET status = 'cancelled', ended_at = ? WHERE id = ?").run(now, s.id);
      recordAudit(this.deps.db, this.deps.audit, actor, {
        action: 'verify.cancelled',
        entity: 'verify_session',
        entityId: s.id,
        after: { rack: rackResourceOf({ rackId: s.rack_id, floor: s.floor }), discardedLines: drafts },
      });
    })();
    await this.#releaseLease(s);
    return this.#view(this.#session(s.id)!);
  }

  async #releaseLease(s: SessionRow): Promise<void> {
    const rack = { rackId: s.rack_id, floor: s.floor };
    const resource = rackResourceOf(rack);
    if (!s.lease_id || s.lapsed_at !== null) return;
    try {
      await this.deps.leases.release(rack, resource, s.lease_id);
    } catch (error) {
      // Offline or already gone: the hub's lease runs out by itself within its TTL.
      this.deps.log.info({ err: (error as Error).message, resource }, 'lease not released; it runs out by itself');
    }
    this.#dropLease(resource, s.lease_id);
    this.deps.push({ what: 'leases' });
  }

  /** An admin breaks whoever's claim on the rack (audited); the holder is told through the feed. */
  async breakClaim(rack: { rackId: string; floor: string }, reason: string, actor: AuditActor & { username: string }): Promise<void> {
    const resource = rackResourceOf(rack);
    const broken = await this.deps.leases.breakLease(rack, resource, actor.username, reason);
    const station = this.deps.site.membership?.stationName;
    this.#sql.transaction(() => {
      recordAudit(this.deps.db, this.deps.audit, actor, {
        action: 'verify.lease-broken',
        entity: 'rack',
        entityId: resource,
        before: { leaseId: broken.leaseId, user: broken.user, station: broken.station, claimedAt: broken.claimedAt },
        detail: reason,
      });
      this.#dropLease(resource, broken.leaseId);
    })();
    // The holder is at this station: the feed skips this station's own entries, so tell them here.
    if (broken.station === station) this.#broken(broken.leaseId, rack, actor.username, station, reason);
    this.deps.push({ what: 'leases' });
  }

  /** A session whose lease was broken lapses, and its person is told (after the caller's transaction). */
  #broken(leaseId: string, rack: { rackId: string; floor: string }, by: string, byStation: string, reason: string): void {
    const s = this.#sql.prepare("SELECT * FROM verify_sessions WHERE lease_id = ? AND status = 'open'").get(leaseId) as SessionRow | undefined;
    if (!s) return;
    const message = `${by} at ${byStation} broke your claim on ${rackWords(rack)}: ${reason}. Lines counted from now are flagged for review`;
    this.#lapse(s, message);
    setImmediate(() => this.deps.pushTo(s.user_id, { what: 'session', message }));
  }

  /** Appliers for the lease events, recorded verifications and notices of the site's feed. */
  appliers(): Record<string, FeedApplier> {
    const rackOf = (resource: string) => {
      const m = /^rack:([^/]+)\/(.+)$/.exec(resource);
      return m ? { floor: m[1], rackId: m[2] } : null;
    };
    const told = () => setImmediate(() => this.deps.push({ what: 'leases' }));
    const lease = (entry: { payload: unknown }) => {
      const p = leasePayload.safeParse(entry.payload);
      return p.success ? p.data : null;
    };
    return {
      'lease_claimed@1': (_db, entry) => {
        const p = lease(entry);
        if (!p || !rackOf(p.resource)) return;
        const expiresAt = (entry.payload as LeaseEventPayloads['lease_claimed@1']).expiresAt;
        this.#setLease(p.resource, {
          leaseId: p.leaseId,
          user: p.user,
          station: p.station,
          since: Date.parse(p.claimedAt),
          expiresAt: Date.parse(expiresAt) || null,
        });
        told();
      },
      'lease_released@1': (_db, entry) => {
        const p = lease(entry);
        if (!p) return;
        this.#dropLease(p.resource, p.leaseId);
        told();
      },
      'lease_expired@1': (_db, entry) => {
        const p = lease(entry);
        if (!p) return;
        this.#dropLease(p.resource, p.leaseId);
        told();
      },
      'lease_broken@1': (_db, entry, ctx) => {
        const p = lease(entry);
        if (!p) return;
        this.#dropLease(p.resource, p.leaseId);
        const b = entry.payload as LeaseEventPayloads['lease_broken@1'];
        const rack = rackOf(p.resource);
        if (rack && p.station === ctx.stationName) this.#broken(p.leaseId, rack, b.by, b.byStation, b.reason);
        told();
      },
      'verify_recorded@1': (_db, entry) => {
        keepSiteRecords(this.#sql, entry.payload);
        const p = recordedPayload.safeParse(entry.payload);
        if (!p.success) return;
        const put = this.#sql.prepare(PUT_SITE_SERIAL);
        for (const r of p.data.records) for (const serial of r.serials) put.run(serial, r.id, r.rackId, r.floor, p.data.station, r.user, r.hubMadeAt);
      },
      'notice@1': (_db, entry) => {
        const p = noticePayload.safeParse(entry.payload);
        if (!p.success) return;
        this.#putNotice(p.data);
        setImmediate(() => this.deps.push({ what: 'notices', message: p.data.text }));
      },
    };
  }

  #putNotice(n: z.infer<typeof noticePayload>): void {
    this.#sql
      .prepare('INSERT INTO notices (notice_id, text, by, station, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (notice_id) DO NOTHING')
      .run(`hub:${n.id}`, n.text, n.by, n.station, Date.parse(n.postedAt) || this.deps.now());
  }

  notices(): NoticeView[] {
    return (this.#sql.prepare('SELECT id, text, by, station, at FROM notices ORDER BY at DESC, id DESC LIMIT 200').all() as NoticeView[]).map(
      (n) => ({ ...n }),
    );
  }

  async postNotice(text: string, actor: AuditActor & { username: string }): Promise<NoticeView> {
    const client = this.deps.site.client;
    if (!client) throw new DomainError('unavailable', 'This station is not a member of a site: notices go to every station through the site hub');
    let answer: unknown;
    try {
      answer = await client.post('v1/notices', { text, by: actor.username }, false);
    } catch (error) {
      throw new DomainError('unavailable', `The site hub cannot be reached: the notice was not posted (${(error as Error).message})`);
    }
    const parsed = z.object({ notice: noticePayload }).safeParse(answer);
    if (!parsed.success) throw new DomainError('unavailable', 'The site hub answered the notice in an unexpected shape');
    this.#sql.transaction(() => {
      this.#putNotice(parsed.data.notice);
      recordAudit(this.deps.db, this.deps.audit, actor, {
        action: 'verify.notice-posted',
        entity: 'notice',
        entityId: parsed.data.notice.id,
        after: { text },
      });
    })();
    this.deps.push({ what: 'notices', message: text });
    return this.notices().find((n) => n.text === text && n.by === parsed.data.notice.by)!;
  }

  conflicts(status: 'open' | 'all'): VerifyLineView[] {
    const where = status === 'open' ? "l.status IN ('conflict', 'error')" : "(l.status IN ('conflict', 'error') OR l.hub_code IS NOT NULL)";
    return (this.#sql.prepare(`${LINE_SELECT} WHERE ${where} ORDER BY l.updated_at DESC LIMIT 500`).all() as LineRow[]).map(lineView);
  }

  /** Resolves a refused record (its person or an admin): recount it in an open session on its rack, accept the hub's answer, or discard it. */
  resolve(clientRecordId: string, action: 'recount' | 'accept' | 'discard', actor: AuditActor & { role: string }): VerifyLineView {
    const line = this.#line(clientRecordId);
    if (!line || (line.status !== 'conflict' && line.status !== 'error'))
      throw new DomainError('not_found', 'No refused record with that id waits to be resolved');
    if (actor.role !== 'admin' && line.username !== actor.username)
      throw new DomainError('forbidden', `Only ${line.username} or an admin resolves this record`);
    const now = this.deps.now();
    let recount: string | null = null;
    this.#sql.transaction(() => {
      if (action === 'recount') {
        const s = this.#openSessionOf(actor.userId ?? -1);
        if (!s || s.rack_id !== line.rack_id || s.floor !== line.floor)
          throw new DomainError(
            'conflict',
            `Claim ${rackWords({ rackId: line.rack_id, floor: line.floor })} first: the recount is a line of that session`,
          );
        recount = randomUUID();
        this.#sql
          .prepare(
            `INSERT INTO verify_lines (client_record_id, session_id, item_code, verified, damaged, serials, floor, made_at, hub_made_at, lease_id, lapsed, status, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'draft', ?)`,
          )
          .run(
            recount,
            s.id,
            line.item_code,
            line.verified,
            Math.min(line.damaged, line.verified),
            '[]',
            s.floor,
            now,
            now + this.#offset(),
            s.lease_id,
            this.#lapsedNow(s) ? 1 : 0,
            now,
          );
      }
      this.#sql
        .prepare('UPDATE verify_lines SET status = ?, resolved_by = ?, resolved_at = ?, updated_at = ? WHERE client_record_id = ?')
        .run(action === 'accept' ? 'accepted' : 'discarded', actor.username, now, now, clientRecordId);
      recordAudit(this.deps.db, this.deps.audit, actor, {
        action: 'verify.resolved',
        entity: 'verify_record',
        entityId: clientRecordId,
        before: { status: line.status, hubCode: line.hub_code, hubReason: line.hub_reason },
        after: { action, ...(recount ? { recountLine: recount } : {}) },
      });
    })();
    this.deps.push({ what: 'records' });
    return lineView(this.#line(clientRecordId)!);
  }
}
