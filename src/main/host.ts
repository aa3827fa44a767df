/**
 * Browser host: runs the station under plain Node and serves the UI to any Chromium on
 * 127.0.0.1. Used by `npm start` where no Electron binary exists, by the e2e suite and the demo.
 *
 *   node out/main/host.js [--data-dir DIR] [--port N] [--demo] [--provision FILE]
 *   (without --provision, DIR/dockside.provision.json is applied if it is there: README, Provisioning a fleet)
 *   node out/main/host.js --data-dir DIR --reset-second-factor USER   (the last admin's way back in)
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLogger, type Logger } from './platform/logger';
import { DEMO_USERS } from './app/demo';
import { createStation, type Station, type StationConfig } from './app/station';
import { startProvisionedStation } from './provisioning/start';
import { DEFAULT_UPDATE_SETTINGS, UPDATE_SETTINGS_KEY, type UpdateSettings } from '../shared/update-settings';
import { electronUpdaterDriver } from './updates/driver';
import { nodeDebUpdater } from './updates/node-updater';
import { resetSecondFactorFromConsole } from './app/break-glass';
import { initialAdminFromEnv } from './app/env';
import { startBrowserHost } from './host/server';
import { TestClock, testControl } from './host/test-control';
import { InjectedFailures } from './ipc/router';
import { FileSecretStore } from './credentials/store';
import { secretSealingFor } from './security/shell';
import { loadNodeHid } from './scanners/hid';
import { SimulatedHidBus } from './scanners/simulated';
import { startBagsSimulator } from '../simulators/bags-upstream';
import { startBioTrackSimulator } from '../simulators/biotrack';
import { startLeafTradeSimulator } from '../simulators/leaftrade';
import { startErpSimulator } from '../simulators/odata-erp';

const here = path.dirname(fileURLToPath(import.meta.url));

/** --reset-second-factor: the station's database only, no host, no upstreams; says what it did. */
async function resetFromConsole(dataDir: string, username: string): Promise<number> {
  const { logger, close: closeLog } = await createLogger({ dir: path.join(dataDir, 'logs'), stdout: false });
  const station = await createStation({ dataDir, migrationsDir: path.join(here, 'migrations'), logger, workerScript: path.join(here, 'worker.js') });
  try {
    console.log(resetSecondFactorFromConsole(station, username, os.userInfo().username));
    return 0;
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    return 1;
  } finally {
    await station.close();
    await closeLog();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string' },
      port: { type: 'string', default: '5780' },
      demo: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      'hid-sim': { type: 'boolean', default: false },
      'refuse-secrets': { type: 'boolean', default: false },
      'bags-upstream': { type: 'string' },
      'erp-upstream': { type: 'string' },
      'leaftrade-upstream': { type: 'string' },
      'biotrack-upstream': { type: 'string' },
      'sync-interval-ms': { type: 'string' },
      'reset-second-factor': { type: 'string' },
      // Join a site hub at start (IT's provisioning, npm run demo:site) unless already a member.
      'hub-url': { type: 'string' },
      'hub-code': { type: 'string' },
      'station-name': { type: 'string' },
      provision: { type: 'string' },
      // Test host only: electron-updater's DebUpdater under Node on this feed, as if this were version N (its install is not run).
      'test-update-feed': { type: 'string' },
      'test-app-version': { type: 'string', default: '1.0.0' },
    },
  });
  const testMode = process.env.DOCKSIDE_TEST === '1';
  if (testMode && !values['data-dir']) {
    // A test must never touch a real profile.
    console.error('DOCKSIDE_TEST=1 needs --data-dir pointing at a temporary folder');
    process.exit(2);
  }
  const dataDir = path.resolve(
    values['data-dir'] ??
      path.join(process.env.XDG_DATA_HOME ?? path.join(os.homedir(), '.local', 'share'), 'Dockside', values.demo ? 'demo' : 'station'),
  );
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be 0–65535, got ${values.port}`);
    process.exit(2);
  }

  if (values['hid-sim'] && !testMode) {
    console.error('--hid-sim replaces USB scanners with a simulated bus: it is for tests only (DOCKSIDE_TEST=1)');
    process.exit(2);
  }
  if (values['refuse-secrets'] && !testMode) {
    console.error('--refuse-secrets plays a station without a keyring: it is for tests only (DOCKSIDE_TEST=1)');
    process.exit(2);
  }
  if (values['test-update-feed'] && !testMode) {
    console.error('--test-update-feed runs the updater without installing: it is for tests only (DOCKSIDE_TEST=1)');
    process.exit(2);
  }
  if (values['reset-second-factor'] !== undefined) {
    process.exitCode = await resetFromConsole(dataDir, values['reset-second-factor']);
    return;
  }
  const simBus = values['hid-sim'] ? new SimulatedHidBus() : null;
  const injectedFailures = testMode ? new InjectedFailures() : null;
  const testClock = testMode ? new TestClock() : null;

  // Demo with no upstream configured: the bag-tracking simulator stands in, on loopback.
  let bagsUpstream = values['bags-upstream'] ?? process.env.DOCKSIDE_BAGS_UPSTREAM;
  const hubUrl = values['hub-url'];
  if (hubUrl && (!values['hub-code'] || !values['station-name'])) {
    console.error('--hub-url needs --hub-code (a one-time enrolment code: npm run hub -- enrolment-code) and --station-name');
    process.exit(2);
  }
  // A station of a site sends its bag changes to the hub, not to the simulator.
  const simulator = !bagsUpstream && values.demo && !hubUrl ? await startBagsSimulator() : null;
  if (simulator) bagsUpstream = simulator.url;
  const syncIntervalMs = values['sync-interval-ms'] ? Number(values['sync-interval-ms']) : undefined;
  let erpUpstream = values['erp-upstream'] ?? process.env.DOCKSIDE_ERP_UPSTREAM;
  const erpSimulator = !erpUpstream && values.demo ? await startErpSimulator() : null;
  if (erpSimulator) erpUpstream = erpSimulator.url;
  let leaftradeUpstream = values['leaftrade-upstream'] ?? process.env.DOCKSIDE_LEAFTRADE_UPSTREAM;
  const leaftradeSimulator = !leaftradeUpstream && values.demo ? await startLeafTradeSimulator() : null;
  if (leaftradeSimulator) leaftradeUpstream = leaftradeSimulator.url;
  let biotrackUpstream = values['biotrack-upstream'] ?? process.env.DOCKSIDE_BIOTRACK_UPSTREAM;
  const biotrackSimulator = !biotrackUpstream && values.demo ? await startBioTrackSimulator() : null;
  if (biotrackSimulator) biotrackUpstream = biotrackSimulator.url;

  const stationLog = await createLogger({
    dir: path.join(dataDir, 'logs'),
    stdout: !values.quiet,
    level: testMode ? 'warn' : 'info',
  });
  const { logger, close: closeLog } = stationLog;
  const { station } = await startProvisionedStation(
    {
      dataDir,
      migrationsDir: path.join(here, 'migrations'),
      logger,
      log: stationLog,
      demo: values.demo,
      initialAdmin: initialAdminFromEnv(process.env),
      hid: simBus ? { ok: true, backend: simBus } : await loadNodeHid(),
      scannerPollMs: simBus ? 200 : 1000,
      upstreams: {
        ...(bagsUpstream ? { bags: { url: bagsUpstream } } : {}),
        ...(erpUpstream ? { erp: { url: erpUpstream } } : {}),
        ...(leaftradeUpstream ? { leaftrade: { url: leaftradeUpstream } } : {}),
        ...(biotrackUpstream ? { biotrack: { url: biotrackUpstream } } : {}),
      },
      syncIntervalMs,
      injectedFailures: injectedFailures ?? undefined,
      clock: testClock ?? undefined,
      workerScript: path.join(here, 'worker.js'),
      // Test host only: the Electron app on a desktop without a keyring (safeStorage's basic_text).
      ...(values['refuse-secrets'] ? { secrets: keyringlessSecrets(dataDir) } : {}),
      ...(values['test-update-feed'] ? testUpdater(dataDir, values['test-app-version']!, logger) : {}),
    },
    { explicit: values.provision, folders: [dataDir] },
  );
  if (values['test-update-feed']) useTestUpdateFeed(station, values['test-update-feed']);
  const mayFillSecrets = !station.secrets.refusal?.();
  // The demo's ERP simulator has known users: fill them in unless someone already set others.
  if (erpSimulator && mayFillSecrets) {
    for (const org of ['DD', 'CBR'] as const) {
      if (!station.secrets.get(`erp.${org}.username`)) {
        station.secrets.set(`erp.${org}.username`, erpSimulator.users[org].username);
        station.secrets.set(`erp.${org}.password`, erpSimulator.users[org].password);
      }
    }
  }
  if (leaftradeSimulator && mayFillSecrets && !station.secrets.get('leaftrade.token'))
    station.secrets.set('leaftrade.token', leaftradeSimulator.token);
  if (biotrackSimulator && mayFillSecrets && !station.secrets.get('biotrack.license')) {
    station.secrets.set('biotrack.license', biotrackSimulator.credentials.license);
    station.secrets.set('biotrack.username', biotrackSimulator.credentials.username);
    station.secrets.set('biotrack.password', biotrackSimulator.credentials.password);
  }
  if (biotrackSimulator && !station.settings.get().biotrackLocation) {
    station.settings.update(
      { biotrackLocation: biotrackSimulator.credentials.location },
      { userId: null, username: 'demo setup' },
      { stationId: station.settings.stationId(), now: Date.now },
    );
  }
  if (hubUrl) {
    const member = station.site.membership;
    if (!member) {
      try {
        await station.site.join(
          { url: hubUrl, code: values['hub-code']!, stationName: values['station-name']! },
          { userId: null, username: 'station start' },
        );
      } catch (error) {
        console.error(`Could not join the site hub at ${hubUrl}: ${(error as Error).message}`);
        await station.close();
        await closeLog();
        process.exit(1);
      }
    } else if (member.url !== hubUrl.replace(/\/+$/, '')) {
      console.error(
        `This station is already a member of the site at ${member.url}; --hub-url ${hubUrl} was not used (leave the site on Admin → Station first)`,
      );
    }
  }
  const host = await startBrowserHost({
    station,
    rendererDir: path.join(here, '../renderer'),
    port,
    logger,
    testControl:
      injectedFailures && testClock
        ? testControl({ bus: simBus, failures: injectedFailures, clock: testClock, erp: erpSimulator?.faults })
        : undefined,
    now: testClock ? () => testClock.now() : undefined,
  });

  // Tests and scripts wait for this exact line.
  console.log(`DOCKSIDE_HOST_READY ${host.url}`);
  if (!values.quiet) {
    console.log(`\nDockside is running at ${host.url}  (data: ${dataDir})`);
    if (simulator) console.log(`Bag-tracking upstream simulator: ${simulator.url}`);
    if (station.site.membership) console.log(`Site hub: ${station.site.membership.url} (this station is “${station.site.membership.stationName}”)`);
    if (erpSimulator) console.log(`ERP (OData) simulator: ${erpSimulator.url}`);
    if (leaftradeSimulator) console.log(`LeafTrade simulator: ${leaftradeSimulator.url}`);
    if (biotrackSimulator) console.log(`BioTrack simulator: ${biotrackSimulator.url}`);
    if (values.demo) {
      console.log('Demo sign-ins:');
      for (const u of DEMO_USERS) console.log(`  ${u.username.padEnd(8)} ${u.password}${'pin' in u ? `  (PIN ${u.pin})` : ''}  — ${u.role}`);
      console.log('  (admins set up an authenticator app on a phone at their first sign-in)');
    }
    console.log('Press Ctrl+C to stop.\n');
  }

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    await host.close();
    await station.close();
    await simulator?.close();
    await erpSimulator?.close();
    await leaftradeSimulator?.close();
    await biotrackSimulator?.close();
    await closeLog();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

/** Test host only: electron-updater's own DebUpdater over Node's http; the policy's install is logged, not run. */
function testUpdater(dataDir: string, version: string, logger: Logger): Pick<StationConfig, 'updater'> {
  const dir = path.join(dataDir, 'updater-test');
  return {
    updater: ({ stagingId }) =>
      electronUpdaterDriver(nodeDebUpdater(version, dir).updater, {
        userDataPath: dir,
        stagingId,
        logger,
        install: async () => logger.warn('test host: the policy would install the update now; a test host does not'),
      }),
  };
}

/** Test host only: the feed as provisioning would set it (audited as the test host). */
function useTestUpdateFeed(station: Station, feedUrl: string): void {
  const current = station.settings.readKey<UpdateSettings>(UPDATE_SETTINGS_KEY, DEFAULT_UPDATE_SETTINGS);
  if (current.feedUrl === feedUrl) return;
  const next = { ...DEFAULT_UPDATE_SETTINGS, ...current, feedUrl };
  station.settings.writeKey(
    UPDATE_SETTINGS_KEY,
    next,
    { userId: null, username: 'test host' },
    { stationId: station.settings.stationId(), now: Date.now },
    { action: 'updates.settings_changed', entityId: UPDATE_SETTINGS_KEY, after: next },
  );
}

/** The store the Electron shell makes where safeStorage has only its fixed key: saving is refused. */
function keyringlessSecrets(dataDir: string): FileSecretStore {
  const sealing = secretSealingFor({ platform: 'linux', encryptionAvailable: true, backend: 'basic_text' });
  return new FileSecretStore(
    path.join(dataDir, 'secrets.json'),
    sealing.ok ? undefined : { problem: sealing.problem, notSaved: sealing.notSaved, open: (s) => s },
  );
}

main().catch((err: unknown) => {
  console.error('Dockside host failed to start:', err);
  process.exit(1);
});
