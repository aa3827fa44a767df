import type {
  ProvisioningApplied,
  ProvisioningFile,
  ProvisioningProblem,
  ProvisioningStatus,
  ScannerRouting,
} from '../../shared/contract/provisioning';
import type { StationSettings } from '../../shared/contract/settings';
import type { ScannerTarget } from '../../shared/contract/scanners';
import { DEFAULT_UPDATE_SETTINGS, UPDATE_SETTINGS_KEY, updateSettingsSchema, type UpdateSettings } from '../../shared/update-settings';
import { recordAudit, type AuditActor, type AuditContext } from '../audit/record';
import type { SecretStore } from '../credentials/store';
import type { Db } from '../db/open';
import type { Logger } from '../platform/logger';
import type { SettingsService } from '../settings/service';
import type { ProvisioningRead } from './file';

export const PROVISIONING_APPLIED_KEY = 'provisioning.applied';
export const PROVISIONING_PROBLEM_KEY = 'provisioning.problem';
/** The upstream addresses the file set: the station's upstreams at every start (flags and environment still win). */
export const PROVISIONED_UPSTREAMS_KEY = 'provisioning.upstreams';
/** The hub the file names; joined at start while this station is no member of a site. */
export const PROVISIONED_HUB_KEY = 'provisioning.hub';
export const SCANNER_ROUTING_KEY = 'scanners.routing';
/** The one-time enrolment code waits here until the station has joined its hub. */
export const HUB_CODE_SECRET = 'provisioning.hub.enrolmentCode';

export const PROVISIONING_ACTOR: AuditActor = { userId: null, username: 'provisioning' };

export interface ProvisionedUpstreams {
  bags?: { url: string };
  erp?: { url: string };
  leaftrade?: { url: string };
  biotrack?: { url: string };
}

export interface ProvisioningCore {
  db: Db;
  settings: SettingsService;
  secrets: SecretStore;
  audit: AuditContext;
  logger: Logger;
}

export type ProvisioningOutcome =
  | { outcome: 'none' }
  | { outcome: 'unchanged'; applied: ProvisioningApplied }
  | { outcome: 'applied'; applied: ProvisioningApplied }
  | { outcome: 'refused'; problem: ProvisioningProblem };

/** The secrets a file carries, by their name in the secret store. */
function secretsOf(file: ProvisioningFile): Map<string, string> {
  const out = new Map<string, string>();
  if (file.hub) out.set(HUB_CODE_SECRET, file.hub.enrolmentCode);
  const up = file.upstreams;
  for (const org of ['DD', 'CBR'] as const) {
    const l = up?.erp?.logins?.[org];
    if (l) {
      out.set(`erp.${org}.username`, l.username);
      out.set(`erp.${org}.password`, l.password);
    }
  }
  if (up?.leaftrade?.token) out.set('leaftrade.token', up.leaftrade.token);
  if (up?.biotrack?.license) out.set('biotrack.license', up.biotrack.license);
  if (up?.biotrack?.username) out.set('biotrack.username', up.biotrack.username);
  if (up?.biotrack?.password) out.set('biotrack.password', up.biotrack.password);
  return out;
}

/** Which parts of the station the file sets, for the audit row and Admin → Station (no values). */
function partsOf(file: ProvisioningFile): string[] {
  const parts = ['stationName'];
  if (file.dockDoor !== undefined) parts.push('dockDoor');
  if (file.kiosk !== undefined) parts.push('kiosk');
  if (file.hub) parts.push('hub');
  for (const name of ['bags', 'erp', 'leaftrade', 'biotrack'] as const) if (file.upstreams?.[name]) parts.push(`upstreams.${name}`);
  if (file.updates) parts.push('updates');
  if (file.idleLockMinutes !== undefined) parts.push('idleLockMinutes');
  if (file.scanners) parts.push('scanners');
  return parts;
}

export function provisioningStatus(settings: SettingsService): ProvisioningStatus {
  return {
    applied: settings.readKey<ProvisioningApplied | null>(PROVISIONING_APPLIED_KEY, null),
    problem: settings.readKey<ProvisioningProblem | null>(PROVISIONING_PROBLEM_KEY, null),
  };
}

export function provisionedUpstreams(settings: SettingsService): ProvisionedUpstreams {
  return settings.readKey<ProvisionedUpstreams>(PROVISIONED_UPSTREAMS_KEY, {});
}

/** The screen a newly paired scanner's reads go to: its vendor's rule, else the default, else any screen. */
export function routeNewScanner(routing: ScannerRouting | null, vendorId: number): ScannerTarget {
  if (!routing) return 'any';
  const hex = vendorId.toString(16).padStart(4, '0');
  return routing.byVendor?.find((r) => r.vendorId === hex)?.target ?? routing.defaultTarget;
}

function refuse(core: ProvisioningCore, path: string, messages: string[]): ProvisioningOutcome {
  // The same problem found again (the station looks every minute): kept as first seen, logged once.
  const known = core.settings.readKey<ProvisioningProblem | null>(PROVISIONING_PROBLEM_KEY, null);
  if (known && known.path === path && JSON.stringify(known.messages) === JSON.stringify(messages)) return { outcome: 'refused', problem: known };
  const problem: ProvisioningProblem = { path, at: core.audit.now(), messages };
  core.settings.storeKey(PROVISIONING_PROBLEM_KEY, problem);
  // The messages name fields and say what is wrong; none quotes a value from the file.
  core.logger.warn({ path, issues: messages }, 'provisioning file not applied; the station keeps its settings');
  return { outcome: 'refused', problem };
}

/**
 * Applies a provisioning file read at start: nothing when there is none or it is the one applied
 * last (same hash); otherwise secrets to the secret store, then everything for SQLite in one
 * transaction with one `provisioning.applied` audit row. A file that fails (invalid, secrets
 * refused, a setting out of range) changes nothing and is kept as the problem Admin → Station shows.
 */
export function applyProvisioning(core: ProvisioningCore, read: ProvisioningRead | null): ProvisioningOutcome {
  if (!read) return { outcome: 'none' };
  if (!read.ok) return refuse(core, read.path, read.messages);
  const { settings, db, secrets, audit } = core;
  const { file } = read;
  const last = settings.readKey<ProvisioningApplied | null>(PROVISIONING_APPLIED_KEY, null);
  if (last && last.hash === read.hash && last.version === file.version) {
    if (settings.readKey(PROVISIONING_PROBLEM_KEY, null)) settings.storeKey(PROVISIONING_PROBLEM_KEY, null);
    return { outcome: 'unchanged', applied: last };
  }

  const wanted = secretsOf(file);
  if (wanted.size > 0) {
    const refusal = secrets.refusal?.();
    if (refusal) return refuse(core, read.path, [`secrets: this station cannot keep the file's passwords and codes: ${refusal}`]);
  }
  // The secret store is no part of the transaction: what was there is put back if SQLite refuses.
  const before = new Map([...wanted.keys()].map((name) => [name, secrets.get(name)]));
  const restoreSecrets = () => {
    for (const [name, value] of before) {
      if (value === null) secrets.delete(name);
      else secrets.set(name, value);
    }
  };

  const applied: ProvisioningApplied = {
    version: file.version,
    hash: read.hash,
    appliedAt: audit.now(),
    path: read.path,
    stationName: file.stationName,
    dockDoor: file.dockDoor ?? null,
    parts: partsOf(file),
  };
  try {
    for (const [name, value] of wanted) if (secrets.get(name) !== value) secrets.set(name, value);
    db.transaction(() => {
      const patch: Partial<StationSettings> = { stationName: file.stationName };
      if (file.kiosk !== undefined) patch.kioskMode = file.kiosk;
      if (file.idleLockMinutes !== undefined) patch.idleLockMinutes = file.idleLockMinutes;
      if (file.upstreams?.biotrack?.location !== undefined) patch.biotrackLocation = file.upstreams.biotrack.location;
      settings.update(patch, PROVISIONING_ACTOR, audit);
      let updates: UpdateSettings | undefined;
      if (file.updates) {
        updates = updateSettingsSchema.parse({ ...settings.readKey(UPDATE_SETTINGS_KEY, DEFAULT_UPDATE_SETTINGS), ...file.updates });
        settings.storeKey(UPDATE_SETTINGS_KEY, updates);
      }
      let upstreams: ProvisionedUpstreams | undefined;
      if (file.upstreams) {
        upstreams = {};
        for (const name of ['bags', 'erp', 'leaftrade', 'biotrack'] as const) {
          const url = file.upstreams[name]?.url;
          if (url) upstreams[name] = { url };
        }
        settings.storeKey(PROVISIONED_UPSTREAMS_KEY, upstreams);
      }
      if (file.hub) settings.storeKey(PROVISIONED_HUB_KEY, { url: file.hub.url });
      if (file.scanners) settings.storeKey(SCANNER_ROUTING_KEY, file.scanners);
      settings.storeKey(PROVISIONING_APPLIED_KEY, applied);
      settings.storeKey(PROVISIONING_PROBLEM_KEY, null);
      // What changed, without a secret: the secrets are named by the parts, never given.
      recordAudit(db, audit, PROVISIONING_ACTOR, {
        action: 'provisioning.applied',
        entity: 'provisioning',
        entityId: String(file.version),
        after: {
          ...applied,
          kiosk: file.kiosk,
          idleLockMinutes: file.idleLockMinutes,
          hub: file.hub ? { url: file.hub.url } : undefined,
          upstreams,
          updates,
          scanners: file.scanners,
          secretsSet: [...wanted.keys()],
        },
      });
    });
  } catch (err) {
    restoreSecrets();
    const issues = (err as { issues?: { path: PropertyKey[]; message: string }[] }).issues;
    const messages = issues?.length
      ? issues.map((i) => `${i.path.join('.') || 'the file'}: ${i.message}`)
      : [`the file: could not be applied (${err instanceof Error ? err.message : String(err)})`];
    return refuse(core, read.path, messages);
  }
  core.logger.info({ path: read.path, version: file.version, parts: applied.parts }, 'provisioning file applied');
  return { outcome: 'applied', applied };
}
