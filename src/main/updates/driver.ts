import fs from 'node:fs';
import path from 'node:path';
import type { AppUpdater, ProgressInfo, UpdateInfo } from 'electron-updater';
import type { UpdateChannel } from '../../shared/update-settings';
import type { Logger } from '../platform/logger';

/**
 * What the update service needs of an updater: configure it, ask the feed, hear what happens,
 * install. The product's is electron-updater's (below); it runs under Node too, given an app
 * adapter and an HTTP executor, which is how the tests drive it against a local feed.
 */
export type DriverEvent =
  | { type: 'checking' }
  | { type: 'available'; version: string }
  | { type: 'not-available'; version: string | null }
  | { type: 'progress'; percent: number }
  | { type: 'downloaded'; version: string }
  | { type: 'error'; message: string };

export interface DriverConfig {
  feedUrl: string;
  channel: UpdateChannel;
  allowDowngrade: boolean;
}

export interface UpdaterDriver {
  /** The version this copy runs. */
  readonly version: string;
  configure(config: DriverConfig): void;
  /** Asks the feed; an update found downloads in the background. Events tell the outcome. */
  check(): Promise<void>;
  /** Installs the downloaded update and restarts Dockside (the product closes the station first). */
  install(): Promise<void>;
  onEvent(listener: (event: DriverEvent) => void): void;
}

/** electron-updater's channel file for ours: stable reads latest(-linux).yml, beta reads beta(-linux).yml. */
export function feedChannel(channel: UpdateChannel): 'latest' | 'beta' {
  return channel === 'beta' ? 'beta' : 'latest';
}

/** Where electron-updater keeps the staged-rollout id (AppUpdater.getOrCreateStagingUserId): `.updaterId` in userData. */
export const STAGING_ID_FILE = '.updaterId';

/**
 * The station's place in a staged rollout, 0–100: electron-updater reads the id's last 4 bytes as a
 * fraction of 0xffffffff and takes a release of stagingPercentage P when that fraction < P/100.
 */
export function rolloutBucket(uuid: string): number | null {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) return null;
  return (Number.parseInt(hex.slice(24, 32), 16) / 0xffffffff) * 100;
}

/** Error text for people: electron-updater's messages carry stacks and raw YAML. */
export function updateErrorInWords(err: unknown): string {
  const e = err as { code?: string; message?: string; statusCode?: number } | null;
  const code = e?.code ?? '';
  const message = e?.message ?? String(err);
  if (code === 'ERR_UPDATER_CHANNEL_FILE_NOT_FOUND') {
    const file = /channel "([^"]+)"/.exec(message)?.[1];
    return `The update feed has no ${file ?? 'channel file'} for this channel`;
  }
  if (code === 'ERR_UPDATER_INVALID_UPDATE_INFO') return 'The update feed answered with a channel file that is not valid update information';
  if (code === 'ERR_UPDATER_INVALID_VERSION') return 'The update feed names a version that is not a valid version number';
  if (code === 'ERR_CHECKSUM_MISMATCH' || /sha512 checksum mismatch/i.test(message))
    return 'The downloaded update does not match its sha512 in the feed: it was not kept';
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ETIMEDOUT' || code === 'ECONNRESET')
    return `The update feed could not be reached (${code})`;
  if (code === 'HTTP_ERROR_404' || e?.statusCode === 404) return 'The update feed has no such file (404)';
  const status = /^(\d{3}) /.exec(message)?.[1];
  if (status) return `The update feed answered ${status}`;
  return `The update failed: ${message.split('\n')[0].slice(0, 200)}`;
}

export interface ElectronUpdaterDriverOptions {
  /** The folder electron-updater reads `.updaterId` from (Electron's userData: the station's data folder). */
  userDataPath: string;
  /** The station's per-install id (a UUID): electron-updater's staged-rollout id. */
  stagingId: string;
  logger: Logger;
  /** Closes the station, then electron-updater's quitAndInstall (index.ts); tests pass one that records. */
  install: (updater: AppUpdater) => Promise<void>;
}

/**
 * electron-updater behind UpdaterDriver. Generic provider at the feed URL; downloads in the
 * background; never installs on quit by itself (the policy decides when); downgrade as the settings say.
 */
export function electronUpdaterDriver(updater: AppUpdater, options: ElectronUpdaterDriverOptions): UpdaterDriver {
  // The staged-rollout id is the station's, written where electron-updater reads it (before its first check reads it).
  const idFile = path.join(options.userDataPath, STAGING_ID_FILE);
  let onDisk: string | null = null;
  try {
    onDisk = fs.readFileSync(idFile, 'utf8');
  } catch {
    // none yet
  }
  if (onDisk !== options.stagingId) {
    fs.mkdirSync(options.userDataPath, { recursive: true });
    fs.writeFileSync(idFile, options.stagingId, { mode: 0o600 });
  }
  // electron-updater reads its cache folder's name from app-update.yml, which electron-builder writes
  // only with a publish entry; ours is written here, so the feed comes from the station's settings alone.
  const configFile = path.join(options.userDataPath, 'updater', 'app-update.yml');
  fs.mkdirSync(path.dirname(configFile), { recursive: true });
  fs.writeFileSync(configFile, 'provider: generic\nurl: https://updates.invalid/\nupdaterCacheDirName: dockside-updater\n');

  const log = options.logger.child({ module: 'updater' });
  updater.logger = {
    info: (m: unknown) => log.info(String(m)),
    warn: (m: unknown) => log.warn(String(m)),
    error: (m: unknown) => log.error(String(m)),
  };
  updater.autoDownload = true;
  updater.autoInstallOnAppQuit = false;

  const listeners: ((e: DriverEvent) => void)[] = [];
  const emit = (e: DriverEvent) => {
    for (const l of listeners) l(e);
  };
  updater.on('checking-for-update', () => emit({ type: 'checking' }));
  updater.on('update-available', (info: UpdateInfo) => emit({ type: 'available', version: info.version }));
  updater.on('update-not-available', (info: UpdateInfo | null) => emit({ type: 'not-available', version: info?.version ?? null }));
  updater.on('download-progress', (p: ProgressInfo) => emit({ type: 'progress', percent: p.percent }));
  updater.on('update-downloaded', (info: UpdateInfo) => emit({ type: 'downloaded', version: info.version }));
  updater.on('error', (err: unknown) => emit({ type: 'error', message: updateErrorInWords(err) }));

  return {
    version: updater.currentVersion.version,
    configure(config) {
      updater.updateConfigPath = configFile;
      updater.setFeedURL({ provider: 'generic', url: config.feedUrl, channel: feedChannel(config.channel) });
      // Beta takes pre-release versions (1.5.0-beta.2); stable does not.
      updater.allowPrerelease = config.channel === 'beta';
      // Set last: electron-updater's channel setter turns downgrade on by itself.
      updater.allowDowngrade = config.allowDowngrade;
    },
    async check() {
      // Failures also arrive as an 'error' event, which tells the service; the promises are only quieted here.
      const result = await updater.checkForUpdates().catch(() => undefined);
      if (result === null) {
        emit({ type: 'error', message: 'This copy is not an installed package (AppImage, deb or Windows installer): it cannot update itself' });
      }
      result?.downloadPromise?.catch(() => undefined);
    },
    install: () => options.install(updater),
    onEvent(listener) {
      listeners.push(listener);
    },
  };
}
