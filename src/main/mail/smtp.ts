import nodemailer from 'nodemailer';
import { recipientList, type MailSettings } from '../../shared/contract/mail';
import { UpstreamError } from '../upstreams/http';
import type { OutboxTransport, RecordResult } from '../outbox/drainer';

export const MAIL_UPSTREAM = 'mail';
/** Bump when the payload changes shape: rows queued by an older release keep their meaning. */
export const MAIL_OP = 'mail@1';

/** What the outbox keeps for one mail: everything needed to send it again, byte for byte. */
export interface QueuedMail {
  /** null: the station's recipients at the time it is sent. */
  to: string[] | null;
  subject: string;
  text: string;
  html?: string;
  attachments?: { filename: string; contentType: string; base64: string }[];
  /** Fixed when queued, so every try (and a resend after a crash) carries the same one. */
  messageId: string;
}

/** A mail server that could not be reached waits this long before the next try (no attempt is counted). */
export const MAIL_REST_MS = 30_000;

/** Why a send failed, for the outbox and for the admin. */
export type SmtpFailure =
  /** Not reached at all: the mail waits, no attempt counted. */
  | { kind: 'unreachable'; message: string }
  /** Reached, said "not now" (4xx): tried again with backoff. */
  | { kind: 'later'; message: string }
  /** Reached, said no for good (5xx, wrong password, TLS refused): stuck until an admin acts. */
  | { kind: 'refused'; message: string };

const UNREACHABLE_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'EPROXY',
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);

/** Nodemailer's error → words for a clerk, and whether trying again can help. */
export function classifySmtpError(error: unknown): SmtpFailure {
  const e = (error ?? {}) as { code?: unknown; responseCode?: unknown; response?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const status = typeof e.responseCode === 'number' ? e.responseCode : null;
  const said = typeof e.response === 'string' ? e.response.replace(/\s+/g, ' ').trim().slice(0, 200) : '';
  const saying = said ? ` (it said: ${said})` : '';
  if (UNREACHABLE_CODES.has(code)) return { kind: 'unreachable', message: 'Mail server not reachable' };
  if (status !== null && status >= 400 && status < 500) return { kind: 'later', message: `Mail server asked to try later${saying}` };
  if (code === 'EAUTH') return { kind: 'refused', message: 'Mail server refused the password' };
  if (code === 'ENOAUTH') return { kind: 'refused', message: 'Mail server wants a user name and password' };
  if (code === 'ETLS') return { kind: 'refused', message: 'Mail server could not start a secure connection: check the security setting' };
  if (code === 'EENVELOPE') return { kind: 'refused', message: `Mail server refused the sender or recipients${saying}` };
  if (status !== null && status >= 500) return { kind: 'refused', message: `Mail server refused the mail${saying}` };
  // A protocol error or anything unforeseen: try again with backoff, so it ends stuck rather than lost.
  const message = typeof e.message === 'string' ? e.message : String(error);
  return { kind: 'later', message: `Mail could not be sent: ${message}` };
}

export interface SmtpDeps {
  settings: () => MailSettings;
  password: () => string | null;
  now: () => number;
  /** How long to wait for the server before it counts as not reachable. */
  timeoutMs?: number;
}

/** The mail upstream of the outbox: one mail per batch, so each is marked sent as soon as the server took it. */
export function smtpTransport(deps: SmtpDeps): OutboxTransport {
  return {
    batchSize: 1,
    listed: () => deps.settings().host !== '',
    async send(records): Promise<RecordResult[]> {
      const settings = deps.settings();
      if (settings.host === '')
        throw new UpstreamError(MAIL_UPSTREAM, 'unavailable', 'Mail is not set up (Admin → Station)', undefined, deps.now() + MAIL_REST_MS);
      const timeout = deps.timeoutMs ?? 20_000;
      const password = deps.password();
      const transport = nodemailer.createTransport({
        host: settings.host,
        port: settings.port,
        secure: settings.security === 'tls',
        requireTLS: settings.security === 'starttls',
        ignoreTLS: settings.security === 'none',
        auth: settings.user ? { user: settings.user, pass: password ?? '' } : undefined,
        connectionTimeout: timeout,
        greetingTimeout: timeout,
        socketTimeout: timeout * 3,
      });
      const results: RecordResult[] = [];
      try {
        for (const record of records) {
          const mail = record.payload as QueuedMail;
          const to = mail.to ?? recipientList(settings.recipients);
          try {
            await transport.sendMail({
              from: settings.from,
              to,
              subject: mail.subject,
              text: mail.text,
              html: mail.html,
              messageId: mail.messageId,
              attachments: mail.attachments?.map((a) => ({
                filename: a.filename,
                contentType: a.contentType,
                content: Buffer.from(a.base64, 'base64'),
              })),
            });
            results.push({ opId: record.opId, status: 'ok' });
          } catch (error) {
            const failure = classifySmtpError(error);
            // Not reached: nothing was sent, so the whole batch waits without spending an attempt.
            if (failure.kind === 'unreachable' && results.length === 0)
              throw new UpstreamError(MAIL_UPSTREAM, 'network', failure.message, undefined, deps.now() + MAIL_REST_MS);
            results.push({ opId: record.opId, status: failure.kind === 'refused' ? 'failed' : 'error', message: failure.message });
          }
        }
      } finally {
        transport.close();
      }
      return results;
    },
  };
}
