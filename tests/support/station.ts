import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStation, type Station, type StationConfig } from '../../src/main/app/station';
import { startBrowserHost, type BrowserHost } from '../../src/main/host/server';
import { silentLogger } from '../../src/main/platform/logger';
import type { Session } from '../../src/main/auth/sessions';
import type { EventMap, EventName } from '../../src/shared/events';
import type { ChannelName, RequestOf, ResponseOf, SessionInfo } from '../../src/shared/contract';
import type { Envelope } from '../../src/shared/envelope';
import { onRelease } from './cleanup';
import { Inbox } from './inbox';
import { passSecondFactor } from './second-factor';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../src/main/db/migrations', import.meta.url));

/** Cheap scrypt for tests; production keeps DEFAULT_KDF. */
export const TEST_KDF = { log2N: 10, r: 8, p: 1 };

export class ManualClock {
  constructor(public t = Date.UTC(2026, 10, 25, 8, 0, 0)) {}
  now = () => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/** A fresh folder under the OS temp dir, deleted after the test (see cleanup.ts). */
export function tempDir(prefix = 'dockside-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  onRelease(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface TestStation {
  station: Station;
  clock: ManualClock;
  dataDir: string;
  /**
   * Every wait an upstream client asked for between retries (Retry-After, backoff), in ms. The
   * station's `sleep` records it here and moves the clock instead of waiting.
   */
  waits: number[];
  /** A window: its own session, with the events it received. */
  window(peer?: string): TestWindow;
  /** Closes the station once; later calls (and the cleanup after the test) wait for the same close. */
  close(): Promise<void>;
}

export interface TestWindow {
  session: Session;
  events: { event: EventName; data: unknown }[];
  /** The first event, already received or still to come, that `match` accepts. */
  event(match: (e: { event: EventName; data: unknown }) => boolean): Promise<{ event: EventName; data: unknown }>;
  call<C extends ChannelName>(channel: C, payload: RequestOf<C>): Promise<Envelope<ResponseOf<C>>>;
  /** Sends anything, typed or not: for malformed-payload tests. */
  raw(channel: unknown, payload: unknown): Promise<Envelope<unknown>>;
  ok<C extends ChannelName>(channel: C, payload: RequestOf<C>): Promise<ResponseOf<C>>;
}

export async function makeStation(
  config: Partial<Omit<StationConfig, 'clock'>> & { dataDir?: string; clock?: ManualClock } = {},
): Promise<TestStation> {
  const clock = config.clock ?? new ManualClock();
  const dataDir = config.dataDir ?? tempDir();
  const waits: number[] = [];
  const sleep = async (ms: number) => {
    waits.push(ms);
    clock.advance(ms);
  };
  // backupCheckMs 0: no daily backup starts in the middle of a test; tests call health.backups.tick().
  const station = await createStation({
    migrationsDir: MIGRATIONS_DIR,
    kdf: TEST_KDF,
    clock,
    idleCheckMs: 0,
    backupCheckMs: 0,
    sleep,
    ...config,
    dataDir,
  });
  let closing: Promise<void> | null = null;
  const close = () => (closing ??= station.close());
  onRelease(close);
  let n = 0;
  return {
    station,
    clock,
    dataDir,
    waits,
    window(peer = `test ${++n}`) {
      const inbox = new Inbox<{ event: EventName; data: unknown }>();
      const session = station.openSession(peer, <E extends EventName>(event: E, data: EventMap[E]) => inbox.push({ event, data }));
      const raw = (channel: unknown, payload: unknown) => station.router.handle(session, channel, payload);
      const call = raw as TestWindow['call'];
      return {
        session,
        events: inbox.items,
        event: (match) => inbox.first(match),
        call,
        raw,
        async ok(channel, payload) {
          const r = await call(channel, payload);
          if (!r.ok) throw new Error(`${channel} failed: ${r.error.code} ${r.error.message}`);
          return r.value;
        },
      };
    },
    close,
  };
}

/** Signs a window in; an admin also gives the second factor (setting up the phone the first time). */
export async function signInAs(t: TestStation, w: TestWindow, username: string, secret: string): Promise<SessionInfo> {
  return (await passSecondFactor(t, w.raw, await w.ok('auth/login', { username, secret }))).session;
}

/**
 * A station with an admin signed in on one window (phone set up), and a helper to add and sign in
 * others. Stations of one site share people: give each its own `adminName` there.
 */
export async function withAdmin(config: Parameters<typeof makeStation>[0] = {}, adminName = 'boss') {
  const t = await makeStation(config);
  const admin = t.window('admin window');
  await passSecondFactor(t, admin.raw, await admin.ok('setup/create-admin', { username: adminName, displayName: 'Boss', password: 'correct horse' }));
  async function signedIn(role: 'admin' | 'biller' | 'dispatcher', username = `${role}1`) {
    await admin.ok('users/create', { username, displayName: username, role, password: 'password-123' });
    const w = t.window(`${username} window`);
    await signInAs(t, w, username, 'password-123');
    return w;
  }
  return { ...t, admin, signedIn };
}

/** The browser host over this station on a free port, with an empty renderer folder; closed after the test. */
export async function startTestHost(t: TestStation): Promise<BrowserHost> {
  const host = await startBrowserHost({ station: t.station, rendererDir: tempDir(), port: 0, logger: silentLogger });
  onRelease(() => host.close());
  return host;
}

/**
 * Every row of every table, for "nothing changed" assertions. Ordinary tables only: a full-text
 * index (virtual, and its shadow tables) is derived from one of them.
 */
export function snapshotDatabase(station: Station): string {
  const sqlite = station.database.sqlite;
  const tables = sqlite
    .prepare("select name from pragma_table_list where schema = 'main' and type = 'table' and name not like 'sqlite_%' order by name")
    .all() as {
    name: string;
  }[];
  return JSON.stringify(tables.map(({ name }) => [name, sqlite.prepare(`select * from "${name}" order by rowid`).all()]));
}
