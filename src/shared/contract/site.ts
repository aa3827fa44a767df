import { z } from 'zod';
import { channel } from './define';
import { empty, id } from './fields';

/**
 * The station's side of the site hub (issue 15): joining a site, the feed it follows, and the
 * conflicts the hub answered for this station's changes, resolved by a dispatcher or admin.
 */

export interface SiteWinner {
  child?: string;
  parent?: string;
  station: string;
  user: string;
  /** When the winner made the change (ms since 1970, that station's clock). */
  at: number;
}

export interface SiteConflictView {
  id: number;
  /** What this station did that the site refused, in words ("Linked C1 to SB100"). */
  what: string;
  /** The hub's words. */
  message: string;
  child: string | null;
  /** The parent this station put the child on. */
  parent: string | null;
  winner: SiteWinner | null;
  /** Who did it here, and when. */
  by: string;
  at: number;
  /** When the hub's answer arrived. */
  detectedAt: number;
  /** accept: the site's version is kept; move: the bag goes to this station's parent (a link conflict with a winner). */
  canMove: boolean;
  status: 'open' | 'accepted' | 'moved';
  resolvedBy: string | null;
  resolvedAt: number | null;
}

export interface SiteStatus {
  member: { url: string; stationName: string; joinedAt: number; joinedBy: string } | null;
  /** The feed stream is open now. */
  connected: boolean;
  /** Why not, in words, when a member is not connected. */
  problem: string | null;
  /** The last feed entry applied here. */
  lastSeq: number;
  lastAppliedAt: number | null;
  /** Changes of this station not yet answered by the hub. */
  waiting: number;
  openConflicts: number;
}

const hubUrl = z
  .string()
  .trim()
  .min(1, 'The hub address is required')
  .max(500, 'The hub address is at most 500 characters')
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password && !u.search && !u.hash;
    } catch {
      return false;
    }
  }, 'The hub address must look like https://hub.example:5790 (http or https, no user, query or #)')
  .meta({ examples: ['http://127.0.0.1:5790'] });

export const siteChannels = {
  'site/status': channel<SiteStatus>()({
    request: empty,
    access: 'signed-in',
    summary: "This station's site membership, its feed, and how many conflicts wait",
  }),
  'site/join': channel<SiteStatus>()({
    request: z.strictObject({
      url: hubUrl,
      code: z.string().trim().min(1, 'The enrolment code is required').max(64, 'An enrolment code is at most 64 characters'),
      stationName: z.string().trim().min(1, 'The station name is required').max(64, 'A station name is at most 64 characters'),
    }),
    access: ['admin'],
    summary: 'Enrols this station at a site hub with a one-time code and starts syncing with it',
  }),
  'site/leave': channel<SiteStatus>()({
    request: z.strictObject({ confirm: z.literal(true, 'Confirm leaving the site') }),
    access: ['admin'],
    summary: 'Forgets the site hub and its token; changes not yet sent stay queued',
  }),
  'site/conflicts': channel<SiteConflictView[]>()({
    request: z.strictObject({ status: z.enum(['open', 'all']).default('open') }),
    access: 'signed-in',
    summary: "Conflicts the site hub answered for this station's changes, newest first",
  }),
  'site/resolve': channel<SiteConflictView>()({
    request: z.strictObject({ id, action: z.enum(['accept', 'move']) }),
    access: ['dispatcher', 'admin'],
    summary: "Resolves a conflict: keep the site's version, or move the bag to this station's parent (audited)",
  }),
} as const;
