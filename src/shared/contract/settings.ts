import { z } from 'zod';
import { channel } from './define';
import { empty } from './fields';

/** Station settings: validated the same way when read from the database and when changed. */
export const stationSettingsSchema = z.strictObject({
  stationName: z.string().trim().min(1, 'Station name is required').max(64, 'At most 64 characters'),
  idleLockMinutes: z
    .number({ error: 'Enter a number of minutes' })
    .int('Whole minutes')
    .min(1, 'At least 1 minute')
    .max(240, 'At most 240 minutes'),
  kioskMode: z.boolean(),
});
export type StationSettings = z.infer<typeof stationSettingsSchema>;

export const DEFAULT_SETTINGS: StationSettings = {
  stationName: 'Dock station',
  idleLockMinutes: 10,
  kioskMode: false,
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
