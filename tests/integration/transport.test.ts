import { afterEach, describe, expect, it } from 'vitest';
import { MAX_FRAME_BYTES } from '../../src/main/ipc/ws-transport';
import { releaseAll } from '../support/cleanup';
import { snapshotDatabase, startTestHost, withAdmin } from '../support/station';
import { connectWs } from '../support/ws-client';

afterEach(releaseAll);

async function setup() {
  const t = await withAdmin();
  return { t, host: await startTestHost(t) };
}

describe('browser-host transport', () => {
  it('a dispatcher calling an admin-only channel directly is refused by main and nothing changes', async () => {
    const { t, host } = await setup();
    await t.admin.ok('users/create', { username: 'dock1', displayName: 'Dock 1', role: 'dispatcher', pin: '2468' });
    const ws = await connectWs(host.url);
    expect(await ws.invoke('auth/login', { username: 'dock1', secret: '2468' })).toMatchObject({ ok: true });
    const before = snapshotDatabase(t.station);
    for (const [channel, payload] of [
      ['users/create', { username: 'mallory', displayName: 'M', role: 'admin', password: 'password-123' }],
      ['users/list', {}],
      ['users/update', { id: 1, disabled: true }],
      ['users/reset-credentials', { id: 1, password: 'password-123' }],
      ['settings/update', { idleLockMinutes: 240 }],
    ] as const) {
      expect(await ws.invoke(channel, payload)).toMatchObject({
        ok: false,
        error: { code: 'forbidden', message: expect.stringContaining('Only Admin') },
      });
    }
    expect(snapshotDatabase(t.station)).toBe(before);
  });

  it('refuses calls before sign-in, unknown channels, and prototype names', async () => {
    const { host } = await setup();
    const ws = await connectWs(host.url);
    expect(await ws.invoke('users/list', {})).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    for (const name of ['nope', '__proto__', 'constructor', 'toString', 42, null]) {
      expect(await ws.invoke(name, {})).toMatchObject({ ok: false, error: { code: 'unknown_channel' } });
    }
  });

  it('answers malformed frames and keeps the connection', async () => {
    const { host } = await setup();
    const ws = await connectWs(host.url);
    for (const raw of ['not json', '[1,2]', '{"t":"invoke"}', '{"t":"invoke","id":"7","channel":"session/status"}']) {
      const frame = await ws.sendRaw(raw);
      expect(frame).toMatchObject({ t: 'result', envelope: { ok: false, error: { code: 'invalid' } } });
    }
    expect(await ws.invoke('session/status', {})).toMatchObject({ ok: true });
  });

  it('closes a connection that sends an oversized frame, and the host keeps serving others', async () => {
    const { host } = await setup();
    const ws = await connectWs(host.url);
    void ws.invoke('session/status', { big: 'x'.repeat(MAX_FRAME_BYTES + 10) });
    expect(await ws.closed).toBe(1009); // 1009: message too big
    const other = await connectWs(host.url);
    expect(await other.invoke('session/status', {})).toMatchObject({ ok: true });
  });

  it('refuses WebSocket upgrades from other origins (cross-site WebSocket hijacking)', async () => {
    const { host } = await setup();
    await expect(connectWs(host.url, 'http://evil.example')).rejects.toThrow(/403/);
    await expect(connectWs(host.url, 'null')).rejects.toThrow(/403/);
  });

  it('serves the renderer with security headers and no path traversal', async () => {
    const { host } = await setup();
    const res = await fetch(`${host.url}/../../etc/passwd`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect((await fetch(host.url, { method: 'POST' })).status).toBe(405);
  });

  it('pushes session events to the right connection', async () => {
    const { t, host } = await setup();
    await t.admin.ok('users/create', { username: 'dock9', displayName: 'Dock 9', role: 'dispatcher', pin: '1357', password: 'password-123' });
    const ws = await connectWs(host.url);
    const info = await ws.invoke('auth/login', { username: 'dock9', secret: '1357' });
    const id = (info as { ok: true; value: { user: { id: number } } }).value.user.id;
    const other = await connectWs(host.url); // signed out: must hear nothing of dock9
    await t.admin.ok('users/update', { id, role: 'biller' });
    const changed = await ws.event((f) => f.t === 'event' && f.event === 'session/changed');
    expect(changed).toMatchObject({ data: { user: { username: 'dock9', role: 'biller' } } });
    // The push and this answer travel in order on their sockets: once it is here, a stray push would be too.
    expect(await other.invoke('session/status', {})).toMatchObject({ ok: true, value: { user: null } });
    expect(other.events).toEqual([]);
  });
});
