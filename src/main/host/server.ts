import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../platform/logger';
import { clipped, ThrottledWarning } from '../platform/throttled-warning';
import type { Station } from '../app/station';
import { attachWebSocketTransport } from '../ipc/ws-transport';
import { isAllowedHost, loopbackAuthorities, loopbackOrigins } from '../security/loopback';
import { contentType, resolveStaticPath, SECURITY_HEADERS } from '../security/static-files';

/** Takes a request it serves and answers true; `origins` are the host's own, for its Origin check. */
export type TestControlHandler = (req: http.IncomingMessage, res: http.ServerResponse, origins: readonly string[]) => boolean;

export interface BrowserHost {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the built renderer and the IPC WebSocket on 127.0.0.1 only, so the whole app runs in
 * any Chromium. Same router as Electron; only the transport differs.
 */
export async function startBrowserHost(opts: {
  station: Station;
  rendererDir: string;
  port: number;
  logger: Logger;
  /** The clock that paces refusal log lines; the test host passes its movable one. */
  now?: () => number;
  /** Test host only: a handler that takes its own requests first (see test-control.ts). */
  testControl?: TestControlHandler;
}): Promise<BrowserHost> {
  const log = opts.logger.child({ module: 'host' });
  const now = opts.now ?? Date.now;
  // Filled in once listening: port 0 picks the port then.
  let origins: string[] = [];
  let hosts: string[] = [];
  const misdirected = new ThrottledWarning({ log, message: 'refused a request for another host name', now });

  const server = http.createServer((req, res) => {
    // Before anything else, the test controls included: see security/loopback.ts (DNS rebinding).
    if (!isAllowedHost(req.headers.host, hosts)) {
      misdirected.warn({ host: clipped(req.headers.host), path: clipped(req.url) });
      res.writeHead(421, { 'Content-Length': '0', Connection: 'close' }).end();
      return;
    }
    if (opts.testControl?.(req, res, origins)) return;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const file = resolveStaticPath(opts.rendererDir, req.url ?? '/');
    if (!file || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS }).end('Not found');
      return;
    }
    res.writeHead(200, {
      'Content-Type': contentType(file),
      'Cache-Control': file.endsWith('index.html') ? 'no-store' : 'public, max-age=31536000, immutable',
      ...SECURITY_HEADERS,
    });
    if (req.method === 'HEAD') res.end();
    else fs.createReadStream(file).pipe(res);
  });

  const transport = attachWebSocketTransport({
    server,
    station: opts.station,
    allowedOrigins: () => origins,
    allowedHosts: () => hosts,
    logger: opts.logger,
    now,
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  origins = loopbackOrigins(port);
  hosts = loopbackAuthorities(port);
  const url = origins[0];
  log.info({ url }, 'browser host listening');

  return {
    url,
    async close() {
      misdirected.flush();
      await transport.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
