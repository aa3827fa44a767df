import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { configureRequestOptions, configureRequestUrl, HttpExecutor, type DownloadOptions } from 'builder-util-runtime';
import { DebUpdater } from 'electron-updater';
import type { AppAdapter } from 'electron-updater/out/AppAdapter';

/**
 * electron-updater under plain Node, for tests: its own updater classes (DebUpdater: check, feed
 * parsing, staging, download, sha512) with Node's http in place of Electron's net, and an app
 * adapter in place of Electron's app. Only the install (dpkg/NSIS/AppImage and the restart) is not run.
 */

/** builder-util-runtime's HttpExecutor over Node's http/https (what ElectronHttpExecutor does over Electron's net). */
export class NodeHttpExecutor extends HttpExecutor<http.ClientRequest> {
  createRequest(options: http.RequestOptions, callback: (response: http.IncomingMessage) => void): http.ClientRequest {
    return (options.protocol === 'https:' ? https.request : http.request)(options, callback);
  }

  async download(url: URL, destination: string, options: DownloadOptions): Promise<string> {
    return options.cancellationToken.createPromise<string>((resolve, reject, onCancel) => {
      const requestOptions: http.RequestOptions = { headers: options.headers || undefined };
      configureRequestUrl(url, requestOptions);
      configureRequestOptions(requestOptions);
      this.doDownload(
        requestOptions,
        { destination, options, onCancel, callback: (e) => (e ? reject(e) : resolve(destination)), responseHandler: null },
        0,
      );
    });
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

/** A real DebUpdater of electron-updater, as `autoUpdater` is on a deb install, running `version`. */
export function nodeDebUpdater(version: string, userDataPath: string): { updater: DebUpdater; app: NodeApp } {
  const app = nodeAppAdapter(version, userDataPath);
  const updater = new DebUpdater(null, app);
  // Electron's net is not here: Node's http instead (the provider takes it at setFeedURL).
  Object.assign(updater, { httpExecutor: new NodeHttpExecutor() });
  return { updater, app };
}

export interface FeedRequest {
  path: string;
  headers: IncomingHttpHeaders;
}

/** A folder of files over HTTP, as IT's generic feed is; it notes every request. */
export async function startFeedServer(): Promise<{
  url: string;
  files: Map<string, Buffer | string>;
  requests: FeedRequest[];
  close: () => Promise<void>;
}> {
  const files = new Map<string, Buffer | string>();
  const requests: FeedRequest[] = [];
  const server = http.createServer((req, res) => {
    const p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/dockside\//, '');
    requests.push({ path: p, headers: req.headers });
    const body = files.get(p);
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const buf = Buffer.isBuffer(body) ? body : Buffer.from(body);
    res.writeHead(200, { 'content-length': buf.length, 'content-type': p.endsWith('.yml') ? 'text/yaml' : 'application/octet-stream' }).end(buf);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/dockside/`,
    files,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A package as electron-builder publishes it: its bytes, sha512 (base64) and the channel file naming it. */
export function release(version: string, opts: { stagingPercentage?: number; size?: number } = {}) {
  const bytes = randomBytes(opts.size ?? 256 * 1024);
  const file = `Dockside-${version}-amd64.deb`;
  const sha512 = createHash('sha512').update(bytes).digest('base64');
  const yml = [
    `version: ${version}`,
    'files:',
    `  - url: ${file}`,
    `    sha512: ${sha512}`,
    `    size: ${bytes.length}`,
    `path: ${file}`,
    `sha512: ${sha512}`,
    "releaseDate: '2026-11-20T10:00:00.000Z'",
    ...(opts.stagingPercentage === undefined ? [] : [`stagingPercentage: ${opts.stagingPercentage}`]),
    '',
  ].join('\n');
  return { file, bytes, sha512, yml };
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
