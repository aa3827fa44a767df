import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSecretStore, sealerFor, type Encryptor } from '../../src/main/credentials/store';
import { grantsDevice, grantsPermission, keyboardShortcutAllowed, secretSealingFor, shellPolicy, type KeyInput } from '../../src/main/security/shell';
import { DomainError } from '../../src/shared/envelope';
import { releaseAll } from '../support/cleanup';
import { tempDir, withAdmin } from '../support/station';

afterEach(releaseAll);

const root = path.resolve(import.meta.dirname, '../..');

describe('shellPolicy', () => {
  it('a packaged app has no menu, no DevTools, and ignores ELECTRON_RENDERER_URL', () => {
    const p = shellPolicy({ packaged: true, kiosk: false, env: { ELECTRON_RENDERER_URL: 'http://localhost:5173/' } });
    expect(p).toMatchObject({ menu: 'none', devTools: false, devServerUrl: null });
    expect(p.refused).toEqual(['ELECTRON_RENDERER_URL is ignored in a packaged app']);
  });

  it('kiosk has no menu even unpackaged', () => {
    expect(shellPolicy({ packaged: false, kiosk: true, env: {} })).toMatchObject({ menu: 'none', devTools: true, kiosk: true });
  });

  it('development keeps the default menu, DevTools and a loopback dev server', () => {
    expect(shellPolicy({ packaged: false, kiosk: false, env: { ELECTRON_RENDERER_URL: 'http://localhost:5173/' } })).toEqual({
      kiosk: false,
      menu: 'default',
      devTools: true,
      devServerUrl: 'http://localhost:5173/',
      refused: [],
    });
  });

  it.each(['https://evil.example/', 'file:///etc/passwd', 'http://127.0.0.1.evil.example:5173/', 'javascript:alert(1)', 'not a url'])(
    'refuses the dev server URL %s',
    (url) => {
      const p = shellPolicy({ packaged: false, kiosk: false, env: { ELECTRON_RENDERER_URL: url } });
      expect(p.devServerUrl).toBeNull();
      expect(p.refused).toHaveLength(1);
    },
  );
});

const key = (k: string, mods: Partial<Omit<KeyInput, 'key'>> = {}): KeyInput => ({
  key: k,
  control: false,
  meta: false,
  shift: false,
  alt: false,
  ...mods,
});

describe('keyboardShortcutAllowed', () => {
  const kiosk = { kiosk: true, devTools: false };
  it.each([
    ['Ctrl+W', key('w', { control: true })],
    ['Ctrl+Q', key('q', { control: true })],
    ['Ctrl+R', key('r', { control: true })],
    ['Ctrl+Shift+R', key('R', { control: true, shift: true })],
    ['Ctrl+F4', key('F4', { control: true })],
    ['Cmd+W', key('w', { meta: true })],
    ['F11', key('F11')],
    ['F12', key('F12')],
    ['Ctrl+Shift+I', key('I', { control: true, shift: true })],
    ['Ctrl+Shift+J', key('J', { control: true, shift: true })],
    ['Ctrl+Shift+C', key('C', { control: true, shift: true })],
    ['Cmd+Alt+I', key('i', { meta: true, alt: true })],
  ])('kiosk stops %s', (_name, input) => {
    expect(keyboardShortcutAllowed(input, kiosk)).toBe(false);
  });

  it.each([
    ['F1 (Scan)', key('F1')],
    ['F5 (Verify)', key('F5')],
    ['F9 (undo)', key('F9')],
    ['a letter', key('w')],
    ['Enter', key('Enter')],
    ['Ctrl+C (copy)', key('c', { control: true })],
    ['Ctrl+V (paste)', key('v', { control: true })],
    ['Shift+R', key('R', { shift: true })],
  ])('kiosk lets %s through', (_name, input) => {
    expect(keyboardShortcutAllowed(input, kiosk)).toBe(true);
  });

  it('without kiosk, stops DevTools keys only when DevTools are off', () => {
    expect(keyboardShortcutAllowed(key('I', { control: true, shift: true }), { kiosk: false, devTools: false })).toBe(false);
    expect(keyboardShortcutAllowed(key('F12'), { kiosk: false, devTools: false })).toBe(false);
    expect(keyboardShortcutAllowed(key('I', { control: true, shift: true }), { kiosk: false, devTools: true })).toBe(true);
    expect(keyboardShortcutAllowed(key('w', { control: true }), { kiosk: false, devTools: false })).toBe(true);
  });
});

describe('permissions', () => {
  it.each([
    'media',
    'geolocation',
    'notifications',
    'clipboard-read',
    'clipboard-sanitized-write',
    'hid',
    'usb',
    'serial',
    'fullscreen',
    'openExternal',
    'unknown',
  ])('denies %s', (permission) => {
    expect(grantsPermission(permission)).toBe(false);
  });
  it.each(['hid', 'usb', 'serial', 'bluetooth'])('denies %s devices', (deviceType) => {
    expect(grantsDevice(deviceType)).toBe(false);
  });
});

describe('secretSealingFor', () => {
  it.each(['gnome_libsecret', 'kwallet', 'kwallet5', 'kwallet6'])('seals with the Linux keyring %s', (backend) => {
    expect(secretSealingFor({ platform: 'linux', encryptionAvailable: true, backend })).toEqual({ ok: true });
  });

  it('seals on Windows and macOS when encryption is available', () => {
    expect(secretSealingFor({ platform: 'win32', encryptionAvailable: true, backend: null })).toEqual({ ok: true });
    expect(secretSealingFor({ platform: 'darwin', encryptionAvailable: true, backend: null })).toEqual({ ok: true });
  });

  it("refuses Linux's basic_text (a fixed key) and tells the admin what to do", () => {
    const s = secretSealingFor({ platform: 'linux', encryptionAvailable: true, backend: 'basic_text' });
    expect(s).toMatchObject({ ok: false, existing: 'sealed' });
    if (s.ok) return;
    expect(s.problem).toContain('Credentials cannot be saved on this station');
    expect(s.problem).toContain('GNOME Keyring or KWallet');
    expect(s.log).toContain('basic_text');
  });

  it('refuses a backend Electron could not name', () => {
    expect(secretSealingFor({ platform: 'linux', encryptionAvailable: true, backend: 'unknown' })).toMatchObject({ ok: false });
  });

  it('refuses to keep credentials in clear when encryption is unavailable', () => {
    expect(secretSealingFor({ platform: 'linux', encryptionAvailable: false, backend: 'basic_text' })).toMatchObject({
      ok: false,
      existing: 'plain',
    });
    expect(secretSealingFor({ platform: 'darwin', encryptionAvailable: false, backend: null })).toMatchObject({ ok: false, existing: 'plain' });
  });
});

/** safeStorage stand-in: reversible, and visibly not the plain text. */
const fakeSafeStorage: Encryptor = {
  encryptString: (s) => Buffer.from(`sealed:${s}`),
  decryptString: (b) => b.toString().replace(/^sealed:/, ''),
};

describe('the secret store under each sealing decision', () => {
  it('with a keyring, values are written sealed', () => {
    const file = path.join(tempDir(), 'secrets.json');
    new FileSecretStore(file, sealerFor({ ok: true }, fakeSafeStorage)).set('erp.DD.password', 'hunter2');
    expect(fs.readFileSync(file, 'utf8')).not.toContain('hunter2');
    expect(new FileSecretStore(file, sealerFor({ ok: true }, fakeSafeStorage)).get('erp.DD.password')).toBe('hunter2');
  });

  it('without one, saving is refused in words and nothing is written; values saved before still read and can be cleared', () => {
    const file = path.join(tempDir(), 'secrets.json');
    new FileSecretStore(file, sealerFor({ ok: true }, fakeSafeStorage)).set('erp.DD.password', 'old');
    const before = fs.readFileSync(file, 'utf8');
    const sealing = secretSealingFor({ platform: 'linux', encryptionAvailable: true, backend: 'basic_text' });
    const store = new FileSecretStore(file, sealerFor(sealing, fakeSafeStorage));

    expect(() => store.set('erp.DD.password', 'new')).toThrow(DomainError);
    expect(() => store.set('leaftrade.token', 'tok')).toThrow('Not saved: this station has no keyring to lock credentials away.');
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
    expect(store.refusal()).toContain('GNOME Keyring or KWallet');
    expect(store.get('erp.DD.password')).toBe('old');
    store.delete('erp.DD.password');
    expect(store.names()).toEqual([]);
  });

  it('without encryption at all, values saved in clear before are read as they are', () => {
    const file = path.join(tempDir(), 'secrets.json');
    new FileSecretStore(file).set('leaftrade.token', 'plain-token');
    const sealing = secretSealingFor({ platform: 'linux', encryptionAvailable: false, backend: 'basic_text' });
    expect(new FileSecretStore(file, sealerFor(sealing, fakeSafeStorage)).get('leaftrade.token')).toBe('plain-token');
  });
});

describe('Admin → Sync on a station without a keyring', () => {
  it('tells the admin why credentials cannot be saved, refuses a save, and audits nothing', async () => {
    const sealing = secretSealingFor({ platform: 'linux', encryptionAvailable: true, backend: 'basic_text' });
    const t = await withAdmin({ secrets: new FileSecretStore(path.join(tempDir(), 'secrets.json'), sealerFor(sealing, fakeSafeStorage)) });
    expect(await t.admin.ok('sync/credential-store', {})).toEqual({ problem: expect.stringContaining('GNOME Keyring or KWallet') });
    expect(await t.admin.call('sync/set-credential', { name: 'leaftrade.token', value: 'tok' })).toEqual({
      ok: false,
      error: {
        code: 'unavailable',
        message: 'Not saved: this station has no keyring to lock credentials away. Ask IT to set up GNOME Keyring or KWallet.',
      },
    });
    expect(await t.admin.ok('sync/credentials', {})).toContainEqual({ name: 'leaftrade.token', set: false });
    const audit = await t.admin.ok('audit/list', {});
    expect(audit.rows.map((r) => r.action)).not.toContain('sync.credential_set');
  });

  it('reports no problem where credentials are sealed', async () => {
    const t = await withAdmin();
    expect(await t.admin.ok('sync/credential-store', {})).toEqual({ problem: null });
  });

  it('is for admins only', async () => {
    const t = await withAdmin();
    const biller = await t.signedIn('biller');
    expect(await biller.call('sync/credential-store', {})).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });
});

describe('electron-builder fuses', () => {
  const build = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { build: Record<string, unknown> }).build;

  it('turns off Node entry points and keeps the app inside its checked asar', () => {
    expect(build.asar).toBe(true);
    expect(build.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableCookieEncryption: true,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
    });
  });

  it('keeps file:// privileges while the window loads its page from file://', () => {
    // The built page loads its module script over file:// (src/main/index.ts); that fuse off would
    // stop it loading until the page is served from a custom protocol instead.
    expect((build.electronFuses as Record<string, unknown> | undefined)?.grantFileProtocolExtraPrivileges).not.toBe(false);
  });

  it("passes electron-builder's own configuration schema", async () => {
    const require = createRequire(import.meta.url);
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
      validateConfiguration(config: unknown, logger: unknown): Promise<void>;
    };
    const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
    await expect(validateConfiguration(build, new DebugLogger(false))).resolves.toBeUndefined();
  });
});

describe('the Electron shell wiring', () => {
  // The Electron binary cannot run here, so this reads the shell: each decision above must reach Electron.
  const shell = fs.readFileSync(path.join(root, 'src/main/index.ts'), 'utf8');
  it.each([
    ['the menu goes in kiosk and packaged apps', "if (policy.menu === 'none') Menu.setApplicationMenu(null);"],
    ['DevTools follow the policy', 'devTools: policy.devTools,'],
    ['the page URL comes from the policy', 'const appUrl = policy.devServerUrl ?? '],
    ['keys are filtered', "contents.on('before-input-event', (e, input) => {"],
    ['permission checks are denied', 'ses.setPermissionCheckHandler((_wc, permission) => grantsPermission(permission));'],
    ['device permissions are denied', 'ses.setDevicePermissionHandler((details) => grantsDevice(details.deviceType));'],
    ['the secret store follows the sealing decision', 'sealerFor(sealing, safeStorage)'],
  ])('%s', (_what, line) => {
    expect(shell).toContain(line);
  });

  it('reads ELECTRON_RENDERER_URL only through the policy', () => {
    expect(shell).not.toContain('ELECTRON_RENDERER_URL');
  });
});
