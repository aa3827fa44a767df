import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export { nodeDebUpdater } from '../../src/main/updates/node-updater';

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
