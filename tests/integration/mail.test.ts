import { afterEach, describe, expect, it } from 'vitest';
import { FileSecretStore } from '../../src/main/credentials/store';
import { MAIL_REST_MS, MAIL_UPSTREAM } from '../../src/main/mail/smtp';
import { releaseAll } from '../support/cleanup';
import { TestSmtpServer } from '../support/smtp';
import { makeStation, tempDir, withAdmin } from '../support/station';
import path from 'node:path';

afterEach(releaseAll);

const servers: TestSmtpServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

async function smtpServer(): Promise<TestSmtpServer> {
  const server = new TestSmtpServer();
  servers.push(server);
  await server.start();
  return server;
}

/** A station whose Admin → Station points at `server`; the outbox drains only when the test says so. */
async function stationMailingTo(server: TestSmtpServer, config: Parameters<typeof withAdmin>[0] = {}) {
  const t = await withAdmin({ syncIntervalMs: 0, outboxPruneEveryMs: 0, ...config });
  await t.admin.ok('mail/update-settings', {
    host: '127.0.0.1',
    port: server.port,
    security: 'none',
    user: server.user,
    from: 'dock@example.com',
    recipients: 'dispatch@example.com, office@example.com',
  });
  await t.admin.ok('mail/set-password', { password: server.password });
  return t;
}

describe('mail through the outbox', () => {
  it('an enqueued mail arrives with its subject, recipients, text and attachment bytes, signed in with the station password', async () => {
    const server = await smtpServer();
    const t = await stationMailingTo(server);
    const pdf = Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0xff, 0x10, 0x80]);

    expect(
      t.station.mail.enqueue(
        {
          subject: 'Trip 42 completed',
          text: 'All 3 stops have manifests.',
          attachments: [{ filename: 'trip-42.pdf', contentType: 'application/pdf', content: pdf }],
        },
        'trip:42:completed',
      ),
    ).toBe('queued');
    await t.station.sync.drain(MAIL_UPSTREAM);

    expect(server.received).toHaveLength(1);
    const [mail] = server.received;
    expect(mail.user).toBe('dockside');
    expect(mail.envelopeTo).toEqual(['dispatch@example.com', 'office@example.com']);
    expect(mail.parsed.subject).toBe('Trip 42 completed');
    expect(mail.parsed.from?.text).toBe('dock@example.com');
    expect(mail.parsed.text?.trim()).toBe('All 3 stops have manifests.');
    expect(mail.parsed.attachments).toHaveLength(1);
    expect(mail.parsed.attachments[0].filename).toBe('trip-42.pdf');
    expect(mail.parsed.attachments[0].contentType).toBe('application/pdf');
    expect(Buffer.compare(mail.parsed.attachments[0].content, pdf)).toBe(0);
    expect(mail.parsed.messageId).toMatch(/^<dockside\.[0-9a-f]{32}@example\.com>$/);
    expect(await t.admin.ok('mail/status', {})).toMatchObject({ waiting: 0, sent: 1, failed: 0, lastError: null });
  });

  it('a mail names its own recipients when it gives them', async () => {
    const server = await smtpServer();
    const t = await stationMailingTo(server);
    t.station.mail.enqueue({ to: ['driver@example.com'], subject: 'Yours', text: 'Only for you' }, 'one-off');
    await t.station.sync.drain(MAIL_UPSTREAM);
    expect(server.received.map((m) => m.envelopeTo)).toEqual([['driver@example.com']]);
  });

  it('a mail waits while the mail server is down, spends no attempt, and arrives once when the server is back', async () => {
    const server = await smtpServer();
    const t = await stationMailingTo(server);
    await server.stop();

    t.station.mail.enqueue({ subject: 'Trip 7 failed', text: 'Stop 2 was refused.' }, 'trip:7:failed');
    await t.station.sync.drain(MAIL_UPSTREAM);
    expect(await t.admin.ok('mail/status', {})).toMatchObject({ waiting: 1, sent: 0, failed: 0, lastError: 'Mail server not reachable' });
    const row = () => t.station.database.sqlite.prepare("SELECT status, attempts FROM outbox WHERE op_id = 'mail:trip:7:failed'").get();
    expect(row()).toEqual({ status: 'pending', attempts: 0 });

    // Still resting: the next round leaves it alone.
    await t.station.sync.drainAll();
    expect(row()).toEqual({ status: 'pending', attempts: 0 });

    await server.start(server.port);
    t.clock.advance(MAIL_REST_MS);
    await t.station.sync.drainAll();
    await t.station.sync.drainAll();

    expect(server.received.map((m) => m.parsed.subject)).toEqual(['Trip 7 failed']);
    expect(row()).toEqual({ status: 'done', attempts: 0 });
    expect(await t.admin.ok('mail/status', {})).toMatchObject({ waiting: 0, sent: 1, lastError: null });
  });

  it('a refused password fails the mail in words and is not tried again until the password changes', async () => {
    const server = await smtpServer();
    const t = await stationMailingTo(server);
    await t.admin.ok('mail/set-password', { password: 'wrong-password' });

    t.station.mail.enqueue({ subject: 'Trip 8 completed', text: 'Done.' }, 'trip:8:completed');
    await t.station.sync.drain(MAIL_UPSTREAM);
    expect(await t.admin.ok('mail/status', {})).toMatchObject({ waiting: 0, failed: 1, lastError: 'Mail server refused the password' });
    expect(await t.admin.ok('sync/stuck', {})).toMatchObject([{ upstream: 'mail', lastError: 'Mail server refused the password' }]);

    t.clock.advance(6 * 3_600_000); // far past any backoff
    await t.station.sync.drainAll({ force: true });
    expect(server.logins).toHaveLength(1);

    // The window locked while the clock moved: the service is what the channel calls.
    t.station.mail.setPassword(server.password);
    await t.station.sync.drain(MAIL_UPSTREAM);
    expect(server.received.map((m) => m.parsed.subject)).toEqual(['Trip 8 completed']);
    expect(t.station.mail.status()).toMatchObject({ failed: 0, sent: 1 });
  });

  it('the same dedupe key queues one mail, before and after it was sent', async () => {
    const server = await smtpServer();
    const t = await stationMailingTo(server);
    const mail = { subject: 'Trip 9 completed', text: 'Done.' };
    expect(t.station.mail.enqueue(mail, 'trip:9:completed')).toBe('queued');
    expect(t.station.mail.enqueue(mail, 'trip:9:completed')).toBe('duplicate');
    await t.station.sync.drain(MAIL_UPSTREAM);
    expect(t.station.mail.enqueue(mail, 'trip:9:completed')).toBe('duplicate');
    await t.station.sync.drain(MAIL_UPSTREAM);
    expect(server.received).toHaveLength(1);
  });

  it('overlapping drains send a mail once', async () => {
    const server = await smtpServer();
    const t = await stationMailingTo(server);
    t.station.mail.enqueue({ subject: 'Once', text: 'Only once.' }, 'once');
    await Promise.all([t.station.sync.drainAll(), t.station.sync.drainAll({ force: true }), t.station.sync.drain(MAIL_UPSTREAM)]);
    expect(server.received).toHaveLength(1);
  });

  it('a station that dies between the server taking a mail and marking it sent sends one copy more, with the same Message-ID', async () => {
    const server = await smtpServer();
    const dataDir = tempDir();
    const first = await stationMailingTo(server, { dataDir });
    first.station.mail.enqueue({ subject: 'Trip 11 completed', text: 'Done.' }, 'trip:11:completed');
    // The process dies while the server accepts: the database is gone before the mail is marked sent.
    server.onMail = () => first.station.database.close();
    await expect(first.station.sync.drain(MAIL_UPSTREAM)).rejects.toThrow();
    server.onMail = null;
    await first.close().catch(() => undefined);

    const restarted = await makeStation({ dataDir, syncIntervalMs: 0, outboxPruneEveryMs: 0 });
    await restarted.station.sync.drain(MAIL_UPSTREAM);
    await restarted.station.sync.drain(MAIL_UPSTREAM);

    expect(server.received).toHaveLength(2);
    const [a, b] = server.received.map((m) => m.parsed.messageId);
    expect(a).toMatch(/^<dockside\.[0-9a-f]{32}@example\.com>$/);
    expect(b).toBe(a);
  });
});

describe('mail settings', () => {
  it('keeps the password in the secret store, not with the settings, and reports only that it is set', async () => {
    const server = await smtpServer();
    const t = await stationMailingTo(server);
    const view = await t.admin.ok('mail/settings', {});
    expect(view).toMatchObject({ passwordSet: true, passwordProblem: null, settings: { host: '127.0.0.1', user: 'dockside' } });
    expect(JSON.stringify(view)).not.toContain(server.password);
    expect(t.station.secrets.get('mail.password')).toBe(server.password);
    const stored = t.station.database.sqlite.prepare("SELECT value FROM settings WHERE key = 'mail'").get() as { value: string };
    expect(stored.value).not.toContain(server.password);
  });

  it('refuses a recipient list with something that is not an email address, naming it', async () => {
    const t = await withAdmin({ syncIntervalMs: 0 });
    const r = await t.admin.call('mail/update-settings', {
      host: 'mail.example.com',
      port: 587,
      security: 'starttls',
      user: '',
      from: 'dock@example.com',
      recipients: 'dispatch@example.com, office example.com',
    });
    expect(r).toMatchObject({
      ok: false,
      error: { code: 'invalid', issues: [{ path: 'recipients', message: 'Not an email address: office example.com' }] },
    });
  });

  it('is for admins only', async () => {
    const t = await withAdmin({ syncIntervalMs: 0 });
    const dispatcher = await t.signedIn('dispatcher');
    for (const channel of ['mail/settings', 'mail/send-test', 'mail/status'] as const)
      expect(await dispatcher.call(channel, {})).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('on a station that cannot lock secrets away, says so and refuses the password in words', async () => {
    const dataDir = tempDir();
    const secrets = new FileSecretStore(path.join(dataDir, 'refused-secrets.json'), {
      problem: 'This computer has no keyring, so passwords cannot be kept safely.',
      notSaved: 'Not saved: this computer has no keyring.',
      open: (s) => s,
    });
    const t = await withAdmin({ syncIntervalMs: 0, dataDir, secrets });
    expect(await t.admin.ok('mail/settings', {})).toMatchObject({
      passwordProblem: 'This computer has no keyring, so passwords cannot be kept safely.',
    });
    expect(await t.admin.call('mail/set-password', { password: 'x' })).toMatchObject({
      ok: false,
      error: { code: 'unavailable', message: 'Not saved: this computer has no keyring.' },
    });
  });

  it('the test mail goes through the outbox and says sent, or waiting with the reason', async () => {
    const server = await smtpServer();
    const t = await stationMailingTo(server);
    expect(await t.admin.ok('mail/send-test', {})).toEqual({ state: 'sent', message: 'Sent to dispatch@example.com, office@example.com' });
    expect(server.received[0].parsed.subject).toBe('Test mail from Dock station');

    await server.stop();
    expect(await t.admin.ok('mail/send-test', {})).toEqual({
      state: 'waiting',
      message: 'Not sent yet: Mail server not reachable. The station tries again by itself.',
    });
    expect(await t.admin.ok('mail/status', {})).toMatchObject({ waiting: 1, sent: 1 });
  });
});

describe('a station without a mail server', () => {
  it('queues no mail and lists no mail upstream on Admin → Sync', async () => {
    const t = await withAdmin({ syncIntervalMs: 0 });
    expect(t.station.mail.enqueue({ subject: 'Trip 1 completed', text: 'Done.' }, 'trip:1:completed')).toBe('not-set-up');
    expect(t.station.database.sqlite.prepare("SELECT count(*) AS n FROM outbox WHERE upstream = 'mail'").get()).toEqual({ n: 0 });
    expect((await t.admin.ok('sync/status', {})).map((u) => u.upstream)).toEqual([]);
  });
});
