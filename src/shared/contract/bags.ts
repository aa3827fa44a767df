import { z } from 'zod';
import { channel } from './define';
import { empty } from './fields';

/** Where a scan came from: a keyboard-wedge burst, a person typing, or a HID scanner read in main. */
export const SCAN_SOURCES = ['wedge', 'manual', 'hid'] as const;
export type ScanSource = (typeof SCAN_SOURCES)[number];

export const SCAN_RESULTS = [
  'parent', // a parent was scanned and is now the current parent
  'linked', // a child was linked to the current parent
  'already_linked', // the child is already on this parent: nothing to do
  'conflict', // the child is on another parent
  'no_parent', // a child was scanned with no current parent
  'invalid', // not a valid id
  'bill_closed', // the current parent is on a finalized bill
  'ignored', // the same id again inside the debounce window
] as const;
export type ScanResult = (typeof SCAN_RESULTS)[number];

export interface ParentProgress {
  code: string;
  childCount: number;
  /** 0 = no target configured. */
  target: number;
  bill: { id: number; number: string; finalized: boolean } | null;
}

export interface ScanOutcome {
  result: ScanResult;
  /** The normalised id, or null when the input could not be read as one. */
  code: string | null;
  /** One sentence for the big status panel. */
  message: string;
  parent: ParentProgress | null;
  /** On 'conflict': the parent the child is already on. */
  otherParent?: string;
  scanId: number | null;
}

export interface ScanRow {
  id: number;
  at: number;
  code: string | null;
  raw: string;
  result: ScanResult | 'undone';
  message: string;
  source: ScanSource;
  parentCode: string | null;
  username: string | null;
}

export interface BagRow {
  code: string;
  kind: 'parent' | 'child';
  createdAt: number;
  createdBy: string | null;
  parentCode: string | null;
  childCount: number | null;
  billNumber: string | null;
}

export interface BagDetail extends BagRow {
  children: { code: string; linkedAt: number; linkedBy: string | null }[];
  linkedAt: number | null;
  bill: { id: number; number: string; status: 'draft' | 'finalized' } | null;
  scans: ScanRow[];
}

const rawCode = z.string().min(1, 'Empty scan').max(256, 'Too long to be a barcode');
const codeQuery = z.string().trim().min(1, 'Enter an id').max(64, 'At most 64 characters');
const time = z.number().int().min(0);

export const bagChannels = {
  'bags/scan': channel<ScanOutcome>()({
    request: z.strictObject({
      code: rawCode,
      source: z.enum(SCAN_SOURCES),
      /** The scanner that read it (HID path), for the scan log. */
      device: z.string().max(120).optional(),
    }),
    access: ['admin', 'dispatcher'],
    summary: 'A scan at the dock door: selects a parent or links a child to the current parent.',
  }),
  'bags/current': channel<{ parent: ParentProgress | null; recent: ScanRow[] }>()({
    request: empty,
    access: ['admin', 'dispatcher'],
    summary: 'This window’s current parent and this user’s recent scans.',
  }),
  'bags/undo-last': channel<{ message: string; parent: ParentProgress | null }>()({
    request: empty,
    access: ['admin', 'dispatcher'],
    summary: 'Undo this user’s last link, inside the undo window.',
  }),
  'bags/search': channel<{ rows: BagRow[]; nextCursor: string | null }>()({
    request: z.strictObject({
      prefix: z.string().trim().max(64, 'At most 64 characters').optional(),
      billNumber: z.string().trim().min(1).max(32).optional(),
      from: time.optional(),
      to: time.optional(),
      username: z.string().trim().min(1).max(32).optional(),
      kind: z.enum(['parent', 'child']).optional(),
      cursor: z.string().max(200).optional(),
      limit: z.number().int().min(1).max(200).optional(),
    }),
    access: 'signed-in',
    summary: 'Find bags by id prefix, bill, date range or user; keyset-paginated.',
  }),
  'bags/detail': channel<BagDetail>()({
    request: z.strictObject({ code: codeQuery }),
    access: 'signed-in',
    summary: 'One bag: parent, children, bill and scan history.',
  }),
  'bags/delete': channel<null>()({
    request: z.strictObject({ code: codeQuery, reason: z.string().trim().min(3, 'Say why (3+ characters)').max(200) }),
    access: ['admin'],
    summary: 'Delete a bag and its links; refused while it is on a finalized bill.',
  }),
};
