/**
 * The Electron shell: window, security, IPC binding, updates. No business logic lives here;
 * everything comes from createStation(), which also runs under plain Node (see host.ts).
 * This is the only file under src/main that may import 'electron' (tests/unit/boundaries.test.ts).
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, ipcMain, Menu, safeStorage, session as electronSession, type WebContents } from 'electron';
import eu from 'electron-updater';
import type { ServerFrame } from '../shared/transport';
import { ELECTRON_EVENT, ELECTRON_INVOKE } from '../shared/transport';
import { createLogger } from './platform/logger';
import { startProvisionedStation } from './provisioning/start';
import { provisioningFolders } from './provisioning/file';
import { resetSecondFactorFromConsole } from './app/break-glass';
import { initialAdminFromEnv } from './app/env';
import { loadNodeHid } from './scanners/hid';
import { FileSecretStore, sealerFor } from './credentials/store';
import type { Session } from './auth/sessions';
import { CONTENT_SECURITY_POLICY } from './security/static-files';
import { isAppUrl, isTrustedSender } from './security/navigation';
import { grantsDevice, grantsPermission, keyboardShortcutAllowed, secretSealingFor, shellPolicy, type ShellPolicy } from './security/shell';
import { electronUpdaterDriver } from './updates/driver';
import { PAPER_PDF_OPTIONS, PAPER_WINDOW_PREFERENCES, pageDataUrl, paperPrintOptions } from './trips/paper-window';

const { autoUpdater } = eu;
const here = path.dirname(fileURLToPath(import.meta.url));

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  void start();
}

async function start(): Promise<void> {
  await app.whenReady();
  const dataDir = app.getPath('userData');
  const stationLog = await createLogger({ dir: path.join(dataDir, 'logs') });
  const { logger, close: closeLog } = stationLog;

  // Upstream credentials are sealed with the OS keyring through safeStorage, and never kept under
  // safeStorage's fixed-key fallback (basic_text) or in clear: then saving is refused and Admin → Sync says why.
  const sealing = secretSealingFor({
    platform: process.platform,
    encryptionAvailable: safeStorage.isEncryptionAvailable(),
    backend: process.platform === 'linux' ? safeStorage.getSelectedStorageBackend() : null,
  });
  if (!sealing.ok) logger.warn(sealing.log);

  // IT's provisioning file: --provision=FILE, or dockside.provision.json next to the app (README, Provisioning a fleet).
  const { station } = await startProvisionedStation(
    {
      dataDir,
      migrationsDir: path.join(here, 'migrations'),
      workerScript: path.join(here, 'worker.js'),
      logger,
      log: stationLog,
      demo: process.env.DOCKSIDE_DEMO === '1',
      initialAdmin: initialAdminFromEnv(process.env),
      hid: await loadNodeHid(),
      upstreams: {
        ...(process.env.DOCKSIDE_BAGS_UPSTREAM ? { bags: { url: process.env.DOCKSIDE_BAGS_UPSTREAM } } : {}),
        ...(process.env.DOCKSIDE_ERP_UPSTREAM ? { erp: { url: process.env.DOCKSIDE_ERP_UPSTREAM } } : {}),
        ...(process.env.DOCKSIDE_LEAFTRADE_UPSTREAM ? { leaftrade: { url: process.env.DOCKSIDE_LEAFTRADE_UPSTREAM } } : {}),
        ...(process.env.DOCKSIDE_BIOTRACK_UPSTREAM ? { biotrack: { url: process.env.DOCKSIDE_BIOTRACK_UPSTREAM } } : {}),
      },
      secrets: new FileSecretStore(path.join(dataDir, 'secrets.json'), sealerFor(sealing, safeStorage)),
      // electron-updater; the policy (updates/policy.ts) says when. Installing closes the station first.
      ...(app.isPackaged
        ? {
            updater: ({ stagingId }: { stagingId: string }) =>
              electronUpdaterDriver(autoUpdater, {
                userDataPath: dataDir,
                stagingId,
                logger,
                install: async (updater) => {
                  await closeStation();
                  updater.quitAndInstall(true, true);
                  // Still running later: the installer refused (electron-updater logged why). Start again on this
                  // version rather than run on without a station; the next check tries again.
                  setTimeout(() => {
                    app.relaunch();
                    app.exit(0);
                  }, 30_000).unref();
                },
              }),
          }
        : { updatesUnsupported: 'This is a development copy (not packaged): it does not update itself' }),
      renderPdf: (html) => onPaper(html, (wc) => wc.printToPDF(PAPER_PDF_OPTIONS)),
      print: (html, deviceName) =>
        onPaper(
          html,
          (wc) =>
            new Promise<void>((resolve, reject) =>
              wc.print(paperPrintOptions(deviceName), (ok, why) => (ok ? resolve() : reject(new Error(why || 'the printer refused the job')))),
            ),
        ),
    },
    {
      explicit: app.commandLine.getSwitchValue('provision') || null,
      folders: provisioningFolders({
        exePath: app.getPath('exe'),
        appImage: process.env.APPIMAGE,
        platform: process.platform,
        programData: process.env.ProgramData,
      }),
    },
  );

  // Once, whichever comes first: the last window closing or an update installing.
  let closing: Promise<void> | null = null;
  const closeStation = () => (closing ??= station.close().then(closeLog));

  // `dockside --reset-second-factor=USER` from the station PC's console: the last admin's way back in.
  const resetUser = app.commandLine.getSwitchValue('reset-second-factor');
  if (resetUser) {
    let code = 0;
    try {
      console.log(resetSecondFactorFromConsole(station, resetUser, os.userInfo().username));
    } catch (err) {
      console.error(err instanceof Error ? err.message : String(err));
      code = 1;
    }
    await station.close();
    await closeLog();
    app.exit(code);
    return;
  }

  const policy = shellPolicy({
    packaged: app.isPackaged,
    // --kiosk: the kiosk desktop entry the Linux packages install (build/dockside-kiosk.desktop).
    kiosk: station.settings.get().kioskMode || process.env.DOCKSIDE_KIOSK === '1' || app.commandLine.hasSwitch('kiosk'),
    env: process.env,
  });
  for (const refused of policy.refused) logger.warn(refused);
  const appUrl = policy.devServerUrl ?? `file://${path.join(here, '../renderer/index.html')}`;
  if (policy.menu === 'none') Menu.setApplicationMenu(null);

  // Only our own page; CSP as a header too, not only the meta tag.
  const ses = electronSession.defaultSession;
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  ses.setPermissionRequestHandler((_wc, permission, callback) => callback(grantsPermission(permission)));
  ses.setPermissionCheckHandler((_wc, permission) => grantsPermission(permission));
  ses.setDevicePermissionHandler((details) => grantsDevice(details.deviceType));

  const sessions = new Map<number, Session>();
  const sessionFor = (wc: WebContents): Session => {
    let s = sessions.get(wc.id);
    if (!s) {
      s = station.openSession(`electron ${wc.id}`, (event, data) => {
        if (!wc.isDestroyed()) wc.send(ELECTRON_EVENT, { t: 'event', event, data } as ServerFrame);
      });
      sessions.set(wc.id, s);
      wc.once('destroyed', () => {
        station.closeSession(s!);
        sessions.delete(wc.id);
      });
    }
    return s;
  };

  ipcMain.handle(ELECTRON_INVOKE, (event, channel: unknown, payload: unknown) => {
    if (!isTrustedSender(event.senderFrame?.url, appUrl)) {
      return { ok: false, error: { code: 'forbidden', message: 'Untrusted sender' } };
    }
    return station.router.handle(sessionFor(event.sender), channel, payload);
  });

  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-navigate', (e, url) => {
      if (!isAppUrl(url, appUrl)) e.preventDefault();
    });
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
    contents.on('will-attach-webview', (e) => e.preventDefault());
    contents.on('before-input-event', (e, input) => {
      if (!keyboardShortcutAllowed(input, policy)) e.preventDefault();
    });
  });

  createWindow(policy, appUrl);
  app.on('second-instance', () => {
    const win = BrowserWindow.getAllWindows()[0];
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });
  app.on('window-all-closed', () => {
    void closeStation().finally(() => app.quit());
  });
}

/** A trip manifest on paper: a hidden, sandboxed window without JavaScript loads the page, `use` prints it, the window goes. */
async function onPaper<T>(html: string, use: (wc: WebContents) => Promise<T>): Promise<T> {
  const win = new BrowserWindow({ show: false, webPreferences: PAPER_WINDOW_PREFERENCES });
  try {
    await win.loadURL(pageDataUrl(html));
    return await use(win.webContents);
  } finally {
    win.destroy();
  }
}

function createWindow(policy: ShellPolicy, appUrl: string): void {
  const win = new BrowserWindow({
    width: 1366,
    height: 768,
    kiosk: policy.kiosk,
    fullscreen: policy.kiosk,
    autoHideMenuBar: true,
    backgroundColor: '#0b1220',
    show: false,
    webPreferences: {
      preload: path.join(here, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      devTools: policy.devTools,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(appUrl);
}
