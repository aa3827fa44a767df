import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../platform/logger';
import type { Station } from '../app/station';
import { attachWebSocketTransport } from '../ipc/ws-transport';
import { contentType, resolveStaticPath, SECURITY_HEADERS } from '../security/static-files';

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
  /** Test host only: a handler that takes its own requests first (see test-control.ts). */
  testControl?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
}): Promise<BrowserHost> {
  const log = opts.logger.child({ module: 'host' });
  let origins: string[] = [];

  const server = http.createServer((req, res) => {
    if (opts.testControl?.(req, res)) return;
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

  const transport = attachWebSocketTransport({ server, station: opts.station, allowedOrigins: () => origins, logger: opts.logger });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  origins = [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
  const url = `http://127.0.0.1:${port}`;
  log.info({ url }, 'browser host listening');

  return {
    url,
    async close() {
      await transport.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
