import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Station } from '../../src/main/app/station';
import { startBrowserHost, type BrowserHost, type TestControlHandler } from '../../src/main/host/server';
import { TestClock, testControl, MAX_TEST_BODY_BYTES } from '../../src/main/host/test-control';
import { InjectedFailures } from '../../src/main/ipc/router';
import { MAX_CALLS_IN_FLIGHT } from '../../src/main/ipc/ws-transport';
import { silentLogger, type Logger } from '../../src/main/platform/logger';
import { IPC_PATH } from '../../src/shared/transport';
import { releaseAll, onRelease } from '../support/cleanup';
import { makeStation, tempDir } from '../support/station';
import { connectWs } from '../support/ws-client';

afterEach(releaseAll);

async function startHost(
  opts: { station?: Station; logger?: Logger; now?: () => number; testControl?: TestControlHandler } = {},
): Promise<BrowserHost & { port: number }> {
  const rendererDir = tempDir();
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Dockside</title>');
  const station = opts.station ?? (await makeStation()).station;
  const host = await startBrowserHost({
    station,
    rendererDir,
    port: 0,
    logger: opts.logger ?? silentLogger,
    now: opts.now,
    testControl: opts.testControl,
  });
  onRelease(() => host.close());
  return { ...host, port: Number(new URL(host.url).port) };
}

interface RawAnswer {
  status: number;
  body: string;
}

/** One HTTP request with exactly the headers given (setHost: false sends none of its own). */
function request(
  port: number,
  opts: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path ?? '/', headers: opts.headers, setHost: false },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A WebSocket upgrade with the headers given: 101 when accepted, else the refusal's status. */
function upgrade(port: number, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      path: IPC_PATH,
      setHost: false,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...headers,
      },
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      resolve(101);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A raw HTTP/1.0 request: that version lets a client leave the Host header out. */
function http10WithoutHost(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.0\r\n\r\n'));
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString()));
    socket.on('end', () => resolve(answer.split('\r\n')[0]));
    socket.on('error', reject);
  });
}

describe('Host header (DNS rebinding)', () => {
  it('serves the page under 127.0.0.1:port and localhost:port', async () => {
    const host = await startHost();
    for (const name of [`127.0.0.1:${host.port}`, `localhost:${host.port}`, `LOCALHOST:${host.port}`]) {
      expect(await request(host.port, { headers: { host: name } })).toMatchObject({ status: 200 });
    }
  });

  it.each([
    'evil.example:PORT',
    'evil.example',
    '127.0.0.1',
    '127.0.0.1:1',
    'localhost.evil.example:PORT',
    '[::1]:PORT',
    '127.0.0.1:PORT.evil.example',
  ])('refuses a request whose Host is %s, with no body', async (name) => {
    const host = await startHost();
    expect(await request(host.port, { headers: { host: name.replace('PORT', String(host.port)) } })).toEqual({ status: 421, body: '' });
  });

  it('refuses a request without a Host header', async () => {
    const host = await startHost();
    expect(await http10WithoutHost(host.port)).toBe('HTTP/1.1 421 Misdirected Request');
  });

  it('refuses a WebSocket upgrade under a rebound name even when its Origin matches that name', async () => {
    const host = await startHost();
    const evil = `evil.example:${host.port}`;
    expect(await upgrade(host.port, { host: evil, origin: `http://${evil}` })).toBe(421);
    expect(await upgrade(host.port, { origin: host.url })).toBe(421); // no Host at all
  });

  it('accepts the upgrade from its own page', async () => {
    const host = await startHost();
    expect(await upgrade(host.port, { host: `127.0.0.1:${host.port}`, origin: host.url })).toBe(101);
    expect(await upgrade(host.port, { host: `localhost:${host.port}`, origin: `http://localhost:${host.port}` })).toBe(101);
  });
});

describe('test controls', () => {
  async function startTestHost() {
    const clock = new TestClock();
    const host = await startHost({ testControl: testControl({ bus: null, failures: new InjectedFailures(), clock }) });
    return { host, clock, own: { host: `127.0.0.1:${host.port}`, origin: host.url } };
  }

  it('take a command from the host’s own origin', async () => {
    const { host, clock, own } = await startTestHost();
    const before = clock.now();
    expect(await request(host.port, { method: 'POST', path: '/__test/clock', headers: own, body: JSON.stringify({ ms: 3_600_000 }) })).toMatchObject({
      status: 200,
    });
    expect(clock.now() - before).toBeGreaterThanOrEqual(3_600_000);
  });

  it.each([
    ['no Origin', undefined],
    ['another origin', 'http://evil.example'],
    ['an opaque origin', 'null'],
  ])('refuse a command with %s', async (_what, origin) => {
    const { host, own } = await startTestHost();
    const headers: Record<string, string> = { host: own.host, ...(origin ? { origin } : {}) };
    for (const p of ['/__test/clock', '/__test/fail']) {
      expect(await request(host.port, { method: 'POST', path: p, headers, body: JSON.stringify({ ms: 1 }) })).toEqual({ status: 403, body: '' });
    }
  });

  it('refuse a command under a rebound Host name', async () => {
    const { host } = await startTestHost();
    const evil = `evil.example:${host.port}`;
    const r = await request(host.port, {
      method: 'POST',
      path: '/__test/clock',
      headers: { host: evil, origin: `http://${evil}` },
      body: '{"ms":1}',
    });
    expect(r.status).toBe(421);
  });

  /** POSTs to /__test/fail, `send` writing the body its own way; resolves with the answer's status. */
  function postFail(port: number, headers: Record<string, string>, send: (req: http.ClientRequest) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/__test/fail', headers });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      send(req);
    });
  }

  it('refuse a body announced over 1 MB before reading it', async () => {
    const { host, own } = await startTestHost();
    // Headers only: the answer must not wait for the body.
    const status = await postFail(host.port, { ...own, 'content-length': String(MAX_TEST_BODY_BYTES + 1) }, (req) => req.flushHeaders());
    expect(status).toBe(413);
  });

  it('refuse a streamed body that grows past 1 MB', async () => {
    const { host, own } = await startTestHost();
    const status = await postFail(host.port, { ...own, 'transfer-encoding': 'chunked' }, (req) => {
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      for (let sent = 0; sent <= MAX_TEST_BODY_BYTES; sent += chunk.length) req.write(chunk);
      req.end();
    });
    expect(status).toBe(413);
  });
});

describe('calls in flight per connection', () => {
  it(`answers rate_limited past ${MAX_CALLS_IN_FLIGHT} waiting calls, and takes calls again once they are answered`, async () => {
    const t = await makeStation();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    // Every call waits at the gate until the test opens it: "in flight" without any timing.
    const held: Station = { ...t.station, router: { handle: (s, c, p) => gate.then(() => t.station.router.handle(s, c, p)) } };
    const host = await startHost({ station: held });
    const ws = await connectWs(host.url);

    const waiting = Array.from({ length: MAX_CALLS_IN_FLIGHT }, () => ws.invoke('session/status', {}));
    expect(await ws.invoke('session/status', {})).toEqual({
      ok: false,
      error: { code: 'rate_limited', message: 'The station is busy with this window’s earlier requests. Wait a moment and try again.' },
    });
    open();
    for (const answer of await Promise.all(waiting)) expect(answer).toMatchObject({ ok: true });
    expect(await ws.invoke('session/status', {})).toMatchObject({ ok: true });
  });
});

describe('refused-upgrade log lines', () => {
  it('logs the first 10 a minute one by one, then one line with the count', async () => {
    const lines: { msg: string; notLogged?: number; origin?: string }[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
    let now = Date.UTC(2026, 0, 5, 8);
    const host = await startHost({ logger, now: () => now });
    const own = `127.0.0.1:${host.port}`;
    const refused = () => lines.filter((l) => l.msg === 'refused WebSocket upgrade');
    const summaries = () => lines.filter((l) => l.notLogged !== undefined);

    for (let i = 0; i < 25; i++) expect(await upgrade(host.port, { host: own, origin: 'http://evil.example' })).toBe(403);
    expect(refused()).toHaveLength(10);
    expect(refused()[0]).toMatchObject({ origin: 'http://evil.example' });
    expect(summaries()).toEqual([]);

    now += 60_000;
    expect(await upgrade(host.port, { host: own, origin: 'http://evil.example' })).toBe(403);
    expect(summaries()).toMatchObject([{ notLogged: 15 }]);
    expect(refused()).toHaveLength(11);

    for (let i = 0; i < 12; i++) await upgrade(host.port, { host: own, origin: 'http://evil.example' });
    await host.close(); // what was counted is logged before the host stops
    expect(summaries()).toMatchObject([{ notLogged: 15 }, { notLogged: 3 }]);
  });

  it('logs at most 200 characters of what the client sent', async () => {
    const lines: { origin?: string }[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
    const host = await startHost({ logger });
    await upgrade(host.port, { host: `127.0.0.1:${host.port}`, origin: `http://${'a'.repeat(5000)}.example` });
    expect(lines[0].origin!.length).toBeLessThanOrEqual(201);
  });
});
