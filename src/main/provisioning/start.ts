import { createStation, type Station, type StationConfig } from '../app/station';
import type { ProvisioningProblem } from '../../shared/contract/provisioning';
import {
  applyProvisioning,
  HUB_CODE_SECRET,
  PROVISIONED_HUB_KEY,
  PROVISIONING_ACTOR,
  PROVISIONING_APPLIED_KEY,
  PROVISIONING_PROBLEM_KEY,
  provisionedUpstreams,
  type ProvisioningOutcome,
} from './apply';
import type { Logger } from '../platform/logger';
import { findProvisioningFile, readProvisioningFile } from './file';

export interface ProvisioningSource {
  /** `--provision FILE`: only this file, and a missing one is a problem to show. */
  explicit?: string | null;
  /** Folders to look in for dockside.provision.json when there is no --provision (first found wins). */
  folders: (string | null | undefined)[];
}

export interface ProvisionedStation {
  station: Station;
  provisioning: ProvisioningOutcome;
}

/**
 * The one way both entries (the Electron shell and the browser host) start a station: the
 * provisioning file is read and applied as the database opens (apply.ts), the station starts with
 * the upstreams it set, and a station the file sends to a site hub joins it when it is no member
 * yet. The station looks at the file again every minute, so IT's change applies without a restart.
 * A file that cannot be applied leaves the station as it was; Admin → Station shows why.
 */
export async function startProvisionedStation(config: StationConfig, source: ProvisioningSource): Promise<ProvisionedStation> {
  let provisioning: ProvisioningOutcome = { outcome: 'none' };
  let started: Station | null = null;
  const station = await createStation({
    ...config,
    provision: provisionFrom(source, (o) => (provisioning = o)),
    // A file changed while running: applied by the station's recheck; a hub it newly names is joined.
    afterReprovision: () => {
      if (started && provisioning.outcome === 'applied') void joinProvisionedHub(started, config.logger);
    },
  });
  started = station;
  await joinProvisionedHub(station, config.logger);
  return { station, provisioning };
}

/** createStation's `provision` hook for a source: finds, reads and applies the file, and gives the upstreams provisioned so far. */
export function provisionFrom(source: ProvisioningSource, outcome: (o: ProvisioningOutcome) => void): NonNullable<StationConfig['provision']> {
  return (core) => {
    const file = findProvisioningFile(source);
    outcome(applyProvisioning(core, file ? readProvisioningFile(file) : null));
    return { upstreams: provisionedUpstreams(core.settings) };
  };
}

/**
 * While the station is no member of a site and a provisioned hub's enrolment code waits in the
 * secret store, join; the code is deleted once used. A hub that cannot be reached is shown as the
 * provisioning problem and tried again at the next start; the station works on meanwhile.
 */
export async function joinProvisionedHub(station: Station, logger?: Logger): Promise<void> {
  const hub = station.settings.readKey<{ url: string } | null>(PROVISIONED_HUB_KEY, null);
  const code = station.secrets.get(HUB_CODE_SECRET);
  if (!hub || !code) return;
  const member = station.site.membership;
  if (member) {
    // A one-time code is no use to a member; a different hub is left to an admin (leave the site first).
    station.secrets.delete(HUB_CODE_SECRET);
    return;
  }
  try {
    await station.site.join({ url: hub.url, code, stationName: station.settings.get().stationName }, PROVISIONING_ACTOR);
    station.secrets.delete(HUB_CODE_SECRET);
  } catch (err) {
    const problem: ProvisioningProblem = {
      path: station.settings.readKey<{ path: string } | null>(PROVISIONING_APPLIED_KEY, null)?.path ?? '',
      at: Date.now(),
      messages: [
        `hub.url: could not join the site hub at ${hub.url}: ${err instanceof Error ? err.message : String(err)} (tried again at the next start)`,
      ],
    };
    station.settings.storeKey(PROVISIONING_PROBLEM_KEY, problem);
    logger?.warn({ hub: hub.url, issues: problem.messages }, 'provisioning: could not join the site hub');
  }
}
