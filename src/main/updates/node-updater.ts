import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { DebUpdater } from 'electron-updater';
import type { AppAdapter } from 'electron-updater/out/AppAdapter';
import { ElectronHttpExecutor } from 'electron-updater/out/electronHttpExecutor.js';

/**
 * electron-updater's own DebUpdater under plain Node (tests, and the test host): the check, feed
 * parsing, staged rollout, channel, downgrade, download and sha512 are its code; Node's http
 * stands in for Electron's net and an adapter for Electron's app. Its install (dpkg through
 * pkexec, then a restart) is never called here: the driver's `install` decides what happens.
 */

/** electron-updater's HTTP executor with Node's http/https in place of Electron's net (Node follows no redirects itself; the base class does). */
class NodeHttpExecutor extends ElectronHttpExecutor {
  override createRequest(options: http.RequestOptions, callback: (response: http.IncomingMessage) => void) {
    return (options.protocol === 'https:' ? https.request : http.request)(options, callback) as never;
  }

  protected override addRedirectHandlers(): void {
    // Node's request has no 'redirect' event: the base class answers 3xx itself.
  }
}

export interface NodeApp extends AppAdapter {
  quits: number;
  relaunches: number;
}

export function nodeAppAdapter(version: string, userDataPath: string): NodeApp {
  const app: NodeApp = {
    version,
    name: 'Dockside',
    isPackaged: true,
    appUpdateConfigPath: path.join(userDataPath, 'app-update.yml'),
    userDataPath,
    baseCachePath: path.join(userDataPath, 'cache'),
    whenReady: () => Promise.resolve(),
    relaunch: () => void app.relaunches++,
    quit: () => void app.quits++,
    onQuit: () => {},
    quits: 0,
    relaunches: 0,
  };
  return app;
}

/** A DebUpdater as `autoUpdater` is on a deb install, running `version`, its cache under `userDataPath`. */
export function nodeDebUpdater(version: string, userDataPath: string): { updater: DebUpdater; app: NodeApp } {
  const app = nodeAppAdapter(version, userDataPath);
  const updater = new DebUpdater(null, app);
  // Given an app adapter electron-updater leaves the executor unset; the provider takes it at setFeedURL.
  Object.assign(updater, { httpExecutor: new NodeHttpExecutor() });
  return { updater, app };
}
