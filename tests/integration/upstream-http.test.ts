import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/main/platform/logger';
import { followLink, UpstreamHttp, type UpstreamHttpOptions } from '../../src/main/upstreams/http';
import { onRelease, releaseAll } from '../support/cleanup';

afterEach(releaseAll);

/** A loopback server whose every answer the test writes; counts requests per method. */
async function hostile(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => handler(req, res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  onRelease(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { url, seen };
}

/** Waits asked between retries; recorded, never slept. */
const waits: number[] = [];
afterEach(() => void (waits.length = 0));
function client(url: string, options: Partial<UpstreamHttpOptions> = {}) {
  return new UpstreamHttp({ name: 'test', baseUrl: url, now: Date.now, log: silentLogger, sleep: async (ms) => void waits.push(ms), ...options });
}

describe('UpstreamHttp', () => {
  it('after a 503 rests for the cooldown (read at each call, at least the Retry-After); a rest cleared elsewhere ends it', async () => {
    let down = true;
    let retryAfter: string | null = null;
    const s = await hostile((_req, res) => {
      if (down) res.writeHead(503, retryAfter ? { 'retry-after': retryAfter } : {}).end('maintenance');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok": true}');
    });
    let t = Date.UTC(2026, 10, 25, 8, 0, 0); // 19:00 in Sydney
    let cooldownMs = 5 * 60_000;
    const c = client(s.url, { now: () => t, retries: 0, cooldownAfter503Ms: () => cooldownMs, timeZone: () => 'Australia/Sydney' });
    await expect(c.getJson('x')).rejects.toMatchObject({ kind: 'unavailable', status: 503 });
    down = false;
    const asked = s.seen.length;
    await expect(c.getJson('x')).rejects.toMatchObject({ kind: 'breaker_open', message: 'test asked us to wait: cooling down until 19:05' });
    cooldownMs = 10 * 60_000; // a longer cooldown applies to the one under way
    await expect(c.getJson('x')).rejects.toMatchObject({ message: 'test asked us to wait: cooling down until 19:10' });
    expect(c.breakerNow().openUntil).toBe(t + 10 * 60_000);
    expect(s.seen.length).toBe(asked);
    t += 10 * 60_000;
    expect(await c.getJson('x')).toEqual({ ok: true });

    // A Retry-After longer than the cooldown wins; the outbox's "send now" (openUntil = 0) ends the rest.
    down = true;
    retryAfter = '1200';
    await expect(c.getJson('x')).rejects.toMatchObject({ kind: 'unavailable' });
    down = false;
    await expect(c.getJson('x')).rejects.toMatchObject({ message: 'test asked us to wait: cooling down until 19:30' });
    c.breaker.openUntil = 0;
    expect(await c.getJson('x')).toEqual({ ok: true });
  });

  it('a body that trickles forever ends at the total deadline as a timeout', async () => {
    const s = await hostile((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"value": [');
      const t = setInterval(() => res.write(' '), 20);
      res.on('close', () => clearInterval(t));
    });
    await expect(client(s.url, { deadlineMs: 300, idleTimeoutMs: 10_000, retries: 0 }).getJson('x')).rejects.toMatchObject({ kind: 'timeout' });
  });

  it('a socket that goes silent after the headers ends at the idle timeout', async () => {
    const s = await hostile((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"value": [');
    });
    await expect(client(s.url, { idleTimeoutMs: 200, retries: 0 }).getJson('x')).rejects.toMatchObject({ kind: 'timeout' });
  });

  it('an answer over the size cap is refused as malformed, with or without a content-length', async () => {
    const big = `{"value": "${'x'.repeat(2 * 1024 * 1024)}"}`;
    const s = await hostile((req, res) => {
      if (req.url === '/declared') res.writeHead(200, { 'content-length': Buffer.byteLength(big) });
      else res.writeHead(200);
      res.end(big);
    });
    const c = client(s.url, { maxResponseBytes: 1024 * 1024 });
    await expect(c.getJson('declared')).rejects.toMatchObject({ kind: 'malformed', message: expect.stringContaining('larger than 1 MiB') });
    await expect(c.getJson('chunked')).rejects.toMatchObject({ kind: 'malformed' });
    expect(await client(s.url).getJson<{ value: string }>('chunked')).toMatchObject({ value: expect.any(String) });
  });

  it('retries GETs and idempotent POSTs on 5xx, but never a POST that may change state', async () => {
    const s = await hostile((_req, res) => res.writeHead(500).end('boom'));
    const c = client(s.url, { breakerThreshold: 100 });
    await expect(c.getJson('read')).rejects.toMatchObject({ kind: 'server' });
    await expect(c.postJson('create', { a: 1 })).rejects.toMatchObject({ kind: 'server' });
    await expect(c.postJson('batch', { a: 1 }, { idempotent: true })).rejects.toMatchObject({ kind: 'server' });
    expect(s.seen.filter((r) => r.endsWith('/read'))).toHaveLength(3);
    expect(s.seen.filter((r) => r.endsWith('/create'))).toHaveLength(1);
    expect(s.seen.filter((r) => r.endsWith('/batch'))).toHaveLength(3);
    expect(waits).toEqual([250, 500, 250, 500]); // backoff before each retry of the read and of the batch
  });

  it('a connection reset on a non-idempotent POST is reported as ambiguous and not resent', async () => {
    const s = await hostile((req) => req.socket.destroy());
    const e = await client(s.url)
      .postJson('create', {})
      .catch((x: unknown) => x);
    expect(e).toMatchObject({ kind: 'network', ambiguous: true });
    expect(s.seen).toHaveLength(1);
  });

  it('caller errors (400, 404, 405, 414) and credentials errors never open the breaker; 5xx does', async () => {
    const s = await hostile((req, res) => {
      const status = Number(req.url?.slice(1));
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `said ${status}` } }));
    });
    const c = client(s.url, { retries: 0, breakerThreshold: 3 });
    for (const status of [400, 404, 405, 414, 400, 404, 401, 403])
      await expect(c.getJson(String(status))).rejects.toMatchObject({ kind: status >= 401 && status <= 403 ? 'credentials' : 'refused' });
    expect(c.breaker.state).toBe('closed');
    for (let i = 0; i < 3; i++) await expect(c.getJson('500')).rejects.toMatchObject({ kind: 'server' });
    expect(c.breaker.state).toBe('open');
    await expect(c.getJson('400')).rejects.toMatchObject({ kind: 'breaker_open' });
  });

  it('does not follow redirects, and refuses absolute URLs on another origin', async () => {
    const s = await hostile((_req, res) => res.writeHead(302, { location: 'http://127.0.0.2:9/steal' }).end());
    const c = client(s.url, { retries: 0 });
    await expect(c.getJson('x')).rejects.toMatchObject({ kind: 'malformed' });
    expect(() => c.resolve('http://127.0.0.2:9/x')).toThrow(/another server/);
    expect(c.resolve(`${s.url}/a?b=1`)).toBe(`${s.url}/a?b=1`);
  });
});

describe('followLink', () => {
  it('resolves relative links against the URL that sent them and keeps to the configured origin', () => {
    const base = 'http://erp.local:8080/odata/';
    expect(followLink('erp', 'SalesOrders?$skiptoken=100', 'http://erp.local:8080/odata/reports/DD/SalesOrders?$filter=x', base)).toBe(
      'http://erp.local:8080/odata/reports/DD/SalesOrders?$skiptoken=100',
    );
    expect(followLink('erp', '/odata/reports/DD/SalesOrders?$skiptoken=5', 'http://erp.local:8080/odata/reports/DD/SalesOrders', base)).toBe(
      'http://erp.local:8080/odata/reports/DD/SalesOrders?$skiptoken=5',
    );
    expect(() => followLink('erp', 'https://erp.local:8080/x', 'http://erp.local:8080/odata/a', base)).toThrow(/another server/);
    expect(() => followLink('erp', '//evil.example/x', 'http://erp.local:8080/odata/a', base)).toThrow(/another server/);
    expect(() => followLink('erp', 'http://[broken', 'http://erp.local:8080/odata/a', base)).toThrow(/not a URL/);
  });
});
