import { z } from 'zod';
import { channel } from './define';
import { empty } from './fields';

/** A regular expression source that compiles; matched against the whole upper-cased id. */
const patternSource = z
  .string()
  .min(1, 'Pattern is required')
  .max(200, 'At most 200 characters')
  .refine((p) => {
    try {
      new RegExp(p);
      return true;
    } catch {
      return false;
    }
  }, 'Not a valid pattern')
  .meta({ examples: ['SB\\d{5}'] });

export const bagFormatSchema = z.strictObject({
  /** Shown to people: "SB + 5 digits". */
  label: z.string().trim().min(1, 'Label is required').max(40, 'At most 40 characters'),
  pattern: patternSource,
});
export type BagFormat = z.infer<typeof bagFormatSchema>;

/** Station settings: validated the same way when read from the database and when changed. */
export const stationSettingsSchema = z.strictObject({
  stationName: z.string().trim().min(1, 'Station name is required').max(64, 'At most 64 characters'),
  idleLockMinutes: z.number({ error: 'Enter a number of minutes' }).int('Whole minutes').min(1, 'At least 1 minute').max(240, 'At most 240 minutes'),
  /** A shift: sessions older than this are signed out even while in use (the idle lock is separate). */
  shiftHours: z.number({ error: 'Enter a number of hours' }).int('Whole hours').min(1, 'At least 1 hour').max(24, 'At most 24 hours'),
  kioskMode: z.boolean(),
  parentFormats: z.array(bagFormatSchema).min(1, 'At least one parent format').max(10, 'At most 10 parent formats'),
  childFormat: bagFormatSchema,
  /** Bill weight = children × this. */
  kgPerChild: z.number({ error: 'Enter a weight in kg' }).positive('Must be more than 0').max(1000, 'At most 1000 kg'),
  /** Shown as progress per parent, never enforced; 0 = no target. */
  targetChildrenPerParent: z.number({ error: 'Enter a whole number' }).int('Whole number').min(0, '0 or more').max(10_000, 'At most 10000'),
  undoWindowMinutes: z.number({ error: 'Enter minutes' }).int('Whole minutes').min(0, '0 or more').max(1440, 'At most 1440 minutes'),
  /** The same id scanned again within this time is ignored (scanner double-reads). */
  scanDebounceMs: z.number({ error: 'Enter milliseconds' }).int('Whole milliseconds').min(0, '0 or more').max(10_000, 'At most 10000 ms'),
  /** This facility's BioTrack licence (BioTrack calls it the location): 6 digits, or '' before it is set. */
  biotrackLocation: z
    .string()
    .trim()
    .regex(/^(\d{6})?$/, 'The BioTrack location is the facility licence: 6 digits')
    .meta({ examples: ['990010'] }),
  /** Uploads must match the scan id patterns; off, an upload takes any id and only scans are checked. */
  importEnforceFormats: z.boolean(),
  /** Exports and rejected-row reports are deleted this many days after they were made. */
  filesKeepDays: z.number({ error: 'Enter a number of days' }).int('Whole days').min(1, 'At least 1 day').max(365, 'At most 365 days'),
  /** The printer trip manifests go to in the desktop app, as the system names it; '' = the system's default printer. */
  printer: z
    .string()
    .trim()
    .max(128, 'At most 128 characters')
    // Written without \p{…}: the contract's JSON schema (and its fuzz test) read the pattern without the u flag.
    // eslint-disable-next-line no-control-regex
    .regex(/^[^\x00-\x1F\x7F]*$/, 'A printer name has no control characters')
    .meta({ examples: ['Dock Laser 4'] }),
  /** After the ERP answers 503 it is left alone this long (reads come from the cache meanwhile); 0 = no cooldown. */
  erpCooldownMinutes: z
    .number({ error: 'Enter a number of minutes' })
    .int('Whole minutes')
    .min(0, '0 or more (0: no cooldown)')
    .max(240, 'At most 240 minutes'),
});
export type StationSettings = z.infer<typeof stationSettingsSchema>;

export const DEFAULT_SETTINGS: StationSettings = {
  stationName: 'Dock station',
  idleLockMinutes: 10,
  shiftHours: 12,
  kioskMode: false,
  parentFormats: [
    { label: 'SB + 5 digits', pattern: 'SB\\d{5}' },
    { label: 'M444- + 5 digits', pattern: 'M444-\\d{5}' },
  ],
  childFormat: { label: '1–64 printable characters', pattern: '[\\x21-\\x7E](?:[\\x20-\\x7E]{0,62}[\\x21-\\x7E])?' },
  kgPerChild: 1,
  targetChildrenPerParent: 0,
  undoWindowMinutes: 60,
  scanDebounceMs: 1500,
  biotrackLocation: '',
  importEnforceFormats: false,
  filesKeepDays: 7,
  printer: '',
  erpCooldownMinutes: 5,
};

export const settingsChannels = {
  'settings/get': channel<StationSettings>()({
    request: empty,
    access: 'signed-in',
    summary: 'This station’s settings.',
  }),
  'settings/update': channel<StationSettings>()({
    request: stationSettingsSchema.partial(),
    access: ['admin'],
    summary: 'Change some of this station’s settings.',
  }),
};
