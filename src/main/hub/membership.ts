import type { SettingsService } from '../settings/service';

/**
 * A station's membership of a site hub: where the hub is and the name it enrolled under. The
 * station token is in the secret store (HUB_TOKEN_SECRET), never in settings. A station with no
 * membership is standalone: its bag changes go to the configured bags upstream, if any.
 */
export interface HubMembership {
  url: string;
  stationName: string;
  stationId: number;
  joinedAt: number;
  joinedBy: string;
}

export const HUB_SETTING = 'hub';
export const HUB_TOKEN_SECRET = 'hub-token';

export function membershipOf(settings: Pick<SettingsService, 'readKey'>): HubMembership | null {
  return settings.readKey<HubMembership | null>(HUB_SETTING, null);
}
