import { z } from 'zod';
import { channel } from './define';
import { empty } from './fields';
import { floorSchema, rackIdSchema } from '../hub';

/**
 * Stock verification (issue 16): racks (site-wide), the ERP's items, claiming a rack through the
 * site hub's lease, counting lines in a session, finalizing them into records the hub checks, the
 * conflict list, and global notices.
 */

export interface RackLeaseView {
  user: string;
  station: string;
  /** When it was claimed, ms since 1970 (the hub's clock). */
  since: number;
  /** When it runs out unless renewed (the hub's clock), or null when the feed did not say. */
  expiresAt: number | null;
}

export interface RackView {
  rackId: string;
  floor: string;
  name: string | null;
  active: boolean;
  updatedAt: number;
  updatedBy: string;
  /** Who holds the rack now, as the site's feed says; null: free. */
  lease: RackLeaseView | null;
}

export interface ItemView {
  itemCode: string;
  name: string;
  description: string;
  barcode: string | null;
  org: string;
}

export type VerifyLineStatus = 'draft' | 'queued' | 'ok' | 'conflict' | 'error' | 'discarded' | 'accepted';

export interface VerifyLineView {
  clientRecordId: string;
  sessionId: string;
  rackId: string;
  floor: string;
  itemCode: string;
  itemName: string | null;
  verified: number;
  damaged: number;
  serials: string[];
  madeAt: number;
  /** Made after the lease ran out or was lost: the hub is expected to refuse it (lease_lapsed). */
  lapsed: boolean;
  status: VerifyLineStatus;
  /** The hub's conflict code (serial_taken, lease_lapsed, damage_exceeds_verified) or 'error'. */
  hubCode: string | null;
  /** The hub's words. */
  hubReason: string | null;
  user: string;
  resolvedBy: string | null;
  resolvedAt: number | null;
}

/** The session HUD: rack, time held, lease countdown, lines counted, records waiting to sync. */
export interface VerifySessionView {
  id: string;
  rackId: string;
  floor: string;
  user: string;
  startedAt: number;
  /** ms the rack has been held (now − startedAt). */
  heldMs: number;
  leaseId: string | null;
  /** ms until the lease runs out on this station's clock (0: ran out); null: no lease now. */
  leaseRemainingMs: number | null;
  /** The lease was lost (not renewed, broken, ran out): lines made since are flagged lapsed. */
  lapsed: boolean;
  lapsedReason: string | null;
  /** The hub answers now (the heartbeat got through last time). */
  hubReachable: boolean;
  status: 'open' | 'finalized' | 'cancelled';
  lines: VerifyLineView[];
  linesCounted: number;
  /** This station's finalized records the hub has not answered yet. */
  recordsWaiting: number;
}

export interface NoticeView {
  id: number;
  text: string;
  by: string;
  station: string;
  at: number;
}

export interface VerifyChanged {
  /** What changed: ask the matching channel. */
  what: 'racks' | 'leases' | 'session' | 'records' | 'notices' | 'items';
  /** Words for the person (a break of their claim, a notice). */
  message?: string;
}

/** The hub's own field rules (src/shared/hub.ts), so a rack the station takes is one the hub takes. */
const rackId = rackIdSchema.meta({ examples: ['R1'] });
const floor = floorSchema.meta({ examples: ['Ground'] });
const uuid = z
  .string()
  .uuid('Not a record id')
  .meta({ examples: ['6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b'] });
const sessionId = z
  .string()
  .uuid('Not a session id')
  .meta({ examples: ['0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f'] });
const quantity = (what: string) =>
  z.number(`${what} is a number`).int(`${what} is a whole number`).min(0, `${what} is 0 or more`).max(1_000_000, `${what} is at most 1,000,000`);
const serial = z.string().trim().min(1, 'A serial number cannot be empty').max(100, 'A serial number is at most 100 characters');

export const verifyChannels = {
  'verify/racks': channel<RackView[]>()({
    request: z.strictObject({ includeInactive: z.boolean().default(false) }),
    access: 'signed-in',
    summary: "The site's racks with who holds each now",
  }),
  'verify/rack-save': channel<RackView>()({
    request: z.strictObject({
      rackId,
      floor,
      name: z.string().trim().max(200, 'A rack name is at most 200 characters').optional(),
      active: z.boolean().default(true),
    }),
    access: ['admin'],
    summary: 'Creates or edits a rack (audited; sent to the site)',
  }),
  'verify/racks-import': channel<{ created: number; updated: number; unchanged: number }>()({
    request: z.strictObject({
      fileName: z
        .string()
        .trim()
        .min(1, 'The file name is required')
        .max(255, 'A file name is at most 255 characters')
        .regex(/\.(csv|xlsx)$/i, 'The file is a .csv or .xlsx')
        .meta({ examples: ['racks.csv'] }),
      /** The file's bytes, base64 (a rack list is small: one message, not the import wizard's chunks). */
      content: z
        .string()
        .min(1, 'The file is empty')
        .max(1_400_000, 'A rack file is at most 1 MB')
        .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'The file is not base64')
        .meta({ examples: ['UmFjayxGbG9vcgpSMSxHcm91bmQK'] }),
    }),
    access: ['admin'],
    summary: 'Imports racks from a CSV or XLSX file with rack id, floor and optional name columns (audited)',
  }),
  'verify/items-refresh': channel<{ items: number; warning: string | null }>()({
    request: empty,
    access: 'signed-in',
    summary: "Reads the ERP's item catalogue into this station's search",
  }),
  'verify/items-search': channel<ItemView[]>()({
    request: z.strictObject({
      text: z.string().trim().min(1, 'Type something to search for').max(100, 'A search is at most 100 characters'),
      limit: z.number().int('limit is a whole number').min(1, 'limit is at least 1').max(100, 'limit is at most 100').default(20),
    }),
    access: 'signed-in',
    summary: 'Items whose code, name or description has words starting with the text',
  }),
  'verify/item-by-code': channel<ItemView | null>()({
    request: z.strictObject({ code: z.string().trim().min(1, 'Scan or type an item code').max(64, 'An item code is at most 64 characters') }),
    access: 'signed-in',
    summary: 'The item with this barcode or item code',
  }),
  'verify/claim': channel<VerifySessionView>()({
    request: z.strictObject({ rackId, floor }),
    access: 'signed-in',
    summary: "Claims a rack through the site hub's lease and opens a counting session",
  }),
  'verify/session': channel<VerifySessionView | null>()({
    request: empty,
    access: 'signed-in',
    summary: "The caller's open session with its lines (the HUD)",
  }),
  'verify/line-save': channel<VerifyLineView>()({
    request: z.strictObject({
      sessionId,
      clientRecordId: uuid.optional(),
      itemCode: z.string().trim().min(1, 'Item code is required').max(64, 'An item code is at most 64 characters'),
      verified: quantity('Verified'),
      damaged: quantity('Damaged'),
      serials: z.array(serial).max(1000, 'A line has at most 1,000 serials').default([]),
    }),
    access: 'signed-in',
    summary: 'Adds a counted line to the open session, or edits one (before finalize)',
  }),
  'verify/line-delete': channel<{ deleted: true }>()({
    request: z.strictObject({ clientRecordId: uuid }),
    access: 'signed-in',
    summary: 'Deletes a line of the open session (before finalize)',
  }),
  'verify/finalize': channel<VerifySessionView>()({
    request: z.strictObject({ sessionId }),
    access: 'signed-in',
    summary: "Finalizes the session: its lines are queued for the hub as records and the rack's lease released",
  }),
  'verify/release': channel<VerifySessionView>()({
    request: z.strictObject({ sessionId }),
    access: 'signed-in',
    summary: "Cancels the session without sending its lines and releases the rack's lease",
  }),
  'verify/break': channel<{ broken: true }>()({
    request: z.strictObject({
      rackId,
      floor,
      reason: z.string().trim().min(1, 'A reason is required: the holder is told why').max(500, 'A reason is at most 500 characters'),
    }),
    access: ['admin'],
    summary: "Breaks another person's claim on a rack (audited; they are told)",
  }),
  'verify/conflicts': channel<VerifyLineView[]>()({
    request: z.strictObject({ status: z.enum(['open', 'all']).default('open') }),
    access: 'signed-in',
    summary: "Records the hub refused (conflicts and errors) with the hub's reasons",
  }),
  'verify/resolve': channel<VerifyLineView>()({
    request: z.strictObject({ clientRecordId: uuid, action: z.enum(['recount', 'accept', 'discard']) }),
    access: 'signed-in',
    summary: "Resolves a refused record: recount it in the caller's open session on that rack, accept the hub's answer, or discard it (audited)",
  }),
  'verify/notices': channel<NoticeView[]>()({
    request: empty,
    access: 'signed-in',
    summary: 'Global notices from admins, newest first',
  }),
  'verify/notice-post': channel<NoticeView>()({
    request: z.strictObject({ text: z.string().trim().min(1, 'The notice text is required').max(500, 'A notice is at most 500 characters') }),
    access: ['admin'],
    summary: 'Posts a notice every station of the site shows',
  }),
} as const;
