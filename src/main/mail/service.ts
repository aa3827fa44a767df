import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import {
  DEFAULT_MAIL_SETTINGS,
  isEmailAddress,
  mailSettingsSchema,
  recipientList,
  type MailOutcome,
  type MailSettings,
  type MailSettingsView,
  type MailStatus,
} from '../../shared/contract/mail';
import { DomainError } from '../../shared/envelope';
import type { AuditActor, AuditContext } from '../audit/record';
import type { Db } from '../db/open';
import type { SecretStore } from '../credentials/store';
import type { OutboxDrainer } from '../outbox/drainer';
import type { Logger } from '../platform/logger';
import { enqueueOnce } from '../outbox/enqueue';
import type { SettingsService } from '../settings/service';
import { MAIL_OP, MAIL_UPSTREAM, type QueuedMail } from './smtp';

export const MAIL_SETTINGS_KEY = 'mail';
export const MAIL_PASSWORD_SECRET = 'mail.password';

/** A mail any part of the station may send: trip done, trip failed, a report. */
export interface MailMessage {
  /** Default: the station's recipients (Admin → Station) when it is sent. */
  to?: string[];
  subject: string;
  text: string;
  html?: string;
  attachments?: { filename: string; contentType: string; content: Buffer }[];
}

/** The stored mail settings; missing or no longer valid ones read as "not set up". */
export function mailSettingsOf(settings: SettingsService): MailSettings {
  const parsed = mailSettingsSchema.safeParse(settings.readKey<unknown>(MAIL_SETTINGS_KEY, DEFAULT_MAIL_SETTINGS));
  return parsed.success ? parsed.data : DEFAULT_MAIL_SETTINGS;
}

/** The outbox id of a mail: its dedupe key, so the same key queues one mail. */
function mailOpId(dedupeKey: string): string {
  return `mail:${dedupeKey}`;
}

/**
 * Mail through the outbox. `enqueue` only writes a row (inside the caller's transaction, if
 * any), so a mail server that is down never fails the work that asked for the mail; the outbox
 * drainer sends it when the server answers.
 *
 * Sent twice? Each mail is its own batch and is marked sent in the transaction right after the
 * server's "250 accepted". If the station dies between those two (a few milliseconds), the mail
 * is sent again after the restart: SMTP has no way to ask a server whether it already took a
 * mail. Such a copy carries the same Message-ID, made from the outbox record when it was queued,
 * so mail programs that thread or dedupe by Message-ID show one mail, and a person can tell.
 */
export class MailService {
  readonly #sql: ReturnType<typeof statements>;

  constructor(
    private readonly deps: {
      db: Db;
      now: () => number;
      settings: SettingsService;
      secrets: SecretStore;
      outbox: OutboxDrainer;
      audit: AuditContext;
      stationId: string;
      log: Logger;
    },
  ) {
    this.#sql = statements(deps.db.$client);
  }

  /**
   * Queues a mail; `dedupeKey` names what it is about (`trip:42:completed`): the same key again
   * queues nothing ('duplicate'). A station without a mail server queues nothing either
   * ('not-set-up'): setting one up months later must not send a backlog of old news.
   */
  enqueue(message: MailMessage, dedupeKey: string): 'queued' | 'duplicate' | 'not-set-up' {
    if (dedupeKey.trim() === '' || dedupeKey.length > 200) throw new Error('A mail needs a dedupe key of 1 to 200 characters');
    const bad = (message.to ?? []).filter((a) => !isEmailAddress(a));
    if (bad.length > 0) throw new Error(`Not an email address: ${bad.join(', ')}`);
    if (this.settings().host === '') return 'not-set-up';
    const opId = mailOpId(dedupeKey);
    const payload: QueuedMail = {
      to: message.to ?? null,
      subject: message.subject,
      text: message.text,
      html: message.html,
      attachments: message.attachments?.map((a) => ({ filename: a.filename, contentType: a.contentType, base64: a.content.toString('base64') })),
      messageId: this.#messageId(opId),
    };
    return enqueueOnce(this.deps.db, this.deps.now(), { opId, op: MAIL_OP, upstream: MAIL_UPSTREAM, payload }) ? 'queued' : 'duplicate';
  }

  /**
   * Sends what waits for the mail server once the caller's transaction has committed (a trip's
   * end), instead of at the next sync tick; a server that is down leaves it queued as always.
   */
  sendSoon(): void {
    setImmediate(() => {
      this.deps.outbox.drain(MAIL_UPSTREAM).catch((err: unknown) => this.deps.log.error({ err }, 'mail drain failed'));
    });
  }

  /** `<dockside.HASH@domain>`: the same for the same station and dedupe key, whatever the try. */
  #messageId(opId: string): string {
    const hash = createHash('sha256').update(`${this.deps.stationId}\n${opId}`).digest('hex').slice(0, 32);
    const domain = this.settings().from.split('@')[1] || 'dockside.invalid';
    return `<dockside.${hash}@${domain}>`;
  }

  settings(): MailSettings {
    return mailSettingsOf(this.deps.settings);
  }

  view(): MailSettingsView {
    return {
      settings: this.settings(),
      passwordSet: this.deps.secrets.get(MAIL_PASSWORD_SECRET) !== null,
      passwordProblem: this.deps.secrets.refusal?.() ?? null,
    };
  }

  /** New settings; mails stuck on the old ones (a wrong server, a refused sender) are tried again. */
  updateSettings(next: MailSettings, actor: AuditActor): MailSettingsView {
    this.deps.settings.writeKey(MAIL_SETTINGS_KEY, next, actor, this.deps.audit, { action: 'mail.settings_updated', entityId: 'mail', after: next });
    this.#retryStuck();
    return this.view();
  }

  /** The password goes to the secret store only (a keyring-less station refuses it, in words). */
  setPassword(password: string): MailSettingsView {
    if (password === '') this.deps.secrets.delete(MAIL_PASSWORD_SECRET);
    else this.deps.secrets.set(MAIL_PASSWORD_SECRET, password);
    this.#retryStuck();
    return this.view();
  }

  #retryStuck(): void {
    if (this.#sql.requeueStuck.run(this.deps.now()).changes > 0)
      this.deps.outbox
        .drain(MAIL_UPSTREAM, { force: true })
        .catch((err: unknown) => this.deps.log.error({ err }, 'mail drain after new settings failed'));
  }

  /** Queues a test mail to the recipients, sends what waits for the mail server now, and says what became of it. */
  async sendTest(actor: AuditActor): Promise<MailOutcome> {
    const s = this.settings();
    if (s.host === '') throw new DomainError('invalid', 'Save the mail server settings first');
    const at = this.deps.now();
    const key = `test:${at}:${actor.userId ?? 0}:${Math.random().toString(36).slice(2, 10)}`;
    this.enqueue(
      {
        subject: `Test mail from ${this.deps.settings.get().stationName}`,
        text: `This is a test mail from the Dockside station "${this.deps.settings.get().stationName}", sent by ${actor.username} at ${new Date(at).toISOString()}.\n\nIf you can read this, the station's mails reach you.`,
      },
      key,
    );
    await this.deps.outbox.drain(MAIL_UPSTREAM, { force: true });
    const row = this.#sql.record.get(mailOpId(key)) as { status: string; last_error: string | null } | undefined;
    if (row?.status === 'done') return { state: 'sent', message: `Sent to ${recipientList(s.recipients).join(', ')}` };
    if (row?.status === 'error') return { state: 'failed', message: row.last_error ?? 'The mail server refused the mail' };
    const why = row?.last_error ?? this.deps.outbox.lastError(MAIL_UPSTREAM) ?? 'Other mails are being sent first';
    return { state: 'waiting', message: `Not sent yet: ${why}. The station tries again by itself.` };
  }

  status(): MailStatus {
    const c = this.#sql.counts.get({ since: this.deps.now() - 24 * 3_600_000 }) as {
      waiting: number;
      failed: number;
      sent: number;
      last_sent_at: number | null;
    };
    const recent = this.#sql.lastProblem.get() as { last_error: string } | undefined;
    return {
      waiting: c.waiting,
      failed: c.failed,
      sent: c.sent,
      lastError: this.deps.outbox.lastError(MAIL_UPSTREAM) ?? recent?.last_error ?? null,
      lastSentAt: c.last_sent_at,
    };
  }
}

function statements(db: Database.Database) {
  return {
    record: db.prepare('SELECT status, last_error FROM outbox WHERE op_id = ?'),
    // Each WHERE names a status as the partial indexes do (schema.ts), so a million sent bag
    // records are never read; "sent" is the last 24 hours, through the acknowledged index.
    counts: db.prepare(
      `SELECT (SELECT count(*) FROM outbox WHERE upstream = '${MAIL_UPSTREAM}' AND status = 'pending') AS waiting,
              (SELECT count(*) FROM outbox WHERE status = 'error' AND upstream = '${MAIL_UPSTREAM}') AS failed,
              (SELECT count(*) FROM outbox WHERE status IN ('done', 'conflict') AND updated_at >= @since AND upstream = '${MAIL_UPSTREAM}' AND status = 'done') AS sent,
              (SELECT max(updated_at) FROM outbox WHERE status IN ('done', 'conflict') AND updated_at >= @since AND upstream = '${MAIL_UPSTREAM}' AND status = 'done') AS last_sent_at`,
    ),
    lastProblem: db.prepare(
      `SELECT last_error FROM (
         SELECT last_error, updated_at FROM outbox WHERE upstream = '${MAIL_UPSTREAM}' AND status = 'pending' AND last_error IS NOT NULL
         UNION ALL
         SELECT last_error, updated_at FROM outbox WHERE status = 'error' AND upstream = '${MAIL_UPSTREAM}' AND last_error IS NOT NULL
       ) ORDER BY updated_at DESC LIMIT 1`,
    ),
    requeueStuck: db.prepare(
      `UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, last_error = NULL WHERE upstream = '${MAIL_UPSTREAM}' AND status = 'error'`,
    ),
  };
}
