import { z } from 'zod';
import { channel } from './define';
import { ERP_ORGS, type ErpOrg } from './erp';
import { empty } from './fields';

/** Where the ERP's users are: prewarm times are read in this zone unless an admin picks another. */
export const DEFAULT_PREWARM_TIME_ZONE = 'Australia/Sydney';
export const MAX_PREWARM_TIMES = 24;

/** A time of day, HH:MM on the 24-hour clock. */
export const DAILY_TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

/** Whether Intl knows the zone ("Australia/Sydney" yes, "Mars/Olympus" no). */
export function knownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** One instance's prewarm: daily local times (HH:MM) in an IANA time zone. */
export const prewarmScheduleSchema = z.strictObject({
  org: z.enum(ERP_ORGS),
  times: z
    .array(z.string().trim().max(16, 'A time is HH:MM, like 06:00'))
    .max(MAX_PREWARM_TIMES, `At most ${MAX_PREWARM_TIMES} times a day`)
    .superRefine((times, ctx) => {
      for (const t of times)
        if (!DAILY_TIME.test(t))
          ctx.addIssue({ code: 'custom', message: `“${t}” is not a time of day: write HH:MM on the 24-hour clock, 00:00 to 23:59` });
    })
    .meta({ examples: [['05:30', '17:00']] }),
  timeZone: z
    .string()
    .trim()
    .min(1, 'Enter a time zone, like Australia/Sydney')
    .max(64, 'At most 64 characters')
    .superRefine((zone, ctx) => {
      if (zone && zone.length <= 64 && !knownTimeZone(zone))
        ctx.addIssue({ code: 'custom', message: `“${zone}” is not a time zone this station knows: use a name like Australia/Sydney` });
    })
    .meta({ examples: ['Australia/Sydney'] }),
});
export type PrewarmScheduleInput = z.input<typeof prewarmScheduleSchema>;

/** How a prewarm run came about. */
export type PrewarmTrigger = 'scheduled' | 'catch-up' | 'manual';

/** The last prewarm of one instance: when, and how many rows were cached or why not. */
export interface PrewarmResult {
  org: ErpOrg;
  trigger: PrewarmTrigger;
  /** The scheduled time it ran for (null for a manual run). */
  scheduledFor: number | null;
  startedAt: number;
  finishedAt: number;
  /** Open orders cached; null when the run failed. */
  rows: number | null;
  /** Why it failed, in words; null when it worked. */
  error: string | null;
}

export interface PrewarmInstanceView {
  org: ErpOrg;
  /** Sorted, each once. */
  times: string[];
  timeZone: string;
  nextRunAt: number | null;
  /** The next run in the instance's zone and in the station's own zone ("Mon 6 Oct 2026, 06:00 AEDT"). */
  nextRunInZone: string | null;
  nextRunStationTime: string | null;
  last: PrewarmResult | null;
  running: boolean;
}

export interface PrewarmScheduleView {
  /** Whether an ERP is configured on this station at all. */
  configured: boolean;
  /** The zone this station's clock runs in. */
  stationTimeZone: string;
  instances: PrewarmInstanceView[];
}

export const erpScheduleChannels = {
  'erp-schedule/get': channel<PrewarmScheduleView>()({
    request: empty,
    access: ['admin'],
    summary: 'The ERP prewarm schedule per instance, its next run and its last result.',
  }),
  'erp-schedule/set': channel<PrewarmScheduleView>()({
    request: prewarmScheduleSchema,
    access: ['admin'],
    summary: 'Set the daily prewarm times and time zone of one ERP instance.',
  }),
  'erp-schedule/run-now': channel<PrewarmScheduleView>()({
    request: z.strictObject({ org: z.enum(ERP_ORGS).optional() }),
    access: ['admin'],
    summary: 'Fetch and cache the open orders of one ERP instance, or both, now.',
  }),
};
