import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAllowedOrigin, parseInvokeFrame } from '../../src/main/ipc/ws-transport';
import { isAppUrl, isTrustedSender } from '../../src/main/security/navigation';
import { resolveStaticPath } from '../../src/main/security/static-files';

const root = path.resolve('/srv/renderer');

describe('resolveStaticPath', () => {
  it('serves index.html for / and files inside the root', () => {
    expect(resolveStaticPath(root, '/')).toBe(path.join(root, 'index.html'));
    expect(resolveStaticPath(root, '/assets/app.js?v=1')).toBe(path.join(root, 'assets/app.js'));
  });

  it.each([
    '/../etc/passwd',
    '/..%2f..%2fetc/passwd',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/assets/..%5c..%5csecret',
    '/index.html%00.js',
    '/%E0%A4%A', // broken escape
    '/../renderer-evil/x.js',
  ])('refuses %s', (p) => {
    expect(resolveStaticPath(root, p)).toBeNull();
  });
});

describe('isAllowedOrigin', () => {
  const allowed = ['http://127.0.0.1:5780', 'http://localhost:5780'];
  it('accepts the host’s own origins', () => {
    expect(isAllowedOrigin('http://127.0.0.1:5780', allowed)).toBe(true);
    expect(isAllowedOrigin('http://localhost:5780', allowed)).toBe(true);
  });
  it.each([undefined, '', 'null', 'http://evil.example', 'http://127.0.0.1:5781', 'http://127.0.0.1:5780.evil.example', 'file://'])(
    'refuses %s',
    (origin) => {
      expect(isAllowedOrigin(origin, allowed)).toBe(false);
    },
  );
});

describe('Electron navigation checks', () => {
  const fileApp = 'file:///opt/Dockside/resources/app.asar/out/renderer/index.html';
  it('allows only our own page', () => {
    expect(isAppUrl(`${fileApp}#admin`, fileApp)).toBe(true);
    expect(isAppUrl('file:///etc/passwd', fileApp)).toBe(false);
    expect(isAppUrl('https://example.com/', fileApp)).toBe(false);
    expect(isAppUrl('http://localhost:5173/x', 'http://localhost:5173/')).toBe(true);
    expect(isAppUrl('http://localhost:5174/', 'http://localhost:5173/')).toBe(false);
    expect(isAppUrl('javascript:alert(1)', fileApp)).toBe(false);
    expect(isAppUrl('not a url', fileApp)).toBe(false);
  });
  it('refuses IPC from frames that are not ours', () => {
    expect(isTrustedSender(undefined, fileApp)).toBe(false);
    expect(isTrustedSender('about:blank', fileApp)).toBe(false);
    expect(isTrustedSender(fileApp, fileApp)).toBe(true);
  });
});

describe('parseInvokeFrame', () => {
  it('accepts a well-formed invoke', () => {
    expect(parseInvokeFrame('{"t":"invoke","id":3,"channel":"session/status","payload":{}}')).toEqual({
      ok: true,
      id: 3,
      channel: 'session/status',
      payload: {},
    });
  });
  it.each(['', 'nope', '[]', 'null', '42', '{"t":"invoke"}', '{"t":"other","id":1}', '{"t":"invoke","id":1.5}', '{"t":"invoke","id":"1"}'])(
    'answers %j as invalid',
    (raw) => {
      expect(parseInvokeFrame(raw).ok).toBe(false);
    },
  );
});
