import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { electronUpdaterDriver, rolloutBucket, STAGING_ID_FILE, type DriverEvent } from '../../src/main/updates/driver';
import { silentLogger } from '../../src/main/platform/logger';
import { UPDATE_SETTINGS_KEY, type UpdateSettings } from '../../src/shared/update-settings';
import type { UpdateStatus } from '../../src/shared/contract/updates';
import { nodeDebUpdater, release, startFeedServer } from '../support/update-feed';
import { tempDir, withAdmin } from '../support/station';

/**
 * The update feed as IT publishes it (a folder over HTTP with the channel files), read by
 * electron-updater's own DebUpdater under Node: feed parsing, the staged-rollout decision, the
 * channel, downgrade, the download and its sha512. The install itself (dpkg, NSIS, AppImage and
 * the restart) needs the packaged Electron app and is not run here.
 */

// electron-updater's Linux channel files: latest-linux.yml on x64, latest-linux-arm64.yml on arm64.
const SUFFIX = process.arch === 'x64' ? '-linux' : `-linux-${process.arch}`;
const LOW_ID = '6f1c2d3e-4a5b-4c6d-8e7f-00000ccccccc'; // 5 % into the rollout
const HIGH_ID = '6f1c2d3e-4a5b-4c6d-8e7f-0000e6666666'; // 90 % into the rollout

const servers: { close: () => Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function feed() {
  const f = await startFeedServer();
  servers.push(f);
  return f;
}

async function until<T>(what: string, read: () => T | undefined | null | false, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = read();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function driverOn(url: string, o: { version?: string; stagingId?: string; channel?: 'stable' | 'beta'; allowDowngrade?: boolean } = {}) {
  const dir = tempDir('dockside-updater-');
  const { updater } = nodeDebUpdater(o.version ?? '1.0.0', dir);
  const installs: string[] = [];
  const driver = electronUpdaterDriver(updater, {
    userDataPath: dir,
    stagingId: o.stagingId ?? LOW_ID,
    logger: silentLogger,
    install: async () => void installs.push('install'),
  });
  const events: DriverEvent[] = [];
  driver.onEvent((e) => events.push(e));
  driver.configure({ feedUrl: url, channel: o.channel ?? 'stable', allowDowngrade: o.allowDowngrade ?? false });
  const outcome = () =>
    until('the check to end', () => events.find((e) => e.type === 'downloaded' || e.type === 'not-available' || e.type === 'error'));
  return { driver, events, dir, installs, outcome };
}

describe('electron-updater on a generic feed, under Node', () => {
  it('reads latest-linux.yml, downloads the package and checks its sha512', async () => {
    const f = await feed();
    const r = release('1.1.0');
    f.files.set(`latest${SUFFIX}.yml`, r.yml);
    f.files.set(r.file, r.bytes);
    const d = driverOn(f.url);
    await d.driver.check();
    expect(await d.outcome()).toEqual({ type: 'downloaded', version: '1.1.0' });
    expect(d.events.map((e) => e.type)).toEqual(expect.arrayContaining(['checking', 'available', 'downloaded']));
    const cached = path.join(d.dir, 'cache', 'dockside-updater', 'pending', r.file);
    expect(fs.readFileSync(cached).equals(r.bytes)).toBe(true);
    expect(f.requests.map((q) => q.path)).toEqual([`latest${SUFFIX}.yml`, r.file]);
  });

  it("sends the station's id as the staged-rollout id, from the file electron-updater reads", async () => {
    const f = await feed();
    f.files.set(`latest${SUFFIX}.yml`, release('1.0.0').yml);
    const d = driverOn(f.url, { stagingId: HIGH_ID });
    await d.driver.check();
    await d.outcome();
    expect(fs.readFileSync(path.join(d.dir, STAGING_ID_FILE), 'utf8')).toBe(HIGH_ID);
    expect(f.requests[0].headers['x-user-staging-id']).toBe(HIGH_ID);
  });

  it('offers a release at stagingPercentage 10 to a station 5 % in and not to one 90 % in, every time', async () => {
    expect(rolloutBucket(LOW_ID)).toBeCloseTo(5, 1);
    expect(rolloutBucket(HIGH_ID)).toBeCloseTo(90, 1);
    const f = await feed();
    const r = release('1.1.0', { stagingPercentage: 10 });
    f.files.set(`latest${SUFFIX}.yml`, r.yml);
    f.files.set(r.file, r.bytes);
    for (let round = 0; round < 2; round++) {
      const low = driverOn(f.url, { stagingId: LOW_ID });
      const high = driverOn(f.url, { stagingId: HIGH_ID });
      await Promise.all([low.driver.check(), high.driver.check()]);
      expect(await low.outcome()).toEqual({ type: 'downloaded', version: '1.1.0' });
      expect(await high.outcome()).toEqual({ type: 'not-available', version: '1.1.0' });
    }
    // Then to all: the same release at 100.
    f.files.set(`latest${SUFFIX}.yml`, r.yml.replace('stagingPercentage: 10', 'stagingPercentage: 100'));
    const high = driverOn(f.url, { stagingId: HIGH_ID });
    await high.driver.check();
    expect(await high.outcome()).toEqual({ type: 'downloaded', version: '1.1.0' });
  });

  it('reads beta-linux.yml on the beta channel and takes a pre-release there', async () => {
    const f = await feed();
    const stable = release('1.1.0');
    const beta = release('1.2.0-beta.1');
    f.files.set(`latest${SUFFIX}.yml`, stable.yml);
    f.files.set(`beta${SUFFIX}.yml`, beta.yml);
    f.files.set(beta.file, beta.bytes);
    const d = driverOn(f.url, { channel: 'beta' });
    await d.driver.check();
    expect(await d.outcome()).toEqual({ type: 'downloaded', version: '1.2.0-beta.1' });
    expect(f.requests[0].path).toBe(`beta${SUFFIX}.yml`);
  });

  it('rolls back to a lower version only with downgrade allowed', async () => {
    const f = await feed();
    const r = release('1.0.0');
    f.files.set(`latest${SUFFIX}.yml`, r.yml);
    f.files.set(r.file, r.bytes);
    const kept = driverOn(f.url, { version: '1.1.0', allowDowngrade: false });
    await kept.driver.check();
    expect(await kept.outcome()).toEqual({ type: 'not-available', version: '1.0.0' });
    const rolled = driverOn(f.url, { version: '1.1.0', allowDowngrade: true });
    await rolled.driver.check();
    expect(await rolled.outcome()).toEqual({ type: 'downloaded', version: '1.0.0' });
  });

  it('keeps no download whose sha512 differs from the feed, and says so', async () => {
    const f = await feed();
    const r = release('1.1.0');
    f.files.set(`latest${SUFFIX}.yml`, r.yml);
    f.files.set(r.file, Buffer.concat([r.bytes.subarray(0, 1000), Buffer.from('tampered'), r.bytes.subarray(1008)]));
    const d = driverOn(f.url);
    await d.driver.check();
    expect(await d.outcome()).toEqual({ type: 'error', message: 'The downloaded update does not match its sha512 in the feed: it was not kept' });
    expect(fs.existsSync(path.join(d.dir, 'cache', 'dockside-updater', 'pending', r.file))).toBe(false);
  });

  it('names the missing channel file of a feed without it', async () => {
    const f = await feed();
    const d = driverOn(f.url, { channel: 'beta' });
    await d.driver.check();
    expect(await d.outcome()).toEqual({ type: 'error', message: `The update feed has no beta${SUFFIX}.yml for this channel` });
  });
});

describe('updates on a station', () => {
  async function stationOnFeed(install: () => Promise<void> = async () => {}) {
    const f = await feed();
    const r = release('1.1.0');
    f.files.set(`latest${SUFFIX}.yml`, r.yml);
    f.files.set(r.file, r.bytes);
    const installs: string[] = [];
    const t = await withAdmin({
      updatePolicyTickMs: 0,
      updateCheckEveryMs: 0,
      updater: ({ stagingId }) => {
        const dir = tempDir('dockside-updater-');
        return electronUpdaterDriver(nodeDebUpdater('1.0.0', dir).updater, {
          userDataPath: dir,
          stagingId,
          logger: silentLogger,
          install: async () => {
            installs.push('install');
            await install();
          },
        });
      },
    });
    const settings: UpdateSettings = { feedUrl: f.url, channel: 'stable', quietHours: { from: '02:00', to: '04:00' }, allowDowngrade: false };
    t.station.settings.writeKey(
      UPDATE_SETTINGS_KEY,
      settings,
      { userId: null, username: 'provisioning' },
      { stationId: t.station.settings.stationId(), now: t.clock.now },
      {
        action: 'updates.settings',
        entityId: UPDATE_SETTINGS_KEY,
        after: settings,
      },
    );
    return { ...t, feed: f, installs };
  }

  it('downloads on Check now, waits while someone is signed in, and installs once nobody is', async () => {
    const t = await stationOnFeed();
    const checked = await t.admin.ok('updates/check', {});
    expect(checked.feedUrl).toBe(t.feed.url);
    const ready = (await t.admin.event((e) => e.event === 'updates/changed' && (e.data as UpdateStatus).state.kind === 'downloaded'))
      .data as UpdateStatus;
    expect(ready.state).toEqual({ kind: 'downloaded', version: '1.1.0' });
    expect(ready.rollout?.id).toBe(t.station.settings.stationId());
    // 08:00 UTC, the admin's window signed in: it waits for the quiet hours.
    const status = await t.admin.ok('updates/status', {});
    expect(status.install).toEqual({
      installNow: false,
      reason: 'Waits: 1 person signed in; installs when nobody is signed in or in the quiet hours (02:00–04:00)',
    });
    expect(await t.station.updates.tick()).toMatchObject({ installNow: false });
    expect(t.installs).toEqual([]);

    await t.admin.ok('auth/logout', {});
    expect(await t.station.updates.tick()).toMatchObject({ installNow: true, reason: 'Nobody is signed in and no work runs' });
    expect(t.installs).toEqual(['install']);
    const audit = t.station.database.sqlite
      .prepare("SELECT action, detail FROM audit_log WHERE action IN ('updates.checked', 'updates.installing') ORDER BY id")
      .all();
    expect(audit).toEqual([
      { action: 'updates.checked', detail: `${t.feed.url} (stable)` },
      { action: 'updates.installing', detail: '1.1.0: Nobody is signed in and no work runs' },
    ]);
  });

  it('does not install while a job runs or right after a scan, even with nobody signed in', async () => {
    const t = await stationOnFeed();
    await t.admin.ok('bags/scan', { code: 'C-5', source: 'manual' });
    await t.admin.ok('updates/check', {});
    await t.admin.event((e) => e.event === 'updates/changed' && (e.data as UpdateStatus).state.kind === 'downloaded');
    await t.admin.ok('auth/logout', {});
    expect((await t.station.updates.tick())?.reason).toMatch(/^Waits: work is running \(a scan 0 s ago\)$/);

    t.clock.advance(10 * 60_000);
    let finish: (() => void) | null = null;
    const job = t.station.jobs.start('export', {}, null, () => new Promise<void>((resolve) => (finish = resolve)));
    expect((await t.station.updates.tick())?.reason).toBe('Waits: work is running (1 import or export running)');
    expect(t.installs).toEqual([]);
    (await until('the job to start', () => finish))();
    await until('the job to end', () => t.station.jobs.get(job.id).status === 'succeeded');
    expect(await t.station.updates.tick()).toMatchObject({ installNow: true });
    expect(t.installs).toEqual(['install']);
  });

  it('does not install an update the feed withdrew before its window', async () => {
    const t = await stationOnFeed();
    await t.admin.ok('updates/check', {});
    await t.admin.event((e) => e.event === 'updates/changed' && (e.data as UpdateStatus).state.kind === 'downloaded');
    // IT pulls 1.1.0: the channel file names the running version again.
    t.feed.files.set(`latest${SUFFIX}.yml`, release('1.0.0').yml);
    await t.admin.ok('updates/check', {});
    await t.admin.event((e) => e.event === 'updates/changed' && (e.data as UpdateStatus).state.kind === 'up-to-date');
    await t.admin.ok('auth/logout', {});
    expect(await t.station.updates.tick()).toBeNull();
    expect(t.installs).toEqual([]);
  });

  it('shows an install that failed in words and does not retry it at every tick', async () => {
    const t = await stationOnFeed(async () => {
      throw new Error('pkexec: not authorized');
    });
    await t.admin.ok('updates/check', {});
    await t.admin.event((e) => e.event === 'updates/changed' && (e.data as UpdateStatus).state.kind === 'downloaded');
    await t.admin.ok('auth/logout', {});
    expect(await t.station.updates.tick()).toMatchObject({ installNow: true });
    expect(await t.station.updates.tick()).toBeNull();
    expect(t.installs).toEqual(['install']);
    expect(t.station.updates.status().state).toEqual({ kind: 'error', message: 'The update could not be installed: pkexec: not authorized' });
  });

  it('says why this station does not update itself without an updater, and refuses Check now', async () => {
    const t = await withAdmin();
    expect((await t.admin.ok('updates/status', {})).state).toEqual({
      kind: 'unsupported',
      why: 'Updates are installed by the desktop app; this browser host does not update itself',
    });
    expect(await t.admin.call('updates/check', {})).toMatchObject({ ok: false, error: { code: 'unavailable' } });
  });
});
