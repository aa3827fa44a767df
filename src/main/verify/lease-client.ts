import { z } from 'zod';
import { DomainError } from '../../shared/envelope';
import { LEASE_TTL_MS, PRESENCE_TTL_MS, type Lease, type LeaseHolder } from '../../shared/hub';
import type { HubClient } from '../hub/client';
import { UpstreamError } from '../upstreams/http';

/**
 * The station's side of the hub's leases (/v1/leases/*, /v1/presence) for racks: every answer is
 * validated, refusals become words naming who holds the rack, and each lease answer measures the
 * hub clock's offset from this station's (the hub's `now`, or the lease's renewal time, against the
 * middle of the request), so records carry their time on the hub's clock too.
 */

export const RACK_LEASE_TTL_MS = LEASE_TTL_MS.default;
export const PRESENCE_TTL = PRESENCE_TTL_MS.default;
/** A held lease is renewed this often (a third of its TTL: two renewals may fail before it lapses). */
export const HEARTBEAT_EVERY_MS = 20_000;

const iso = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'a time');
const leaseSchema = z.object({
  resource: z.string(),
  leaseId: z.string().uuid(),
  user: z.string(),
  station: z.string(),
  claimedAt: iso,
  expiresAt: iso,
  ttlMs: z.number().int().positive(),
});
const holderSchema = z.object({ user: z.string(), station: z.string(), since: iso, expiresAt: iso });
const leaseAnswer = z.object({ lease: leaseSchema, now: iso.optional() });
const refusalAnswer = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
  holder: holderSchema.nullable().optional(),
  now: iso.optional(),
});

export interface HeldLease {
  lease: Lease;
  /** hub clock − station clock, ms. */
  offsetMs: number;
  /** When it runs out, on this station's clock. */
  localExpiresAt: number;
}

export class LeaseRefused extends DomainError {
  constructor(
    readonly refusal: string,
    message: string,
    readonly holder: LeaseHolder | null,
  ) {
    super(refusal === 'not_holder' ? 'forbidden' : 'conflict', message);
  }
}

/** "R1 on Ground". */
export const rackWords = (rack: { rackId: string; floor: string }) => `${rack.rackId} on ${rack.floor}`;

function clockTime(isoTime: string, timeZone: string | undefined): string {
  return new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZone }).format(new Date(isoTime));
}

export class LeaseClient {
  constructor(
    private readonly deps: {
      client: () => HubClient | null;
      now: () => number;
      timeZone: () => string | undefined;
    },
  ) {}

  #hub(what: string): HubClient {
    const client = this.deps.client();
    if (!client)
      throw new DomainError('unavailable', `This station is not a member of a site: ${what} needs the site hub (Admin → Station → Join a site)`);
    return client;
  }

  /** Turns a hub refusal or an unreachable hub into words for the person. */
  #refusal(error: unknown, rack: { rackId: string; floor: string }, offline: string): never {
    if (error instanceof UpstreamError) {
      const parsed = refusalAnswer.safeParse(error.answer);
      if (parsed.success && error.kind === 'refused') {
        const h = parsed.data.holder ?? null;
        const code = parsed.data.error.code;
        const zone = this.deps.timeZone();
        const message =
          h && code === 'held'
            ? `${rackWords(rack)} is being counted by ${h.user} at ${h.station} since ${clockTime(h.since, zone)}`
            : h && code === 'not_holder'
              ? `${rackWords(rack)} is held by ${h.user} at ${h.station} since ${clockTime(h.since, zone)}: only they can release it (an admin can break it)`
              : parsed.data.error.message;
        throw new LeaseRefused(code, message, h);
      }
      if (error.kind === 'credentials') throw new DomainError('forbidden', error.message);
      throw new DomainError('unavailable', `${offline} (${error.message})`);
    }
    throw error;
  }

  #held(answer: unknown, sentAt: number): HeldLease {
    const parsed = leaseAnswer.safeParse(answer);
    if (!parsed.success) throw new DomainError('unavailable', 'The site hub answered the lease in an unexpected shape');
    const received = this.deps.now();
    const lease = parsed.data.lease;
    const hubNow = parsed.data.now ? Date.parse(parsed.data.now) : Date.parse(lease.expiresAt) - lease.ttlMs;
    const offsetMs = Math.round(hubNow - (sentAt + received) / 2);
    return { lease, offsetMs, localExpiresAt: Date.parse(lease.expiresAt) - offsetMs };
  }

  async claim(rack: { rackId: string; floor: string }, resource: string, user: string): Promise<HeldLease> {
    const hub = this.#hub('claiming a rack');
    const sentAt = this.deps.now();
    try {
      return this.#held(await hub.post('v1/leases/claim', { resource, user, ttlMs: RACK_LEASE_TTL_MS }, false), sentAt);
    } catch (error) {
      this.#refusal(error, rack, `The site hub cannot be reached: ${rackWords(rack)} cannot be claimed offline. Try again when the hub answers`);
    }
  }

  async renew(rack: { rackId: string; floor: string }, resource: string, leaseId: string): Promise<HeldLease> {
    const hub = this.#hub('renewing a claim');
    const sentAt = this.deps.now();
    try {
      return this.#held(await hub.post('v1/leases/renew', { resource, leaseId }, false), sentAt);
    } catch (error) {
      this.#refusal(error, rack, `The site hub cannot be reached to renew the claim on ${rackWords(rack)}`);
    }
  }

  async release(rack: { rackId: string; floor: string }, resource: string, leaseId: string): Promise<void> {
    const hub = this.#hub('releasing a rack');
    try {
      await hub.post('v1/leases/release', { resource, leaseId }, false);
    } catch (error) {
      this.#refusal(error, rack, `The site hub cannot be reached to release ${rackWords(rack)}`);
    }
  }

  async breakLease(rack: { rackId: string; floor: string }, resource: string, by: string, reason: string): Promise<Lease> {
    const hub = this.#hub('breaking a claim');
    try {
      const answer = z.object({ broken: leaseSchema }).safeParse(await hub.post('v1/leases/break', { resource, by, reason }, false));
      if (!answer.success) throw new DomainError('unavailable', 'The site hub answered the break in an unexpected shape');
      return answer.data.broken;
    } catch (error) {
      this.#refusal(error, rack, `The site hub cannot be reached: the claim on ${rackWords(rack)} cannot be broken offline`);
    }
  }

  /** The person's presence at this station (90 s TTL). */
  async presence(user: string): Promise<void> {
    await this.#hub('presence').post('v1/presence', { user, ttlMs: PRESENCE_TTL }, false);
  }
}
