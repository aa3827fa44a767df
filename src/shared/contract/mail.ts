import { z } from 'zod';
import { channel } from './define';
import { empty } from './fields';

export const MAIL_SECURITY = ['none', 'starttls', 'tls'] as const;
export type MailSecurity = (typeof MAIL_SECURITY)[number];

export const MAIL_SECURITY_LABELS: Record<MailSecurity, string> = {
  none: 'None (plain)',
  starttls: 'STARTTLS',
  tls: 'TLS from the start',
};

/** Loose on purpose: the mail server is the judge; this catches typos like a missing @ or a space. */
const EMAIL = /^[^\s@,;<>"]+@[^\s@,;<>"]+\.[^\s@,;<>"]+$/;

export function isEmailAddress(s: string): boolean {
  return EMAIL.test(s);
}

/** "a@x.com, b@y.com" → ["a@x.com", "b@y.com"]; commas or semicolons, spaces ignored. */
export function recipientList(s: string): string[] {
  return s
    .split(/[,;]/)
    .map((a) => a.trim())
    .filter((a) => a !== '');
}

const recipients = z
  .string()
  .max(2000, 'At most 2000 characters')
  .meta({ examples: ['dispatch@example.com, office@example.com'] })
  .superRefine((s, ctx) => {
    const bad = recipientList(s).filter((a) => !isEmailAddress(a));
    if (bad.length > 0) ctx.addIssue({ code: 'custom', message: `Not an email address: ${bad.join(', ')}` });
  })
  .transform((s) => recipientList(s).join(', '));

/** SMTP settings of this station. The password is not here: it lives in the station's secret store. */
export const mailSettingsSchema = z
  .strictObject({
    /** '' = mail not set up: mails wait in the outbox. */
    host: z
      .string()
      .trim()
      .max(253, 'At most 253 characters')
      .regex(/^[A-Za-z0-9.:[\]-]*$/, 'The mail server is a name like mail.example.com or an IP address')
      .meta({ examples: ['mail.example.com'] }),
    port: z.number({ error: 'Enter a port number' }).int('Whole number').min(1, 'Port is 1 to 65535').max(65535, 'Port is 1 to 65535'),
    security: z.enum(MAIL_SECURITY, { message: 'Choose none, STARTTLS or TLS' }),
    /** '' = the server takes mail without signing in. */
    user: z.string().trim().max(254, 'At most 254 characters'),
    from: z
      .string()
      .trim()
      .max(254, 'At most 254 characters')
      .refine((s) => s === '' || isEmailAddress(s), 'Not an email address')
      .meta({ examples: ['dockside@example.com'] }),
    /** Who gets the station's mails when a mail names nobody, comma-separated. */
    recipients,
  })
  .superRefine((s, ctx) => {
    if (s.host !== '' && s.from === '') ctx.addIssue({ code: 'custom', path: ['from'], message: 'Mails need a sender address' });
    if (s.host !== '' && s.recipients === '') ctx.addIssue({ code: 'custom', path: ['recipients'], message: 'Name at least one recipient' });
  });
export type MailSettings = z.output<typeof mailSettingsSchema>;

export const DEFAULT_MAIL_SETTINGS: MailSettings = { host: '', port: 587, security: 'starttls', user: '', from: '', recipients: '' };

export interface MailSettingsView {
  settings: MailSettings;
  passwordSet: boolean;
  /** Why this station cannot keep a new password safely (no keyring), or null. */
  passwordProblem: string | null;
}

export interface MailStatus {
  waiting: number;
  /** In the last 24 hours. */
  sent: number;
  failed: number;
  /** The last problem, in words ("Mail server not reachable"), or null. */
  lastError: string | null;
  lastSentAt: number | null;
}

/** What became of a mail: sent (the server took it), waiting (tried again later) or failed (needs an admin). */
export interface MailOutcome {
  state: 'sent' | 'waiting' | 'failed';
  message: string;
}

export const mailChannels = {
  'mail/settings': channel<MailSettingsView>()({
    request: empty,
    access: ['admin'],
    summary: 'This station’s mail server settings and whether its password is set (never the password).',
  }),
  'mail/update-settings': channel<MailSettingsView>()({
    request: mailSettingsSchema,
    access: ['admin'],
    summary: 'Change the mail server settings; failed mails are tried again with them.',
  }),
  'mail/set-password': channel<MailSettingsView>()({
    request: z.strictObject({ password: z.string().max(500, 'At most 500 characters') }),
    access: ['admin'],
    summary: 'Set (or, empty, clear) the mail server password in the station’s secret store.',
  }),
  'mail/send-test': channel<MailOutcome>()({
    request: empty,
    access: ['admin'],
    summary: 'Send a test mail to the recipients through the outbox, and say what became of it.',
  }),
  'mail/status': channel<MailStatus>()({
    request: empty,
    access: ['admin'],
    summary: 'Mails waiting, sent and failed, and the last problem in words.',
  }),
};
