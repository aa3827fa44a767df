/**
 * The Electron shell's decisions as pure functions, so each one is unit-tested without Electron;
 * src/main/index.ts only hands them to Electron's API.
 */

export interface ShellPolicy {
  kiosk: boolean;
  /**
   * 'none' removes the application menu, and its accelerators with it (Ctrl+Shift+I, Ctrl+R,
   * Ctrl+W, F11). Electron's default menu is a developer's: DevTools, reload, and Help items that
   * open electronjs.org in a browser — a way out of a kiosk.
   */
  menu: 'none' | 'default';
  /** DevTools can be opened at all (webPreferences.devTools). */
  devTools: boolean;
  /** electron-vite's dev server to load instead of the packaged page, or null. */
  devServerUrl: string | null;
  /** What the environment asked for and was refused, for one log line each. */
  refused: string[];
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** A dev server is only ever on this machine, over http. */
function isLoopbackHttpUrl(candidate: string): boolean {
  try {
    const u = new URL(candidate);
    return (u.protocol === 'http:' || u.protocol === 'https:') && LOOPBACK_HOSTS.has(u.hostname);
  } catch {
    return false;
  }
}

export function shellPolicy(opts: { packaged: boolean; kiosk: boolean; env: Readonly<Record<string, string | undefined>> }): ShellPolicy {
  const refused: string[] = [];
  const asked = opts.env.ELECTRON_RENDERER_URL;
  let devServerUrl: string | null = null;
  if (asked) {
    // A packaged station shows only the page inside its own package: an environment variable must
    // not be able to point the window (and its IPC bridge) at another page.
    if (opts.packaged) refused.push('ELECTRON_RENDERER_URL is ignored in a packaged app');
    else if (!isLoopbackHttpUrl(asked)) refused.push('ELECTRON_RENDERER_URL must be an http URL on this machine (localhost)');
    else devServerUrl = asked;
  }
  return {
    kiosk: opts.kiosk,
    menu: opts.packaged || opts.kiosk ? 'none' : 'default',
    devTools: !opts.packaged,
    devServerUrl,
    refused,
  };
}

/** The part of Electron's `Input` (before-input-event) the decision reads. */
export interface KeyInput {
  key: string;
  control: boolean;
  meta: boolean;
  shift: boolean;
  alt: boolean;
}

/**
 * Whether a key press may reach the page (false: the shell calls preventDefault). In kiosk, the
 * keys that would close, quit, reload or leave full screen are stopped even without a menu, in
 * case a later change brings one back. F5 stays: it is the app's own key for the Verify screen
 * (src/renderer/src/lib/navigation.ts), and Electron has no F5 reload without a menu.
 */
export function keyboardShortcutAllowed(input: KeyInput, policy: Pick<ShellPolicy, 'kiosk' | 'devTools'>): boolean {
  const key = input.key.toLowerCase();
  const mod = input.control || input.meta;
  const devToolsKey = key === 'f12' || (mod && (input.shift || input.alt) && (key === 'i' || key === 'j' || key === 'c'));
  if (devToolsKey && (policy.kiosk || !policy.devTools)) return false;
  if (!policy.kiosk) return true;
  if (key === 'f11') return false;
  if (mod && (key === 'w' || key === 'q' || key === 'r' || key === 'f4')) return false;
  return true;
}

/**
 * Browser permissions (camera, microphone, notifications, clipboard reads, geolocation, WebHID,
 * WebUSB, serial…): the page needs none. Sounds need no permission, and scanners are read by main
 * through node-hid, never by the page. Used for both permission requests and permission checks.
 */
export function grantsPermission(_permission: string): boolean {
  return false;
}

/** Devices the page could be given (HID, USB, serial, Bluetooth): none, for the same reason. */
export function grantsDevice(_deviceType: string): boolean {
  return false;
}

/**
 * How upstream credentials may be kept, given what Electron's safeStorage offers. On Linux,
 * safeStorage falls back to `basic_text` when the desktop has no keyring: every Chromium uses
 * the same fixed key there, so that is clear text with extra steps.
 */
export type SecretSealing =
  | { ok: true }
  | {
      ok: false;
      /** For the admin, on Admin → Sync. */
      problem: string;
      /** The answer to saving a credential. */
      notSaved: string;
      /** For the log. */
      log: string;
      /** How values saved before are read: sealed with the same (weak) key, or as they are. */
      existing: 'sealed' | 'plain';
    };

export function secretSealingFor(opts: { platform: string; encryptionAvailable: boolean; backend: string | null }): SecretSealing {
  const linux = opts.platform === 'linux';
  const words = linux
    ? {
        problem:
          "Credentials cannot be saved on this station: it has no keyring (GNOME Keyring or KWallet) to lock them away. Ask IT to set one up for the station's user, then restart Dockside. Credentials saved before keep working until you clear them.",
        notSaved: 'Not saved: this station has no keyring to lock credentials away. Ask IT to set up GNOME Keyring or KWallet.',
      }
    : {
        problem:
          "Credentials cannot be saved on this station: the system's keychain cannot be used to lock them away. Ask IT to check it, then restart Dockside. Credentials saved before keep working until you clear them.",
        notSaved: "Not saved: this station cannot use the system's keychain to lock credentials away. Ask IT to check it.",
      };
  if (!opts.encryptionAvailable) {
    return { ok: false, ...words, log: 'safeStorage encryption is not available: upstream credentials will not be saved', existing: 'plain' };
  }
  if (linux && (opts.backend === 'basic_text' || opts.backend === 'unknown' || opts.backend === null)) {
    return {
      ok: false,
      ...words,
      log: `safeStorage backend is ${opts.backend ?? 'not reported'} (a fixed key, not a keyring): upstream credentials will not be saved`,
      existing: 'sealed',
    };
  }
  return { ok: true };
}
