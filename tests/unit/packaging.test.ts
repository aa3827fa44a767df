import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.join(import.meta.dirname, '../..');
interface BuildConfig {
  productName: string;
  artifactName: string;
  publish: unknown;
  win: { target: string[] };
  nsis: Record<string, unknown>;
  linux: { target: string[]; executableName: string; extraResources: { from: string; to: string }[] };
  deb: { afterInstall: string; afterRemove: string };
}
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; build: BuildConfig };
const build = pkg.build;
const require = createRequire(import.meta.url);

/**
 * The deb scripts as electron-builder writes them into the package: it replaces each
 * dollar-brace macro with its value and refuses an unknown one (FpmTarget's writeConfigFile,
 * which electron-builder does not export, so its two lines are repeated here).
 */
function render(template: string): string {
  const values: Record<string, string> = {
    executable: build.linux.executableName,
    sanitizedProductName: build.productName,
    productFilename: build.productName,
  };
  return fs.readFileSync(path.join(ROOT, template), 'utf8').replace(/\${([a-zA-Z]+)}/g, (_m, name: string) => {
    if (!(name in values)) throw new Error(`Macro ${name} is not defined`);
    return values[name];
  });
}

const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'dockside-deb-'));
afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

function script(template: string): string {
  const file = path.join(temp, path.basename(template, '.tpl') + '.sh');
  fs.writeFileSync(file, render(template));
  return file;
}

/** A staging root holding what the package puts under /opt. */
function stagedRoot(): string {
  const root = fs.mkdtempSync(path.join(temp, 'root-'));
  const app = path.join(root, 'opt', build.productName);
  fs.mkdirSync(path.join(app, 'resources', 'linux'), { recursive: true });
  for (const r of build.linux.extraResources) fs.copyFileSync(path.join(ROOT, r.from), path.join(app, 'resources', r.to));
  fs.writeFileSync(path.join(app, 'chrome-sandbox'), '', { mode: 0o600 });
  return root;
}

const run = (file: string, root: string, ...args: string[]) =>
  spawnSync('bash', [file, ...args], { env: { ...process.env, DOCKSIDE_DESTDIR: root }, encoding: 'utf8' });

describe('electron-builder configuration (package.json build)', () => {
  it('passes electron-builder’s own schema', async () => {
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
      validateConfiguration: (c: unknown, l: unknown) => Promise<void>;
    };
    const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
    await expect(validateConfiguration(build, new DebugLogger(false))).resolves.toBeUndefined();
  });

  it('Windows: an NSIS installer for all users of the machine', () => {
    expect(build.win.target).toEqual(['nsis']);
    expect(build.nsis).toMatchObject({ perMachine: true, oneClick: false, allowToChangeInstallationDirectory: false });
  });

  it('Linux: AppImage and deb, the deb with Dockside’s install and remove scripts and the scanner rule', () => {
    expect(build.linux.target).toEqual(['AppImage', 'deb']);
    expect(fs.existsSync(path.join(ROOT, build.deb.afterInstall))).toBe(true);
    expect(fs.existsSync(path.join(ROOT, build.deb.afterRemove))).toBe(true);
    expect(build.linux.extraResources).toContainEqual({ from: 'build/70-dockside-scanners.rules', to: 'linux/70-dockside-scanners.rules' });
  });

  it('artifact names carry version and channel', () => {
    expect(build.artifactName).toContain('${version}');
    expect(build.artifactName).toContain('${channel}');
    expect(build.artifactName).toContain('${arch}');
  });

  it('publishes a generic update feed (the station’s address comes from provisioning at run time)', () => {
    expect(build.publish).toEqual([{ provider: 'generic', url: expect.stringMatching(/^https:\/\/[^/]+\.invalid\//) }]);
  });
});

describe('deb scripts', () => {
  it('render with electron-builder’s macros only and are valid bash', () => {
    for (const t of [build.deb.afterInstall, build.deb.afterRemove]) {
      const file = script(t);
      expect(() => execFileSync('bash', ['-n', file])).not.toThrow();
      expect(fs.readFileSync(file, 'utf8')).not.toMatch(/\${/);
    }
  });

  it('after install: the udev rule, the kiosk menu entry and the command, into the staging root', () => {
    const root = stagedRoot();
    const r = run(script(build.deb.afterInstall), root, 'configure');
    expect(r.status).toBe(0);
    expect(fs.readFileSync(path.join(root, 'etc/udev/rules.d/70-dockside-scanners.rules'), 'utf8')).toBe(
      fs.readFileSync(path.join(ROOT, 'build/70-dockside-scanners.rules'), 'utf8'),
    );
    const entry = fs.readFileSync(path.join(root, 'usr/share/applications/dockside-kiosk.desktop'), 'utf8');
    expect(entry).toContain('[Desktop Entry]');
    expect(entry).toContain('Exec="/opt/Dockside/dockside" --kiosk');
    expect(entry).toContain('Type=Application');
    expect(fs.readlinkSync(path.join(root, 'usr/bin/dockside'))).toBe('/opt/Dockside/dockside');
    expect(fs.statSync(path.join(root, 'opt/Dockside/chrome-sandbox')).mode & 0o7777).toBe(0o755);
  });

  it('after remove: an upgrade keeps the rule and the entry; remove takes them away', () => {
    const root = stagedRoot();
    expect(run(script(build.deb.afterInstall), root, 'configure').status).toBe(0);
    const rule = path.join(root, 'etc/udev/rules.d/70-dockside-scanners.rules');
    const entry = path.join(root, 'usr/share/applications/dockside-kiosk.desktop');
    expect(run(script(build.deb.afterRemove), root, 'upgrade', '0.2.0').status).toBe(0);
    expect([fs.existsSync(rule), fs.existsSync(entry)]).toEqual([true, true]);
    expect(run(script(build.deb.afterRemove), root, 'remove').status).toBe(0);
    expect([fs.existsSync(rule), fs.existsSync(entry), fs.existsSync(path.join(root, 'usr/bin/dockside'))]).toEqual([false, false, false]);
  });
});
