import type { z } from 'zod';
import { mergeChannels } from './define';
import { auditChannels } from './audit';
import { bagChannels } from './bags';
import { billChannels } from './bills';
import { dashboardChannels } from './dashboard';
import { erpChannels } from './erp';
import { erpScheduleChannels } from './erp-schedule';
import { etaChannels } from './eta';
import { leafTradeChannels } from './leaftrade';
import { bioTrackChannels } from './biotrack';
import { exportChannels } from './exports';
import { filesChannels } from './files';
import { healthChannels } from './health';
import { importChannels } from './imports';
import { jobChannels } from './jobs';
import { mailChannels } from './mail';
import { provisioningChannels } from './provisioning';
import { scannerChannels } from './scanners';
import { secondFactorChannels } from './second-factor';
import { sessionChannels } from './session';
import { tripChannels } from './trips';
import { syncChannels } from './sync';
import { tripExecutionChannels } from './trip-execution';
import { tripPaperChannels } from './trips-paper';
import { settingsChannels } from './settings';
import { siteChannels } from './site';
import { updateChannels } from './updates';
import { userChannels } from './users';
import { verifyChannels } from './verify';
import { verifyReportChannels } from './verify-reports';

export * from './audit';
export * from './bags';
export * from './bills';
export * from './dashboard';
export * from './define';
export * from './erp';
export * from './erp-schedule';
export * from './eta';
export * from './leaftrade';
export * from './biotrack';
export * from './sync';
export * from './exports';
export * from './files';
export * from './health';
export * from './imports';
export * from './jobs';
export * from './mail';
export * from './provisioning';
export * from './scanners';
export * from './second-factor';
export * from './session';
export * from './trips';
export * from './settings';
export * from './site';
export * from './trip-execution';
export * from './trips-paper';
export * from './updates';
export * from './users';
export * from './verify';
export * from './verify-reports';

/** The one channel map: main registers a handler for each, the renderer calls them by name. */
export const contract = mergeChannels(
  sessionChannels,
  secondFactorChannels,
  userChannels,
  settingsChannels,
  bagChannels,
  billChannels,
  auditChannels,
  scannerChannels,
  provisioningChannels,
  jobChannels,
  importChannels,
  exportChannels,
  filesChannels,
  syncChannels,
  erpChannels,
  erpScheduleChannels,
  etaChannels,
  leafTradeChannels,
  bioTrackChannels,
  mailChannels,
  tripChannels,
  tripExecutionChannels,
  tripPaperChannels,
  dashboardChannels,
  siteChannels,
  verifyChannels,
  verifyReportChannels,
  updateChannels,
  healthChannels,
);

export type Contract = typeof contract;
export type ChannelName = keyof Contract;
/** What the renderer sends (before parsing). */
export type RequestOf<C extends ChannelName> = z.input<Contract[C]['request']>;
/** What the handler receives (after parsing and normalising). */
export type ParsedRequestOf<C extends ChannelName> = z.output<Contract[C]['request']>;
export type ResponseOf<C extends ChannelName> = Exclude<Contract[C]['response'], undefined>;

export const CHANNEL_NAMES = Object.keys(contract) as ChannelName[];
