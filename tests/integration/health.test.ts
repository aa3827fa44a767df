import fs from 'node:fs';
import path from 'node:path';
import yauzl from 'yauzl';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/main/platform/logger';
import { HUB_TOKEN_SECRET } from '../../src/main/hub/membership';
import { MAIL_PASSWORD_SECRET } from '../../src/main/mail/service';
import { releaseAll } from '../support/cleanup';
import { phoneSecretOf } from '../support/second-factor';
import { makeStation, signInAs, tempDir, withAdmin, type TestWindow } from '../support/station';

afterEach(releaseAll);

const DAY = 86_400_000;
const backupsIn = (dataDir: string) => fs.readdirSync(path.join(dataDir, 'backups')).sort();
const userNames = (w: TestWindow) => w.ok('users/list', {}).then((list) => list.map((u) => u.username));

/** Every entry of a zip, by name, as text. */
async function zipEntries(bytes: Buffer): Promise<Map<string, string>> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(bytes, { lazyEntries: true }, (e, z) => (e ? reject(e) : resolve(z))),
  );
  const out = new Map<string, string>();
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      zip.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          out.set(entry.fileName, Buffer.concat(chunks).toString('utf8'));
          zip.readEntry();
        });
        stream.on('error', reject);
      });
    });
    zip.on('end', () => resolve());
    zip.on('error', reject);
    zip.readEntry();
  });
  return out;
}

describe('Admin → Health', () => {
  it('shows an admin the station’s figures, and no one else', async () => {
    const t = await withAdmin({ backupCheckMs: 0 });
    const h = await t.admin.ok('health/get', {});
    expect(h.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(h.memory.rssBytes).toBeGreaterThan(0);
    expect(h.database!.bytes).toBeGreaterThan(0);
    expect(h.disk!.sizeBytes).toBeGreaterThan(0);
    expect(h.lastBackup).toBeNull();
    expect(h.warnings.backup).toBe('No backup yet');
    expect(h.sync.map((u) => u.upstream)).toEqual((await t.admin.ok('sync/status', {})).map((u) => u.upstream));
    const dispatcher = await t.signedIn('dispatcher');
    for (const channel of ['health/get', 'backups/list', 'backups/run', 'diagnostics/export'] as const)
      expect(await dispatcher.call(channel, {})).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('counts errors the station logged in the last hour, from the logger', async () => {
    const dataDir = tempDir();
    const log = await createLogger({ dir: path.join(dataDir, 'logs') });
    const t = await withAdmin({ dataDir, logger: log.logger, log, backupCheckMs: 0 });
    expect((await t.admin.ok('health/get', {})).errorsLastHour).toBe(0);
    log.logger.child({ module: 'sync' }).error({ upstream: 'bags' }, 'sending failed');
    log.logger.warn('only a warning');
    const h = await t.admin.ok('health/get', {});
    expect(h.errorsLastHour).toBe(1);
    expect(h.warnings.errors).toBe('1 error logged in the last hour');
    await t.close();
    await log.close();
  });
});

describe('backups', () => {
  it('Back up now writes a whole backup, lists it and audits it', async () => {
    const t = await withAdmin({ backupCheckMs: 0 });
    const file = await t.admin.ok('backups/run', {});
    expect(file.fileName).toMatch(/^dockside-\d{8}-\d{6}\.db$/);
    expect(backupsIn(t.dataDir)).toEqual([file.fileName]); // no temporary file left
    expect(fs.statSync(path.join(t.dataDir, 'backups', file.fileName)).size).toBe(file.bytes);
    expect((await t.admin.ok('backups/list', {})).backups).toEqual([file]);
    const h = await t.admin.ok('health/get', {});
    expect(h.lastBackup).toEqual(file);
    expect(h.warnings.backup).toBeNull();
    const audit = t.station.database.sqlite.prepare("SELECT username, entity_id FROM audit_log WHERE action = 'backup.created'").all();
    expect(audit).toEqual([{ username: 'boss', entity_id: file.fileName }]);
  });

  it('runs when due: the first check backs up, the next waits for tomorrow’s 02:00, and old backups go', async () => {
    const t = await withAdmin({ backupCheckMs: 0, timeZone: 'UTC' });
    await t.station.health.backups.tick();
    expect(backupsIn(t.dataDir)).toHaveLength(1);
    await t.station.health.backups.tick();
    expect(backupsIn(t.dataDir)).toHaveLength(1);
    t.clock.advance(DAY); // past 02:00
    await t.station.health.backups.tick();
    expect(backupsIn(t.dataDir)).toHaveLength(2);
    // kept 1 day: at the next backup, both earlier ones are more than a day old and go
    t.station.health.backups.setKeepDays(1, { userId: null, username: 'test' });
    t.clock.advance(DAY + 60_000);
    await t.station.health.backups.tick();
    const newest = t.station.health.backups.list();
    expect(newest).toHaveLength(1);
    expect(backupsIn(t.dataDir)).toEqual([newest[0].fileName]);
    expect(newest[0].at).toBe(Math.floor(t.clock.t / 1000) * 1000);
  });

  it('refuses a days-kept value out of range in words naming the field, changing nothing; a valid one is audited', async () => {
    const t = await withAdmin({ backupCheckMs: 0 });
    for (const keepDays of [0, 366, 1.5])
      expect(await t.admin.raw('backups/set-keep-days', { keepDays })).toMatchObject({
        ok: false,
        error: { code: 'invalid', issues: [expect.objectContaining({ path: 'keepDays', message: expect.stringMatching(/^Keep backups/) })] },
      });
    expect((await t.admin.ok('backups/list', {})).keepDays).toBe(14);
    const audited = () => t.station.database.sqlite.prepare("SELECT username, after FROM audit_log WHERE action = 'backups.keep-days'").all();
    expect(audited()).toEqual([]);
    expect((await t.admin.ok('backups/set-keep-days', { keepDays: 30 })).keepDays).toBe(30);
    expect(audited()).toEqual([{ username: 'boss', after: JSON.stringify({ before: 14, keepDays: 30 }) }]);
  });

  it('restores by the README’s steps: the backed-up data is back on a reopened station', async () => {
    const t = await withAdmin({ backupCheckMs: 0 });
    await t.admin.ok('users/create', { username: 'kept', displayName: 'Kept', role: 'dispatcher', password: 'password-123' });
    const backup = await t.admin.ok('backups/run', {});
    await t.admin.ok('users/create', { username: 'after', displayName: 'After', role: 'dispatcher', password: 'password-123' });
    expect(await userNames(t.admin)).toEqual(expect.arrayContaining(['kept', 'after']));
    await t.close();

    // README, "Restoring a backup": with the app stopped, copy the backup over dockside.sqlite and remove -wal and -shm.
    const db = path.join(t.dataDir, 'dockside.sqlite');
    fs.copyFileSync(path.join(t.dataDir, 'backups', backup.fileName), db);
    fs.rmSync(`${db}-wal`, { force: true });
    fs.rmSync(`${db}-shm`, { force: true });

    const reopened = await makeStation({ dataDir: t.dataDir, backupCheckMs: 0 });
    const w = reopened.window();
    await signInAs(reopened, w, 'boss', 'correct horse');
    const names = (await w.ok('users/list', {})).map((u) => u.username);
    expect(names).toContain('kept');
    expect(names).not.toContain('after');
  });

  it('an in-memory station says there is nothing to back up', async () => {
    const t = await withAdmin({ dataDir: ':memory:' });
    expect(await t.admin.call('backups/run', {})).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    expect((await t.admin.ok('backups/list', {})).unavailable).toMatch(/in memory/);
  });
});

describe('export diagnostics', () => {
  it('one zip with logs, settings, health and the last day’s audit, holding no secret value', async () => {
    const dataDir = tempDir();
    const log = await createLogger({ dir: path.join(dataDir, 'logs') });
    const t = await withAdmin({ dataDir, logger: log.logger, log, backupCheckMs: 0 });
    const secrets = {
      hubToken: 'hubtok_7f3a9c2e51d04b8e',
      erpPassword: 'Erp-Pa55word!',
      mailPassword: 'mail secret 99',
      totp: phoneSecretOf(t.station, 'boss').secret,
      enrolment: 'KQ7M-XR4P-2HTN',
    };
    t.station.secrets.set(HUB_TOKEN_SECRET, secrets.hubToken);
    t.station.secrets.set('erp.DD.password', secrets.erpPassword);
    t.station.secrets.set(MAIL_PASSWORD_SECRET, secrets.mailPassword);
    // Lines a careless call could write: each secret in a shape it takes in logs.
    const logger = log.logger.child({ module: 'test' });
    logger.info({ headers: { Authorization: `Bearer ${secrets.hubToken}`, Cookie: `sid=${secrets.hubToken}` } }, 'hub request');
    logger.info({ req: { headers: { authorization: `Bearer ${secrets.hubToken}` } } }, 'a nested header');
    logger.error({ body: `user=erp&password=${encodeURIComponent(secrets.erpPassword)}` }, `ERP sign-in refused for ${secrets.erpPassword}`);
    logger.warn({ smtp: `smtp://mailer:${encodeURIComponent(secrets.mailPassword)}@mail.example:587` }, 'mail server');
    logger.info(`phone setup otpauth://totp/Dockside:boss?secret=${secrets.totp}&issuer=Dockside`);
    logger.info(`second factor key ${secrets.totp}`);
    logger.info({ enrolmentCode: secrets.enrolment }, `joining a site with code ${secrets.enrolment.toLowerCase()}`);
    logger.info({ payload: { mailPassword: secrets.mailPassword } }, 'a line support needs');
    await t.admin.ok('backups/run', {});

    const made = await t.admin.ok('diagnostics/export', {});
    expect(made.fileName).toMatch(/^dockside-diagnostics-\d{8}-\d{6}\.zip$/);
    const parts: Buffer[] = [];
    for (let offset = 0; ;) {
      const c = await t.admin.ok('diagnostics/chunk', { fileName: made.fileName, offset });
      const bytes = Buffer.from(c.base64, 'base64');
      parts.push(bytes);
      offset += bytes.length;
      if (c.done) break;
    }
    const zip = Buffer.concat(parts);
    expect(zip.length).toBe(made.size);
    const entries = await zipEntries(zip);
    expect([...entries.keys()]).toEqual(
      expect.arrayContaining(['README.txt', 'health.json', 'settings.json', 'audit-last-day.jsonl', 'logs/dockside.1.log']),
    );
    const logs = [...entries]
      .filter(([name]) => name.startsWith('logs/'))
      .map(([, text]) => text)
      .join('');
    expect(logs).toContain('a line support needs');
    expect(logs).toContain('ERP sign-in refused for [redacted]');
    expect(JSON.parse(entries.get('health.json')!).version).toMatch(/^\d+\.\d+\.\d+/);
    const settings = JSON.parse(entries.get('settings.json')!) as { settings: Record<string, unknown>; credentialsSet: string[] };
    expect(settings.credentialsSet).toEqual(expect.arrayContaining([HUB_TOKEN_SECRET, 'erp.DD.password', MAIL_PASSWORD_SECRET]));
    expect(entries.get('audit-last-day.jsonl')).toContain('"action":"backup.created"');
    for (const [name, text] of entries)
      for (const [what, value] of Object.entries(secrets)) {
        expect(text.includes(value), `${what} in ${name}`).toBe(false);
        expect(text.toLowerCase().includes(value.toLowerCase()), `${what} in ${name}`).toBe(false);
      }
    await t.close();
    await log.close();
  });

  it('refuses a file name that is not a diagnostics zip', async () => {
    const t = await withAdmin({ backupCheckMs: 0 });
    expect(await t.admin.raw('diagnostics/chunk', { fileName: '../dockside.sqlite', offset: 0 })).toMatchObject({
      ok: false,
      error: { code: 'invalid', issues: [expect.objectContaining({ path: 'fileName', message: 'Not a diagnostics file name' })] },
    });
  });
});
