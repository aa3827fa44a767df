import { z } from 'zod';
import { updateSettingsSchema } from '../update-settings';
import { channel } from './define';
import { empty } from './fields';
import { SCANNER_TARGETS } from './scanners';
import { stationSettingsSchema } from './settings';
import { siteChannels } from './site';

/**
 * The provisioning file IT drops next to the app (dockside.provision.json) or passes as
 * `--provision FILE` (issue 17). Fields left out are left as the station has them; `version` and
 * `stationName` are always there. Secrets in it (the enrolment code, upstream passwords and
 * tokens) go to the station's secret store, never to settings, the audit log or the logs.
 */
export const PROVISIONING_FILE_NAME = 'dockside.provision.json';

const webAddress = (what: string) =>
  z
    .string({ error: `${what} is a web address` })
    .trim()
    .max(500, `${what} is at most 500 characters`)
    .refine((s) => {
      try {
        const u = new URL(s);
        return (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password;
      } catch {
        return false;
      }
    }, `${what} must be an http or https address like https://erp.example.com (no user or password in it)`);

const secret = (what: string) =>
  z
    .string({ error: `${what} is text` })
    .min(1, `${what} is empty`)
    .max(512, `${what} is at most 512 characters`);

const login = z.strictObject({ username: secret('The user name'), password: secret('The password') });

export const provisioningFileSchema = z.strictObject({
  /** What IT bumps to say "apply this again"; a change of content applies too. */
  version: z.union([z.number().finite(), z.string().trim().min(1, 'The version is empty').max(40, 'The version is at most 40 characters')], {
    error: 'The version is a number or a text like "2026.11-3"',
  }),
  stationName: stationSettingsSchema.shape.stationName,
  /** The dock door this station stands at, shown on Admin → Station (e.g. "Door 4"). */
  dockDoor: z
    .string({ error: 'The dock door is text, like "Door 4"' })
    .trim()
    .min(1, 'The dock door is empty')
    .max(32, 'The dock door is at most 32 characters')
    .optional(),
  kiosk: z.boolean({ error: 'kiosk is true or false' }).optional(),
  /** Joins the site hub at first start, like --hub-url / --hub-code; a member station stays where it is. */
  hub: z
    .strictObject({
      url: siteChannels['site/join'].request.shape.url,
      enrolmentCode: siteChannels['site/join'].request.shape.code,
    })
    .optional(),
  upstreams: z
    .strictObject({
      bags: z.strictObject({ url: webAddress('The bag-tracking address') }).optional(),
      erp: z
        .strictObject({
          url: webAddress('The ERP address'),
          /** The ERP logins per organisation (secrets). */
          logins: z.strictObject({ DD: login.optional(), CBR: login.optional() }).optional(),
        })
        .optional(),
      leaftrade: z.strictObject({ url: webAddress('The LeafTrade address'), token: secret('The LeafTrade token').optional() }).optional(),
      biotrack: z
        .strictObject({
          url: webAddress('The BioTrack address'),
          location: stationSettingsSchema.shape.biotrackLocation.optional(),
          license: secret('The BioTrack licence').optional(),
          username: secret('The BioTrack user name').optional(),
          password: secret('The BioTrack password').optional(),
        })
        .optional(),
    })
    .optional(),
  /** The shared update settings; fields left out keep the station's. */
  updates: updateSettingsSchema.partial().optional(),
  idleLockMinutes: stationSettingsSchema.shape.idleLockMinutes.optional(),
  /** Where a newly paired scanner's reads go: one screen for all, or by the scanner's USB vendor id. */
  scanners: z
    .strictObject({
      defaultTarget: z.enum(SCANNER_TARGETS, { error: `The screen is one of ${SCANNER_TARGETS.join(', ')}` }),
      byVendor: z
        .array(
          z.strictObject({
            vendorId: z
              .string({ error: 'The vendor id is 4 hex digits, like "0c2e"' })
              .regex(/^[0-9a-fA-F]{4}$/, 'The vendor id is 4 hex digits, like "0c2e"')
              .transform((s) => s.toLowerCase()),
            target: z.enum(SCANNER_TARGETS, { error: `The screen is one of ${SCANNER_TARGETS.join(', ')}` }),
          }),
        )
        .max(50, 'At most 50 vendor rules')
        .optional(),
    })
    .optional(),
});
export type ProvisioningFile = z.infer<typeof provisioningFileSchema>;

/** New scanners' routing as provisioning sets it (settings key SCANNER_ROUTING_KEY). */
export type ScannerRouting = NonNullable<ProvisioningFile['scanners']>;

/** What was applied last: kept in the settings table and shown on Admin → Station. */
export interface ProvisioningApplied {
  version: number | string;
  /** sha256 of the file's bytes. */
  hash: string;
  appliedAt: number;
  path: string;
  stationName: string;
  dockDoor: string | null;
  /** Which parts the file set (no values of secrets): "kiosk", "hub", "upstreams.erp" … */
  parts: string[];
}

export interface ProvisioningProblem {
  path: string;
  at: number;
  /** One line per issue, each naming its field: "hub.url: The hub address must …". */
  messages: string[];
}

export interface ProvisioningStatus {
  applied: ProvisioningApplied | null;
  /** The last file that could not be applied (the station kept what it had), or null. */
  problem: ProvisioningProblem | null;
}

/** "upstreams.erp.logins.DD.password" — the field a person looks for in the file. */
function fieldName(path: readonly PropertyKey[]): string {
  if (!path.length) return 'the file';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
}

/** The value at `path` in what was read, or undefined when the file does not have it. */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let at = input;
  for (const key of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}

/** One line per field that is wrong, "field: what is wrong", in words; unknown fields are named too. */
export function describeProvisioningIssues(error: z.ZodError, input: unknown): string[] {
  const lines = new Map<string, string>();
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const where = issue.path.length ? ` in ${fieldName(issue.path)}` : '';
      for (const key of issue.keys) lines.set(fieldName([...issue.path, key]), `not a provisioning field${where} (check the spelling)`);
      continue;
    }
    const field = fieldName(issue.path);
    if (lines.has(field)) continue; // the first problem of a field is enough to fix it
    lines.set(field, issue.path.length && valueAt(input, issue.path) === undefined ? 'is required' : issue.message);
  }
  return [...lines].map(([field, message]) => `${field}: ${message}`);
}

export const provisioningChannels = {
  'provisioning/status': channel<ProvisioningStatus>()({
    request: empty,
    access: ['admin'],
    summary: 'The provisioning file last applied to this station, and the last one that could not be.',
  }),
};
