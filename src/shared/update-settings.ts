import { z } from 'zod';

/**
 * How a station takes updates (issue 17): where its update feed is (electron-updater's generic
 * provider: a folder served over HTTPS holding latest.yml / latest-linux.yml / beta.yml …), which
 * channel it follows, and when it may install. Provisioning writes it; Admin → Station shows it; the
 * updater reads it. Kept in the settings table under UPDATE_SETTINGS_KEY.
 */
export const UPDATE_SETTINGS_KEY = 'updates';

export const updateChannelSchema = z.enum(['stable', 'beta'], { error: 'The channel is stable or beta' });
export type UpdateChannel = z.infer<typeof updateChannelSchema>;

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'A time is HH:MM on the 24-hour clock, like 02:30');

export const updateSettingsSchema = z.strictObject({
  /** The generic provider's base URL (http or https); null: this station does not look for updates. */
  feedUrl: z
    .string()
    .trim()
    .url('The update feed is a web address')
    .refine((u) => /^https?:\/\//i.test(u), 'The update feed is an http or https address')
    .nullable(),
  channel: updateChannelSchema,
  /** The station's quiet hour(s), local time: an update may install then even with someone signed in (never during work). */
  quietHours: z.strictObject({ from: clock, to: clock }).nullable(),
  /** Rollback: a lower version published on the channel installs too. */
  allowDowngrade: z.boolean(),
});
export type UpdateSettings = z.infer<typeof updateSettingsSchema>;

export const DEFAULT_UPDATE_SETTINGS: UpdateSettings = {
  feedUrl: null,
  channel: 'stable',
  quietHours: { from: '02:00', to: '04:00' },
  allowDowngrade: false,
};
