import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { registerAuditHandlers } from '../audit/handlers';
import { registerBagHandlers } from '../bags/handlers';
import { DockDoorService } from '../bags/dock-door';
import { BagLookupService } from '../bags/lookup';
import { registerBillHandlers } from '../bills/handlers';
import { registerDashboardHandlers } from '../dashboard/handlers';
import { DashboardService } from '../dashboard/service';
import { BillService } from '../bills/service';
import { AuthService } from '../auth/service';
import { registerAuthHandlers } from '../auth/handlers';
import { registerSecondFactorHandlers } from '../auth/second-factor-handlers';
import { cheaperKdf, DEFAULT_KDF, PIN_KDF, type KdfParams } from '../auth/passwords';
import { SessionRegistry, type Push, type Session } from '../auth/sessions';
import type { AuditContext } from '../audit/record';
import { BACKSTOP_AUTOCHECKPOINT_PAGES, startCheckpointer, type Checkpointer } from '../db/checkpointer';
import { OPTIMIZE_EVERY_MS, openDatabase, optimizeDatabase, type OpenedDatabase } from '../db/open';
import { registerEtaHandlers } from '../eta/handlers';
import { EtaService } from '../eta/service';
import { registerExportHandlers } from '../exports/handlers';
import { ExportService } from '../exports/service';
import { registerFilesHandlers } from '../files/handlers';
import { FILES_SWEEP_EVERY_MS } from '../files/retention';
import { FileSweeper } from '../files/sweep';
import { ownerOnlyDataFolder } from '../files/owner-only';
import { registerImportHandlers } from '../imports/handlers';
import { ImportService } from '../imports/service';
import { SOURCE_WORKER, WorkerPool } from '../platform/workers';
import { HandlerRegistry } from '../ipc/handlers';
import { JobService, mayViewJob } from '../jobs/service';
import { registerJobHandlers } from '../jobs/handlers';
import { createRouter, type InjectedFailures, type Router } from '../ipc/router';
import type { HidAvailability } from '../scanners/hid';
import { registerScannerHandlers } from '../scanners/handlers';
import { routeNewScanner, SCANNER_ROUTING_KEY, type ProvisioningCore } from '../provisioning/apply';
import { registerProvisioningHandlers } from '../provisioning/handlers';
import { ScannerService, type ScannerConfig } from '../scanners/service';
import { SettingsService } from '../settings/service';
import { bagsTransport } from '../outbox/bags-transport';
import { registerSiteHandlers } from '../hub/handlers';
import { BAGS_UPSTREAM } from '../outbox/enqueue';
import { SiteService } from '../hub/service';
import { enqueueSiteSnapshot } from '../hub/snapshot';
import { OutboxDrainer, type OutboxTransport } from '../outbox/drainer';
import { registerSyncHandlers } from '../outbox/handlers';
import { OUTBOX_PRUNE_EVERY_MS, OutboxPruner } from '../outbox/prune';
import { registerCredentialHandlers } from '../credentials/handlers';
import { registerMailHandlers } from '../mail/handlers';
import { MailService, MAIL_PASSWORD_SECRET, mailSettingsOf } from '../mail/service';
import { MAIL_UPSTREAM, smtpTransport } from '../mail/smtp';
import { FileSecretStore, type SecretStore } from '../credentials/store';
import { BioTrackClient } from '../upstreams/biotrack/client';
import { registerBioTrackHandlers } from '../upstreams/biotrack/handlers';
import { BioTrackInventory } from '../upstreams/biotrack/inventory';
import { registerErpHandlers } from '../upstreams/erp/handlers';
import { ODataClient } from '../upstreams/erp/odata';
import { ErpService } from '../upstreams/erp/service';
import { UpstreamHttp } from '../upstreams/http';
import { LeafTradeClient } from '../upstreams/leaftrade/client';
import { registerLeafTradeHandlers } from '../upstreams/leaftrade/handlers';
import { LeafTradeService } from '../upstreams/leaftrade/service';
import { registerPrewarmHandler } from '../upstreams/prewarm';
import { PREWARM_CHECK_EVERY_MS, PrewarmScheduler } from '../upstreams/prewarm-schedule';
import { registerErpScheduleHandlers } from '../upstreams/erp/schedule-handlers';
import { stationTimeZone } from '../upstreams/zoned-time';
import { ReadCache } from '../upstreams/read-cache';
import { registerSettingsHandlers } from '../settings/handlers';
import { registerTripHandlers } from '../trips/handlers';
import { TripService } from '../trips/service';
import { chromiumPdf } from '../trips/chromium-pdf';
import { TripPaper, type PrintHtml, type RenderPdf } from '../trips/paper';
import { registerTripPaperHandlers } from '../trips/paper-handlers';
import { UserService } from '../users/service';
import { enqueueAllUsers, userApplier } from '../users/site-sync';
import type { FeedApplier } from '../hub/feed-applier';
import { registerUserHandlers } from '../users/handlers';
import { systemClock, type Clock } from '../platform/clock';
import { systemTimers, type Timers } from '../platform/timers';
import { silentLogger, type Logger } from '../platform/logger';
import type { JobView } from '../../shared/contract/jobs';
import type { EventMap } from '../../shared/events';
import { registerTripExecutionHandlers } from '../trips/execution-handlers';
import { loadPlan as loadTripPlan, mirrorExecutionStatus } from '../trips/plan';
import { TripExecutor, type TripExecutorDeps } from '../trips/execution';
import { tripEndedMail, tripMailKey } from '../trips/mail';
import { seedDemoData } from './demo';
import { ItemCatalogue } from '../verify/items';
import { LeaseClient } from '../verify/lease-client';
import { rackApplier, RackRegistry } from '../verify/racks';
import { VERIFY_UPSTREAM, VerifyService } from '../verify/service';
import { verifyTransport } from '../verify/transport';
import { registerVerifyHandlers } from '../verify/handlers';
import { registerVerifyReportHandlers } from '../verify/report-handlers';
import { VerifyReports } from '../verify/reports';
import { recordAudit } from '../audit/record';
import { DEFAULT_UPDATE_SETTINGS, UPDATE_SETTINGS_KEY, updateSettingsSchema, type UpdateSettings } from '../../shared/update-settings';
import type { UpdaterDriver } from '../updates/driver';
import { registerUpdateHandlers } from '../updates/handlers';
import { UpdateService } from '../updates/service';
import { APP_VERSION } from '../updates/version';
import { stationPresence, stationWork } from '../updates/work';
import { setUpHealth, type LogInsight } from '../diagnostics/setup';

export interface StationConfig {
  /** Folder that holds the database (dockside.sqlite) and logs. ':memory:' keeps the db in memory. */
  dataDir: string;
  /** drizzle-kit's migrations folder; entries resolve it next to their bundle. */
  migrationsDir: string;
  clock?: Clock;
  /** One-shot timers that go with the clock (the dashboard's throttled push); tests move them by hand. */
  timers?: Timers;
  /** IANA zone of the station's local day (the dashboard's "today"); the system's by default. */
  timeZone?: string;
  logger?: Logger;
  /** Cost of password hashes (DEFAULT_KDF); PINs use PIN_KDF or this, whichever is cheaper. */
  kdf?: KdfParams;
  /** Demo mode: seeds demo users on an empty database and marks the UI as a demo. */
  demo?: boolean;
  /** Unattended install: create this admin on first start instead of the setup screen. */
  initialAdmin?: { username: string; password: string; displayName?: string };
  /** How often idle sessions and shift ends are checked; 0 disables the timer (tests tick by hand). */
  idleCheckMs?: number;
  /** USB HID access: node-hid (loadNodeHid), a simulated bus in tests, or why there is none. */
  hid?: HidAvailability;
  /** How often HID devices are listed for plug/unplug; 0 = only on demand (tests). */
  scannerPollMs?: number;
  platform?: NodeJS.Platform;
  /** How often held rack leases are renewed (20 s); 0 = only when a test calls verify.heartbeat(). */
  verifyHeartbeatMs?: number;
  /** Where outbox records go; without one they wait in the outbox. */
  upstreams?: {
    bags?: { url: string; readTimeoutMs?: number };
    erp?: { url: string; readTimeoutMs?: number };
    leaftrade?: { url: string; readTimeoutMs?: number };
    biotrack?: { url: string; readTimeoutMs?: number; training?: boolean };
  };
  /** Upstream credentials: Electron passes a safeStorage-sealed store; default a 0600 file in the data folder. */
  secrets?: SecretStore;
  /** How often the outbox is drained; 0 = only on demand (tests). */
  syncIntervalMs?: number;
  /** How often acknowledged outbox records past retention are deleted; 0 = only on demand (tests, benches). */
  outboxPruneEveryMs?: number;
  /** How upstream clients wait between retries (Retry-After, backoff); tests pass one that moves their clock. */
  sleep?: (ms: number) => Promise<void>;
  /** How often old uploads, exports and reports are deleted (it also runs at start); 0 = only at start. */
  filesSweepEveryMs?: number;
  /** Test host only: calls made to fail inside the router. */
  injectedFailures?: InjectedFailures;
  /** Trip execution: the plan of a trip as manifests (trips/plan.ts), its status mirror, and a test probe. */
  trips?: Partial<Pick<TripExecutorDeps, 'loadPlan' | 'onStatus' | 'probe'>>;
  /** Trip manifests as PDF: Electron's printToPDF; headless Chromium (chromium-pdf.ts) by default. */
  renderPdf?: RenderPdf;
  /** Printing on the station's printer: only the Electron shell has one. */
  print?: PrintHtml;
  /** How often the ERP prewarm schedule looks at the clock; 0 = only at start and when a test calls tick(). */
  prewarmCheckMs?: number;
  /**
   * IT's provisioning file (src/main/provisioning/start.ts): applied once the database is open,
   * before anything reads what it sets; the upstreams it returns come under `upstreams` (which win).
   */
  provision?: (core: ProvisioningCore) => { upstreams?: StationConfig['upstreams'] };
  /** How often `provision` runs again while the station runs (60 s), so a changed file applies without a restart; 0 = only at start and reprovision(). */
  provisionRecheckMs?: number;
  /** After each later run of `provision` (start.ts joins a site hub the file newly names). */
  afterReprovision?: () => void;
  /**
   * Updates (issue 17): the Electron shell builds electron-updater's driver with the station's id as
   * its staged-rollout id; without one the station says why it does not update itself (`updatesUnsupported`).
   */
  updater?: (ctx: { stagingId: string }) => UpdaterDriver;
  updatesUnsupported?: string;
  /** How often the install policy looks (60 s) and the feed is asked (4 h); 0 = only when a test calls tick()/check(). */
  updatePolicyTickMs?: number;
  updateCheckEveryMs?: number;
  /** The worker threads' script (imports, exports): out/main/worker.js when built; the TypeScript source by default. */
  workerScript?: string;
  /** The station's log (createLogger): its folder, error count and flush, for Admin → Health and diagnostics. */
  log?: LogInsight;
  /** How often the daily backup's schedule is checked (the first time this long after start); 0 = only when a test calls tick(). */
  backupCheckMs?: number;
}

export interface Station {
  readonly router: Router;
  readonly sessions: SessionRegistry;
  readonly auth: AuthService;
  readonly users: UserService;
  /** Applies user_saved@1 entries of the site hub's feed (users/site-sync.ts). */
  readonly userFeedApplier: FeedApplier;
  readonly settings: SettingsService;
  readonly dockDoor: DockDoorService;
  readonly bagLookup: BagLookupService;
  readonly bills: BillService;
  readonly scanners: ScannerService;
  readonly jobs: JobService;
  readonly tripExecutor: TripExecutor;
  readonly imports: ImportService;
  readonly sync: OutboxDrainer;
  /** The site hub: membership, the feed follower, and the conflicts the hub answered. */
  readonly site: SiteService;
  readonly outboxPruner: OutboxPruner;
  /** Deletes ended and abandoned uploads, and exports and reports past their time. */
  readonly files: FileSweeper;
  readonly erp: ErpService;
  /** Prewarms the ERP cache at the times set on Admin → Sync; `tick()` runs what is due. */
  readonly prewarm: PrewarmScheduler;
  /** Mail through the outbox: `mail.enqueue(message, 'trip:42:completed')`. */
  readonly mail: MailService;
  /** Today's figures (Reports → Today), pushed as `dashboard/changed` to signed-in windows. */
  readonly dashboard: DashboardService;
  /** Admin → Health: the figures, daily backups, the diagnostics zip. */
  readonly health: ReturnType<typeof setUpHealth>;
  /** Stock verification: claiming racks, counting, records for the hub, notices. */
  readonly verify: VerifyService;
  readonly racks: RackRegistry;
  readonly items: ItemCatalogue;
  readonly secrets: SecretStore;
  /** Update checks, downloads and the install policy (Admin → Station). */
  readonly updates: UpdateService;
  readonly database: OpenedDatabase;
  /**
   * Reads the provisioning file again and applies it if it changed (every provisionRecheckMs by
   * itself). Settings, secrets, scanner routing and the update feed take effect at once; upstream
   * addresses and kiosk at the next start.
   */
  reprovision(): void;
  /** A window or connection opened: its session lives until `closeSession`. */
  /** Copies the WAL into the database file off the main thread (null for in-memory databases). */
  readonly checkpointer: Checkpointer | null;
  openSession(peer: string, push: Push): Session;
  closeSession(session: Session): void;
  close(): Promise<void>;
}

const DEMO_RACKS: [string, string][] = [
  ...['R1', 'R2', 'R3', 'R4', 'R5', 'R6'].map((r): [string, string] => [r, 'Ground']),
  ...['M1', 'M2', 'M3'].map((r): [string, string] => [r, 'Mezzanine']),
];

/** Calls that change today's figures besides scans (which the scan handler reports with their latency). */
const DASHBOARD_INPUTS = new Set([
  'bags/undo-last',
  'bags/delete',
  'bills/create',
  'bills/add-parent',
  'bills/remove-parent',
  'bills/finalize',
  'imports/start',
  'exports/start',
  'sync/retry',
  'sync/discard',
]);

/** Calls that may queue a bag change for the site hub: sent at once, so the other doors know within a second. */
const SITE_PUSH_INPUTS = new Set([
  'bags/scan',
  'bags/undo-last',
  'bags/delete',
  'bills/finalize',
  'site/resolve',
  'users/create',
  'users/update',
  'users/reset-credentials',
  'verify/rack-save',
  'verify/racks-import',
]);

export function databasePath(dataDir: string): string {
  return dataDir === ':memory:' ? ':memory:' : path.join(dataDir, 'dockside.sqlite');
}

/** The composition root. No Electron here: the Electron shell, the browser host and tests all call it. */
export async function createStation(config: StationConfig): Promise<Station> {
  const clock = config.clock ?? systemClock;
  const now = () => clock.now();
  const logger = config.logger ?? silentLogger;
  const kdf = config.kdf ?? DEFAULT_KDF;
  const pinKdf = cheaperKdf(kdf, PIN_KDF);

  // Database, uploads, exports, reports, logs and secrets: the station user's alone (0700).
  if (config.dataDir !== ':memory:') ownerOnlyDataFolder(config.dataDir);
  const database = openDatabase({ path: databasePath(config.dataDir), migrationsDir: config.migrationsDir, logger, now });
  try {
    const { db } = database;
    const settings = new SettingsService(db, now, logger.child({ module: 'settings' }));
    const audit: AuditContext = { stationId: settings.stationId(), now };
    const sessions = new SessionRegistry(now);
    // An in-memory station (tests, benches) keeps its files in a temp folder that close() removes.
    const tempFilesDir = config.dataDir === ':memory:' ? fs.mkdtempSync(path.join(os.tmpdir(), 'dockside-files-')) : null;
    const filesDir = tempFilesDir ?? config.dataDir;
    const secrets = config.secrets ?? new FileSecretStore(path.join(filesDir, 'secrets.json'));
    const upstreams = { ...config.provision?.({ db, settings, secrets, audit, logger }).upstreams, ...config.upstreams };
    const reprovision = () => {
      if (!config.provision) return;
      try {
        config.provision({ db, settings, secrets, audit, logger });
        config.afterReprovision?.();
      } catch (err) {
        logger.error({ err }, 'provisioning file could not be looked at again');
      }
    };
    const provisionEvery = config.provisionRecheckMs ?? 60_000;
    const provisionTimer = config.provision && provisionEvery > 0 ? setInterval(reprovision, provisionEvery).unref() : null;
    const auth = new AuthService({
      db,
      sessions,
      settings,
      audit,
      now,
      kdf,
      pinKdf,
      demo: config.demo ?? false,
      log: logger.child({ module: 'auth' }),
      secrets,
      secondFactorKeyFile: path.join(filesDir, 'second-factor.key'),
    });
    const userChanged = (userId: number) => {
      const row = auth.userById(userId);
      for (const s of sessions.forUser(userId)) {
        // Someone made admin while signed in owes the second factor now (demand tells the window).
        if (row && auth.secondFactor.demand(s, row)) continue;
        s.push('session/changed', auth.info(s));
      }
    };
    const users = new UserService({
      db,
      audit,
      now,
      kdf,
      pinKdf,
      sealer: auth.totpSealer,
      onUserChanged: userChanged,
      onCredentialsChanged: (userId, except) => auth.afterCredentialsChanged(userId, except),
    });
    // People from the site hub's feed (users/site-sync.ts), for the station's feed follower.
    const userFeedApplier = userApplier({
      audit,
      sealer: auth.totpSealer,
      endSessionsOf: (userId, reason) => auth.endSessionsOf(userId, undefined, reason),
      userChanged,
    });

    const dockDoor = new DockDoorService({ db, settings, audit, now });
    const bagLookup = new BagLookupService({ db, audit, now });
    // Scanner events go to every signed-in, unlocked window; each decides by its screen.
    const pushToSignedIn: Push = (event, data) => {
      for (const s of sessions.all()) if (s.userId !== null && !s.locked) s.push(event, data);
    };
    // A job's or a trip execution's progress names its file or trip: only its owner's windows and admins' hear it.
    const pushToOwnerAndAdmins = <E extends 'job/progress' | 'trip/progress'>(event: E, data: EventMap[E], ownerId: number | null) => {
      for (const s of sessions.all()) {
        if (s.userId === null || s.locked) continue;
        const user = auth.userById(s.userId);
        if (!user || user.disabled || !mayViewJob(user, ownerId)) continue;
        // One window that cannot take the news (its connection gone) does not keep it from the others.
        try {
          s.push(event, data);
        } catch (err) {
          logger.warn({ err, event }, 'a window could not be told of progress');
        }
      }
    };
    const pushJobProgress = (job: JobView, ownerId: number | null) => pushToOwnerAndAdmins('job/progress', job, ownerId);
    // Built before the services whose changes it hears of; it reads the drainer's status once that exists.
    let readSyncStatus: () => ReturnType<OutboxDrainer['status']> = () => [];
    const dashboard = new DashboardService({
      sqlite: db.$client,
      stationId: () => audit.stationId,
      now,
      timers: config.timers ?? systemTimers,
      timeZone: () => config.timeZone ?? stationTimeZone(),
      syncStatus: () => readSyncStatus(),
      push: (at) => pushToSignedIn('dashboard/changed', { at }),
    });
    const jobs = new JobService({
      db,
      now,
      log: logger.child({ module: 'jobs' }),
      onProgress: (job, ownerId) => {
        pushJobProgress(job, ownerId);
        if (job.kind === 'import' || job.kind === 'export') dashboard.changed();
      },
    });
    const interrupted = jobs.markInterrupted();
    if (interrupted) logger.warn({ interrupted }, 'jobs interrupted by the last stop were marked failed');
    const workers = new WorkerPool(config.workerScript ?? SOURCE_WORKER, logger.child({ module: 'workers' }));
    const imports = new ImportService({
      db,
      settings,
      audit,
      jobs,
      now,
      filesDir,
      dbPath: databasePath(config.dataDir),
      workers,
    });
    const exports = new ExportService({ db, jobs, settings, filesDir, now, dbPath: databasePath(config.dataDir), workers });
    const scanners = new ScannerService({
      hid: config.hid ?? { ok: false, reason: 'No USB HID access configured for this station' },
      now,
      platform: config.platform,
      pollMs: config.scannerPollMs,
      log: logger.child({ module: 'scanners' }),
      newScannerTarget: (vendorId) => routeNewScanner(settings.readKey(SCANNER_ROUTING_KEY, null), vendorId),
      store: {
        load: () => settings.readKey<ScannerConfig[]>('scanners', []),
        save: (list, change) =>
          settings.writeKey('scanners', list, change.actor, audit, { action: change.action, entityId: change.scanner.id, after: change.scanner }),
      },
      onScan: ({ barcode, scanner }) => {
        dashboard.hidArrived(barcode.code);
        pushToSignedIn('scanner/scan', {
          code: barcode.code,
          aim: barcode.aim,
          scannerId: scanner.id,
          scannerName: scanner.name,
          target: scanner.target,
        });
      },
      onStatus: (overview) => pushToSignedIn('scanner/status', overview),
    });
    const bills = new BillService({ db, settings, audit, now });

    if (config.initialAdmin && !auth.hasUsers()) {
      const { username, password, displayName } = config.initialAdmin;
      await auth.createFirstAdmin({ username: username.toLowerCase(), password, displayName: displayName ?? username });
      logger.info({ username }, 'created the first admin from configuration');
    }
    const seedingDemo = !!config.demo && !auth.hasUsers();
    if (seedingDemo) await seedDemoData({ users, auth, settings, sessions, dockDoor, bills, audit, logger });

    const transports: Record<string, OutboxTransport> = {};
    let bagsFallback: OutboxTransport | null = null;
    if (upstreams.bags) {
      const bagsHttp = new UpstreamHttp({
        name: 'bags',
        baseUrl: upstreams.bags.url,
        now,
        log: logger.child({ module: 'upstream-bags' }),
        readTimeoutMs: upstreams.bags.readTimeoutMs,
        sleep: config.sleep,
      });
      bagsFallback = bagsTransport(bagsHttp, audit.stationId);
    }
    // Stock verification's parts the site service's appliers need; the service itself needs the site.
    const racks = new RackRegistry({
      db,
      audit,
      settings,
      now,
      tmpDir: path.join(filesDir, 'tmp'),
      changed: () => setImmediate(() => pushToSignedIn('verify/changed', { what: 'racks' })),
    });
    // Demo racks to count (R1–R6 on Ground, M1–M3 on Mezzanine); a demo station joining a site sends them with the rest it holds.
    if (seedingDemo) {
      const demoAdmin = users.list().find((u) => u.role === 'admin')!;
      for (const [rackId, floor] of DEMO_RACKS) racks.save({ rackId, floor, active: true }, { userId: demoAdmin.id, username: demoAdmin.username });
    }
    // eslint-disable-next-line prefer-const -- built after the site service, whose appliers call it
    let verify: VerifyService;
    const verifyAppliers: Record<string, FeedApplier> = Object.fromEntries(
      ['lease_claimed@1', 'lease_released@1', 'lease_expired@1', 'lease_broken@1', 'verify_recorded@1', 'notice@1'].map((op) => [
        op,
        ((d, entry, ctx) => verify.appliers()[op](d, entry, ctx)) satisfies FeedApplier,
      ]),
    );
    // Bag changes go to the site hub once the station joins one (Admin → Station), else to the bags upstream configured.
    const site = new SiteService({
      db,
      settings,
      secrets,
      audit,
      now,
      log: logger.child({ module: 'site' }),
      fallback: bagsFallback,
      onChanged: (status) => pushToSignedIn('site/changed', status),
      waiting: () => sync.status().find((u) => u.upstream === BAGS_UPSTREAM)?.queued ?? 0,
      appliers: {
        'user_saved@1': userFeedApplier,
        'rack_saved@1': rackApplier({ audit, changed: () => setImmediate(() => pushToSignedIn('verify/changed', { what: 'racks' })) }),
        ...verifyAppliers,
      },
      onJoined: (actor) => {
        const sent = enqueueSiteSnapshot({ db, now: now(), actor, stationId: audit.stationId, bills });
        const people = enqueueAllUsers(db, now(), actor.username ?? 'station', auth.totpSealer);
        const rackCount = racks.enqueueAll(actor.username ?? 'station');
        logger.info({ ...sent, people, racks: rackCount }, 'joined a site: queued what this station holds for the hub');
      },
    });
    transports[BAGS_UPSTREAM] = site.transport();
    transports[VERIFY_UPSTREAM] = verifyTransport({
      db,
      site,
      now,
      changed: () => setImmediate(() => pushToSignedIn('verify/changed', { what: 'records' })),
    });
    // Always there: mails wait in the outbox until Admin → Station names a mail server.
    transports[MAIL_UPSTREAM] = smtpTransport({ settings: () => mailSettingsOf(settings), password: () => secrets.get(MAIL_PASSWORD_SECRET), now });
    const sync = new OutboxDrainer({ db, now, log: logger.child({ module: 'sync' }), transports, onBatch: () => dashboard.changed() });
    readSyncStatus = () => sync.status();
    const mail = new MailService({
      db,
      now,
      settings,
      secrets,
      outbox: sync,
      audit,
      stationId: audit.stationId,
      log: logger.child({ module: 'mail' }),
    });
    const odata: ODataClient | null = upstreams.erp
      ? new ODataClient({
          baseUrl: upstreams.erp.url,
          secrets,
          now,
          log: logger.child({ module: 'upstream-erp' }),
          readTimeoutMs: upstreams.erp.readTimeoutMs,
          sleep: config.sleep,
          // Admin → Sync's setting, read at every call: a change applies at once.
          cooldownAfter503Ms: () => settings.get().erpCooldownMinutes * 60_000,
          timeZone: (org): string => prewarm.timeZone(org),
        })
      : null;
    const cache = new ReadCache(db, now);
    const items = new ItemCatalogue({ db, odata, cache, now, log: logger.child({ module: 'verify-items' }) });
    verify = new VerifyService({
      db,
      audit,
      settings,
      now,
      log: logger.child({ module: 'verify' }),
      site,
      leases: new LeaseClient({ client: () => site.client, now, timeZone: () => config.timeZone ?? stationTimeZone() }),
      items,
      racks,
      push: (data) => pushToSignedIn('verify/changed', data),
      present: (userId) => sessions.forUser(userId).length > 0,
      pushTo: (userId, data) => {
        for (const s of sessions.forUser(userId)) s.push('verify/changed', data);
      },
      sendSoon: () => {
        if (syncRunning) setImmediate(() => void sync.drain(VERIFY_UPSTREAM).catch((err: unknown) => logger.error({ err }, 'verify push failed')));
      },
      heartbeatEveryMs: config.verifyHeartbeatMs,
    });
    const erp = new ErpService({ odata, cache, now, log: logger.child({ module: 'erp' }) });
    const prewarm = new PrewarmScheduler({ settings, audit, erp, now, log: logger.child({ module: 'erp-prewarm' }) });
    const eta = new EtaService({ db, audit, now, jobs, erp, settings, log: logger.child({ module: 'eta' }) });
    const leaftradeClient = upstreams.leaftrade
      ? new LeafTradeClient({
          baseUrl: upstreams.leaftrade.url,
          secrets,
          now,
          log: logger.child({ module: 'upstream-leaftrade' }),
          readTimeoutMs: upstreams.leaftrade.readTimeoutMs,
          sleep: config.sleep,
        })
      : null;
    const leaftrade = new LeafTradeService({ client: leaftradeClient, cache, now });
    const bt = upstreams.biotrack;
    // One client for inventory and manifests: one session, one breaker.
    const biotrackClient = bt
      ? new BioTrackClient({
          url: bt.url,
          secrets,
          now,
          log: logger.child({ module: 'upstream-biotrack' }),
          readTimeoutMs: bt.readTimeoutMs,
          training: bt.training,
          sleep: config.sleep,
        })
      : null;
    const biotrack = new BioTrackInventory({
      client: biotrackClient,
      cache,
      now,
      location: () => settings.get().biotrackLocation,
    });

    const tripExecutor = new TripExecutor({
      db,
      now,
      log: logger.child({ module: 'trip-execution' }),
      audit,
      client: biotrackClient,
      loadPlan: config.trips?.loadPlan ?? ((tripId) => loadTripPlan(db, tripId)),
      onStatus: config.trips?.onStatus ?? ((tripId, status) => mirrorExecutionStatus(db, tripId, status, now())),
      onProgress: (view, ownerId) => pushToOwnerAndAdmins('trip/progress', view, ownerId),
      // Queued in the transaction that records the end; sent once it has committed.
      onEnded: (view) => {
        if (mail.enqueue(tripEndedMail(view, loadTripPlan(db, view.tripId), settings.get().stationName), tripMailKey(view)) === 'queued')
          mail.sendSoon();
      },
      wait: config.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
      probe: config.trips?.probe,
    });

    // Updates: the install policy never interrupts a scan, a job, a trip execution or a count (updates/policy.ts).
    const readUpdateSettings = (): UpdateSettings => {
      const parsed = updateSettingsSchema.safeParse(settings.readKey(UPDATE_SETTINGS_KEY, DEFAULT_UPDATE_SETTINGS));
      return parsed.success ? parsed.data : DEFAULT_UPDATE_SETTINGS;
    };
    const updates = new UpdateService({
      driver: config.updater?.({ stagingId: audit.stationId }) ?? null,
      // Only the Electron shell passes an updater: anything else is the browser host (or a test).
      unsupported: config.updatesUnsupported ?? 'Updates are installed by the desktop app; this browser host does not update itself',
      version: APP_VERSION,
      settings: readUpdateSettings,
      presence: stationPresence(sessions),
      work: stationWork(db.$client, now),
      now,
      timeZone: () => config.timeZone ?? stationTimeZone(),
      stagingId: audit.stationId,
      log: logger.child({ module: 'updates' }),
      audit: (actor, action, detail) => recordAudit(db, audit, actor, { action, entity: 'station', entityId: audit.stationId, detail }),
      onChanged: (status) => {
        for (const s of sessions.all()) {
          if (s.userId === null || s.locked || auth.userById(s.userId)?.role !== 'admin') continue;
          try {
            s.push('updates/changed', status);
          } catch (err) {
            logger.warn({ err }, 'a window could not be told of the update');
          }
        }
      },
      tickMs: config.updatePolicyTickMs,
      checkEveryMs: config.updateCheckEveryMs,
    });

    const handlers = new HandlerRegistry();
    registerAuthHandlers(handlers, auth);
    registerSecondFactorHandlers(handlers, auth);
    registerUserHandlers(handlers, users);
    registerSettingsHandlers(handlers, settings, audit);
    registerBagHandlers(handlers, dockDoor, bagLookup, (code, source, receivedAt) => dashboard.scanStored(code, source, receivedAt));
    registerDashboardHandlers(handlers, dashboard);
    registerBillHandlers(handlers, bills);
    registerAuditHandlers(handlers, db);
    registerScannerHandlers(handlers, scanners);
    registerProvisioningHandlers(handlers, settings);
    registerImportHandlers(handlers, imports);
    registerJobHandlers(handlers, jobs);
    registerExportHandlers(handlers, exports, biotrack);
    registerSiteHandlers(handlers, site);
    registerVerifyHandlers(handlers, { verify, racks, items });
    registerVerifyReportHandlers(handlers, new VerifyReports({ db, audit, now, jobs, exports }));
    registerSyncHandlers(handlers, sync, db, audit, () => [...erp.status(), ...leaftrade.status(), ...biotrack.status()]);
    registerCredentialHandlers(handlers, secrets, db, audit);
    registerMailHandlers(handlers, mail, db, audit);
    registerErpHandlers(handlers, erp);
    registerEtaHandlers(handlers, eta, exports);
    registerLeafTradeHandlers(handlers, leaftrade);
    registerBioTrackHandlers(handlers, biotrack);
    registerPrewarmHandler(handlers, { erp, leaftrade, biotrack });
    registerErpScheduleHandlers(handlers, prewarm);
    const trips = new TripService({ db, audit, now, leaftrade, inventory: biotrack });
    registerTripHandlers(handlers, trips);
    registerTripExecutionHandlers(handlers, tripExecutor);
    registerUpdateHandlers(handlers, updates);
    const renderPdf = config.renderPdf ?? chromiumPdf({ tmpDir: path.join(filesDir, 'tmp') });
    registerTripPaperHandlers(handlers, new TripPaper({ db, audit, now, trips, executor: tripExecutor, settings, renderPdf, print: config.print }));
    registerFilesHandlers(handlers, { filesDir, dbName: path.basename(databasePath(filesDir)), settings });
    const health = setUpHealth(handlers, {
      filesDir,
      logger,
      db,
      sqlite: db.$client,
      settings,
      secrets,
      audit,
      workers,
      now,
      log: config.log,
      dbPath: config.dataDir === ':memory:' ? null : databasePath(config.dataDir),
      totpSealer: auth.totpSealer,
      totpKeyFile: path.join(filesDir, 'second-factor.key'),
      timeZone: () => config.timeZone ?? stationTimeZone(),
      latency: () => dashboard.latency(),
      sync: () => sync.status(),
    });
    health.backups.start(config.backupCheckMs);
    const router = createRouter({
      handlers,
      auth,
      log: logger,
      injectedFailures: config.injectedFailures,
      onAnswered: (channel) => {
        if (DASHBOARD_INPUTS.has(channel)) dashboard.changed();
        if (syncRunning && site.membership && SITE_PUSH_INPUTS.has(channel)) {
          setImmediate(() => void sync.drain(BAGS_UPSTREAM).catch((err: unknown) => logger.error({ err }, 'site push failed')));
        }
      },
    });

    const dbPath = databasePath(config.dataDir);
    const checkpointer = dbPath === ':memory:' ? null : startCheckpointer(dbPath, logger);
    if (checkpointer) db.$client.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);

    const idleCheckMs = config.idleCheckMs ?? 5_000;
    if ((config.scannerPollMs ?? 1000) > 0) scanners.start();
    const syncRunning = (config.syncIntervalMs ?? 2000) > 0;
    site.start();
    if (syncRunning) sync.start(config.syncIntervalMs ?? 2000);
    // Sessions left open by the last stop keep their leases renewed (or lapse).
    verify.start();
    // Locking and signing out at a shift's end write audit rows; a full disk refuses them, and a throw here would stop the station.
    const lockIdle = () => {
      try {
        auth.lockIdleSessions();
      } catch (err) {
        logger.error({ err }, 'idle lock check failed');
      }
    };
    const idleTimer = idleCheckMs > 0 ? setInterval(lockIdle, idleCheckMs) : null;
    idleTimer?.unref();
    const outboxPruner = new OutboxPruner({ db, now, log: logger.child({ module: 'outbox-prune' }) });
    if ((config.outboxPruneEveryMs ?? OUTBOX_PRUNE_EVERY_MS) > 0) outboxPruner.start(config.outboxPruneEveryMs ?? OUTBOX_PRUNE_EVERY_MS);
    // openDatabase ran PRAGMA optimize once; SQLite advises repeating it on a long-lived connection.
    const optimizeTimer = setInterval(() => optimizeDatabase(db.$client, logger, 'periodic'), OPTIMIZE_EVERY_MS);
    optimizeTimer.unref();
    const files = new FileSweeper({
      sqlite: db.$client,
      filesDir,
      now,
      keepDays: () => settings.get().filesKeepDays,
      uploads: imports.uploadsInUse(),
      log: logger.child({ module: 'files' }),
    });
    files.start(config.filesSweepEveryMs ?? FILES_SWEEP_EVERY_MS);
    // Executions a stop or crash left open carry on by themselves.
    const resumed = tripExecutor.resumeInterrupted();
    if (resumed) logger.info({ resumed }, 'resumed trip executions left open by the last stop');
    // A scheduled prewarm missed while the station was off runs once now (a catch-up), not once per missed time.
    void prewarm.start(config.prewarmCheckMs ?? PREWARM_CHECK_EVERY_MS);
    updates.start();

    return {
      router,
      sessions,
      auth,
      users,
      userFeedApplier,
      settings,
      dockDoor,
      bagLookup,
      bills,
      scanners,
      jobs,
      tripExecutor,
      imports,
      sync,
      site,
      outboxPruner,
      files,
      erp,
      prewarm,
      mail,
      dashboard,
      health,
      verify,
      racks,
      items,
      secrets,
      updates,
      database,
      checkpointer,
      openSession: (peer, push) => sessions.open(peer, push),
      closeSession: (session) => sessions.close(session),
      reprovision,
      async close() {
        if (provisionTimer) clearInterval(provisionTimer);
        if (idleTimer) clearInterval(idleTimer);
        updates.stop();
        const backupsStopped = health.backups.stop();
        dashboard.close();
        clearInterval(optimizeTimer);
        scanners.stop();
        await files.stop();
        await outboxPruner.stop();
        await jobs.stop();
        await tripExecutor.stop();
        await prewarm.stop();
        await workers.close();
        await backupsStopped;
        await verify.stop();
        await sync.stop();
        await site.stop();
        await checkpointer?.stop();
        database.close();
        if (tempFilesDir) fs.rmSync(tempFilesDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    database.close();
    throw error;
  }
}
