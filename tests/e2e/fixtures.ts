import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test as base, expect, type Locator, type Page } from '@playwright/test';
import { Secret, TOTP } from 'otpauth';
import type { Envelope } from '../../src/shared/envelope';
import type { SecondFactorEnrolled, SecondFactorEnrolment, SessionInfo } from '../../src/shared/contract';
import { layoutProblems } from './layout-check';

export const HOST_ENTRY = path.resolve('out/main/host.js');
export const SCREENSHOT_DIR = path.resolve('screenshots');

/** The browser host as a real process: started, killed (SIGKILL) and restarted on the same data. */
export class StationProcess {
  url = '';
  #child: ChildProcess | null = null;
  #output = '';

  constructor(
    readonly dataDir: string,
    readonly extraArgs: string[] = [],
  ) {}

  async start(port = 0): Promise<string> {
    if (!fs.existsSync(HOST_ENTRY)) throw new Error('out/main/host.js is missing: run `npm run build` before the e2e suite');
    const child = spawn(process.execPath, [HOST_ENTRY, '--data-dir', this.dataDir, '--port', String(port), '--quiet', ...this.extraArgs], {
      env: { ...process.env, DOCKSIDE_TEST: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    this.url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`host did not start:\n${this.#output}`)), 20_000);
      const onData = (chunk: Buffer) => {
        this.#output += chunk.toString();
        const m = /DOCKSIDE_HOST_READY (\S+)/.exec(this.#output);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`host exited with ${code}:\n${this.#output}`)));
    });
    return this.url;
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  /** Like a power cut or a crash: no shutdown handlers run. */
  async kill(): Promise<void> {
    const child = this.#child;
    // A process ended by a signal has exitCode null and signalCode set: both mean "already gone".
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start(this.port);
  }
}

interface Fixtures {
  /** Extra host flags, e.g. ['--demo'] for the seeded demo users and bags. */
  stationArgs: string[];
  /** Console errors a test provokes on purpose (a transport made to throw); any other fails it. */
  expectedConsoleErrors: RegExp[];
  station: StationProcess;
  /** Fails the test on any console error or uncaught page error (CSP violations included). */
  consoleGuard: void;
}

export const test = base.extend<Fixtures>({
  stationArgs: [[], { option: true }],
  expectedConsoleErrors: [[], { option: true }],
  station: async ({ stationArgs }, use) => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dockside-e2e-'));
    const station = new StationProcess(dataDir, stationArgs);
    await station.start();
    await use(station);
    await station.kill();
    fs.rmSync(dataDir, { recursive: true, force: true });
  },
  consoleGuard: [
    async ({ page, expectedConsoleErrors }, use) => {
      const problems: string[] = [];
      // The browser logs failed WebSocket connects while a killed host is restarting; expected there.
      const expected = [/WebSocket connection to .* failed/, ...expectedConsoleErrors];
      page.on('console', (m) => {
        if (m.type() === 'error' && !expected.some((re) => re.test(m.text()))) problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));
      await use();
      expect(problems, 'console errors in the page').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
}

/**
 * Screenshots (`name-1366x768`, `name-1920x1080`) and the layout check at both sizes, `show`
 * scrolled into view for the pictures; with `readable`, also every text a person a metre away
 * could not read (unreadableText). Leaves the page at 1366×768.
 */
export async function atBothSizes(page: Page, name: string, { show, readable = false }: { show?: Locator; readable?: boolean } = {}): Promise<void> {
  for (const [width, height] of [
    [1366, 768],
    [1920, 1080],
  ] as const) {
    await page.setViewportSize({ width, height });
    await page.evaluate(() => document.fonts.ready);
    if (show) await show.scrollIntoViewIfNeeded();
    await screenshot(page, `${name}-${width}x${height}`);
    expect(await layoutProblems(page), `${name} at ${width}x${height}`).toEqual([]);
    if (readable) expect(await unreadableText(page), `text of ${name} at ${width}x${height}`).toEqual([]);
  }
  await page.setViewportSize({ width: 1366, height: 768 });
}

/**
 * Signs in through the screen. An admin also gives the second factor as a person would: the first
 * time the phone is set up from the key on the screen (and the recovery codes acknowledged), later
 * the phone's code is typed. Wrong passwords and other roles stop at the first step.
 */
export async function signIn(page: Page, username: string, secret: string): Promise<void> {
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Password or PIN').fill(secret);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // The answer is in once the button no longer says it is signing in (the screen may be gone with it).
  await expect(page.getByRole('button', { name: 'Signing in…' })).toHaveCount(0);
  await passSecondFactor(page, username);
}

const TOTP_PERIOD_MS = 30_000;

/** What each admin's phone holds, by station and user name: the secret, and the last time step it was used for. */
const phones = new Map<string, { secret: string; lastStep: number | null }>();
const phoneKey = (stationUrl: string, username: string) => `${new URL(stationUrl).origin} ${username}`;

/** The station's clock (test host: POST /__test/clock, which also moves it on by `advanceMs`). */
async function stationNow(stationUrl: string, advanceMs = 0): Promise<number> {
  const origin = new URL(stationUrl).origin;
  const res = await fetch(`${origin}/__test/clock`, { method: 'POST', headers: { origin }, body: JSON.stringify({ ms: advanceMs }) });
  if (!res.ok) throw new Error(`clock control: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { now: number }).now;
}

/** A phone set up with this key (as the enrolment screen shows it, spaces and all). */
export function setUpPhone(stationUrl: string, username: string, key: string): void {
  phones.set(phoneKey(stationUrl, username), { secret: key.replace(/\s/g, ''), lastStep: null });
}

/**
 * The code `username`'s phone shows, computed with otpauth on the station's clock. A time step is
 * taken once, so when this phone's last code was for the current step the clock moves on first.
 */
export async function phoneCode(stationUrl: string, username: string): Promise<string> {
  const phone = phones.get(phoneKey(stationUrl, username));
  if (!phone) throw new Error(`no phone set up for ${username} on ${stationUrl}`);
  let now = await stationNow(stationUrl);
  const step = Math.floor(now / TOTP_PERIOD_MS);
  if (phone.lastStep !== null && phone.lastStep >= step) now = await stationNow(stationUrl, (phone.lastStep - step + 1) * TOTP_PERIOD_MS);
  phone.lastStep = Math.floor(now / TOTP_PERIOD_MS);
  const totp = new TOTP({ issuer: 'Dockside', algorithm: 'SHA1', digits: 6, period: TOTP_PERIOD_MS / 1000, secret: Secret.fromBase32(phone.secret) });
  return totp.generate({ timestamp: phone.lastStep * TOTP_PERIOD_MS });
}

/**
 * After a right password: an admin's second step, done as a person does it. Returns the recovery
 * codes when the phone was set up now; anyone else passes through.
 */
export async function passSecondFactor(page: Page, username: string): Promise<string[] | null> {
  const setUp = page.getByRole('heading', { name: /^Set up your (new )?phone$/ });
  const enterCode = page.getByRole('heading', { name: 'Enter your code' });
  if (await setUp.isVisible()) {
    const key = page.getByTestId('totp-secret');
    await expect(key).toHaveText(/[A-Z2-7]{4}/);
    setUpPhone(page.url(), username, (await key.textContent()) ?? '');
    await page.getByLabel('6-digit code').fill(await phoneCode(page.url(), username));
    await page.getByRole('button', { name: 'Confirm and sign in' }).click();
    await expect(page.getByRole('heading', { name: 'Save your recovery codes' })).toBeVisible();
    const codes = await page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').allTextContents();
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await expect(page.getByRole('navigation', { name: 'Screens' })).toBeVisible();
    return codes;
  }
  if (await enterCode.isVisible()) {
    await page.getByLabel('6-digit code').fill(await phoneCode(page.url(), username));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('navigation', { name: 'Screens' })).toBeVisible();
  }
  return null;
}

type Invoke = (channel: string, payload: unknown) => Promise<Envelope<unknown>>;

/** Signs a raw transport client in (a test talking to the host's WebSocket); an admin's phone as in `signIn`. */
export async function signInOverTransport(invoke: Invoke, stationUrl: string, username: string, secret: string): Promise<SessionInfo> {
  const value = <T>(r: Envelope<unknown>): T => {
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
    return r.value as T;
  };
  const info = value<SessionInfo>(await invoke('auth/login', { username, secret }));
  if (info.secondFactor?.stage === 'enrol') {
    setUpPhone(stationUrl, username, value<SecondFactorEnrolment>(await invoke('auth/second-factor/enrolment', {})).secret);
    return value<SecondFactorEnrolled>(await invoke('auth/second-factor/enrol', { code: await phoneCode(stationUrl, username) })).session;
  }
  if (info.secondFactor?.stage === 'verify')
    return value<SessionInfo>(await invoke('auth/second-factor', { code: await phoneCode(stationUrl, username) }));
  return info;
}

export async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
}

/** First-run setup through the screen a person sees; leaves the admin signed in. */
export async function setUpFirstAdmin(page: Page, username = 'chief', password = 'warehouse-admin-1'): Promise<void> {
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Full name').fill('Chief');
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Repeat password').fill(password);
  await page.getByRole('button', { name: 'Create admin and sign in' }).click();
  await expect(page.getByRole('button', { name: 'Creating…' })).toHaveCount(0);
  await passSecondFactor(page, username);
  await expect(page.getByRole('navigation', { name: 'Screens' })).toBeVisible();
}

/** Admin → People → Add person, as an admin would; waits for the new row. */
export async function addPerson(
  page: Page,
  p: { username: string; displayName: string; role?: 'admin' | 'biller' | 'dispatcher'; password?: string; pin?: string },
): Promise<void> {
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: /Admin/ }).click();
  await page.getByRole('button', { name: 'Add person' }).click();
  const form = page.getByRole('form', { name: 'Add person' });
  await form.getByLabel('User name').fill(p.username);
  await form.getByLabel('Full name').fill(p.displayName);
  if (p.role) await form.getByLabel('Role').selectOption(p.role);
  if (p.password) await form.getByLabel('Password').fill(p.password);
  if (p.pin) await form.getByLabel('PIN').fill(p.pin);
  await form.getByRole('button', { name: 'Create person' }).click();
  await expect(page.locator(`tr[data-username="${p.username}"]`)).toBeVisible();
}

/**
 * What a keyboard-wedge scanner does: the id as fast keystrokes, then Enter. The key events go to
 * Chromium all at once, as a scanner's do, rather than one round trip each: on a loaded machine
 * those round trips open gaps wider than the 45 ms that tell a scan from typing.
 */
export async function wedgeScan(page: Page, code: string): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  const keys = [...code].map((ch) => ({ key: ch, text: ch })).concat({ key: 'Enter', text: '\r' });
  // Each key carries the time a scanner would have sent it (8 ms apart), as the OS stamps a real
  // device's keys on arrival: a loaded machine may handle them late, but their timing is the
  // scanner's, so the wedge detector's verdict does not depend on how busy the test machine is.
  const start = Date.now() / 1000;
  await Promise.all(
    keys.flatMap(({ key, text }, i) => {
      const timestamp = start + i * 0.008;
      const enter = key === 'Enter' ? { code: 'Enter', windowsVirtualKeyCode: 13 } : {};
      return [
        cdp.send('Input.dispatchKeyEvent', { type: 'keyDown', key, text, timestamp, ...enter }),
        cdp.send('Input.dispatchKeyEvent', { type: 'keyUp', key, timestamp: timestamp + 0.002, ...enter }),
      ];
    }),
  );
  await cdp.detach();
}

/** POSTs a command to the test host's controls (/__test/…), from the host's own origin as they require. */
export function testControlPost(station: StationProcess, path: string, body: unknown): Promise<Response> {
  return fetch(`${station.url}${path}`, { method: 'POST', headers: { origin: station.url }, body: JSON.stringify(body) });
}

/** Drives the test host's simulated USB bus (host started with --hid-sim). */
export async function hid(station: StationProcess, command: Record<string, unknown>): Promise<{ delivered: number }> {
  const res = await testControlPost(station, '/__test/hid', command);
  if (!res.ok) throw new Error(`hid control: ${res.status} ${await res.text()}`);
  return (await res.json()) as { delivered: number };
}

/** A Honeywell scanner on the simulated bus (host started with --hid-sim). */
export const SIM_SCANNER = {
  path: '/sim/hidraw0',
  vendorId: 0x0c2e,
  productId: 0x0b87,
  product: 'Voyager 1250g',
  usagePage: 1,
  usage: 6,
  serialNumber: 'V1',
};

/** Plugs SIM_SCANNER in and pairs it from Admin → Scanners (an admin signed in); it is then "Voyager 1250g 1". */
export async function pairSimulatedScanner(page: Page, station: StationProcess): Promise<void> {
  await hid(station, { action: 'plug', device: SIM_SCANNER });
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: /Admin/ }).click();
  await page.getByRole('tab', { name: 'Scanners' }).click();
  await page.getByRole('button', { name: 'Pair a scanner' }).click();
  const code = (await page.getByTestId('pairing-code').textContent())!.trim();
  await hid(station, { action: 'type', path: SIM_SCANNER.path, text: code });
  await expect(page.getByRole('status')).toHaveText('Paired Voyager 1250g 1');
}

/** Test host only (DOCKSIDE_TEST=1): the next `count` calls of `channel` fail inside main as a broken database would. */
export async function failNext(station: StationProcess, channel: string, count = 1): Promise<void> {
  const res = await testControlPost(station, '/__test/fail', { channel, count });
  if (!res.ok) throw new Error(`fail control: ${res.status} ${await res.text()}`);
}

/** Test host only: moves the station's clock forward (POST /__test/clock); the idle lock sees the time pass at once. */
export async function advanceClock(station: StationProcess, ms: number): Promise<void> {
  const res = await testControlPost(station, '/__test/clock', { ms });
  if (!res.ok) throw new Error(`clock control: ${res.status} ${await res.text()}`);
}

/** Stops the station's clock (it then moves only by advanceClock), or lets it run again. */
export async function stopClock(station: StationProcess, stopped = true): Promise<void> {
  const res = await testControlPost(station, '/__test/clock', { stopped });
  if (!res.ok) throw new Error(`clock control: ${res.status} ${await res.text()}`);
}

/** Locks every signed-in window as the idle timer would: the clock moves past the longest idle time there is (240 minutes). */
export async function lockNow(station: StationProcess): Promise<void> {
  await advanceClock(station, 241 * 60_000);
}

/**
 * Readable from a metre away: text at least `minFontPx` and a WCAG contrast ratio of at least
 * `minContrast` against the nearest background colour behind it (7 is WCAG's AAA for body text).
 */
export async function expectReadable(locator: Locator, { minFontPx = 20, minContrast = 7 } = {}): Promise<void> {
  const { fontPx, contrast } = await locator.evaluate((el) => {
    const rgb = (css: string) => (css.match(/[\d.]+/g) ?? []).map(Number);
    const luminance = ([r, g, b]: number[]) =>
      [r, g, b]
        .map((v) => v / 255)
        .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
        .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
    let back: Element | null = el;
    while (back && (rgb(getComputedStyle(back).backgroundColor)[3] ?? 1) === 0) back = back.parentElement;
    const bg = back ? rgb(getComputedStyle(back).backgroundColor) : [255, 255, 255];
    const style = getComputedStyle(el);
    const [hi, lo] = [luminance(rgb(style.color)), luminance(bg)].sort((a, b) => b - a);
    return { fontPx: parseFloat(style.fontSize), contrast: (hi + 0.05) / (lo + 0.05) };
  });
  expect(fontPx, 'font size in px').toBeGreaterThanOrEqual(minFontPx);
  expect(contrast, 'contrast ratio').toBeGreaterThanOrEqual(minContrast);
}

/**
 * What a person a metre away cannot read, on the whole page as it is: text under `minFontPx`,
 * text under 7:1 contrast against the colour behind it, words wrapped into a column of single
 * letters, and panels wider than they show. Each problem names the element.
 */
export async function unreadableText(page: Page, { minFontPx = 18, minContrast = 7 } = {}): Promise<string[]> {
  return page.evaluate(
    ({ minFontPx, minContrast }) => {
      const rgba = (css: string) => (css.match(/[\d.]+/g) ?? []).map(Number);
      const luminance = ([r, g, b]: number[]) =>
        [r, g, b]
          .map((v) => v / 255)
          .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
          .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
      const backgroundOf = (el: Element | null): number[] | null => {
        for (; el; el = el.parentElement) {
          const style = getComputedStyle(el);
          if (style.backgroundImage !== 'none') return null; // a gradient: judged by eye, not here
          const bg = rgba(style.backgroundColor);
          if ((bg[3] ?? 1) > 0) return bg;
        }
        return [255, 255, 255];
      };
      const problems: string[] = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const text = (node.textContent ?? '').trim();
        const el = node.parentElement;
        if (!text || !el || el.closest('.sr-only, svg, option')) continue;
        const rects = [
          ...(() => {
            const r = document.createRange();
            r.selectNodeContents(node);
            return r.getClientRects();
          })(),
        ].filter((r) => r.width > 0);
        if (rects.length === 0) continue; // not on screen
        const style = getComputedStyle(el);
        const name = `<${el.tagName.toLowerCase()}${el.className ? ` class="${el.className}"` : ''}> "${text.slice(0, 40)}"`;
        const fontPx = parseFloat(style.fontSize);
        if (fontPx < minFontPx) problems.push(`${name}: ${fontPx}px text`);
        const bg = backgroundOf(el);
        if (bg && !el.closest(':disabled')) {
          const [hi, lo] = [luminance(rgba(style.color)), luminance(bg)].sort((a, b) => b - a);
          const contrast = (hi + 0.05) / (lo + 0.05);
          if (contrast < minContrast) problems.push(`${name}: contrast ${contrast.toFixed(2)}:1`);
        }
        const lines = new Set(rects.map((r) => Math.round(r.top))).size;
        if (lines >= 3 && text.replace(/\s/g, '').length / lines < 3) problems.push(`${name}: wrapped into ${lines} lines of a letter or two`);
      }
      // A panel that needs sideways scrolling hides its last column (a Remove button) off screen.
      for (const el of document.querySelectorAll('body *')) {
        const style = getComputedStyle(el);
        const clips = ['auto', 'scroll', 'hidden'].includes(style.overflowX) || el === document.scrollingElement;
        if (clips && !el.matches('.sr-only') && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) {
          problems.push(`<${el.tagName.toLowerCase()} class="${el.className}">: ${el.scrollWidth - el.clientWidth}px wider than it shows`);
        }
      }
      return problems;
    },
    { minFontPx, minContrast },
  );
}

/**
 * Calls channels over a new WebSocket of the page's own origin, as a hostile renderer could: each
 * call in order, answered with its envelope. Sign in with an `auth/login` call first.
 */
export async function callOverSocket(page: Page, calls: [channel: string, payload: unknown][]): Promise<unknown[]> {
  return page.evaluate(async (calls) => {
    const ws = new WebSocket(`ws://${location.host}/ipc`);
    await new Promise((r) => (ws.onopen = r));
    let id = 0;
    const call = (channel: string, payload: unknown) =>
      new Promise<unknown>((resolve) => {
        const myId = ++id;
        const onMessage = (m: MessageEvent) => {
          const f = JSON.parse(String(m.data)) as { id?: number; envelope?: unknown };
          if (f.id === myId) {
            ws.removeEventListener('message', onMessage);
            resolve(f.envelope);
          }
        };
        ws.addEventListener('message', onMessage);
        ws.send(JSON.stringify({ t: 'invoke', id: myId, channel, payload }));
      });
    const answers: unknown[] = [];
    for (const [channel, payload] of calls) answers.push(await call(channel, payload));
    ws.close();
    return answers;
  }, calls);
}
