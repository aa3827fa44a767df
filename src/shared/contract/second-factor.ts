import { z } from 'zod';
import { channel } from './define';
import { empty, id } from './fields';
import type { SessionInfo } from './session';
import type { UserRecord } from './users';

/** What the enrolment screen shows: the QR code to scan, and the same secret to type by hand. */
export interface SecondFactorEnrolment {
  /** Base32, as authenticator apps take it when typed. */
  secret: string;
  /** The otpauth:// URI the QR code holds. */
  uri: string;
  /** The QR code as an SVG data URL (the CSP allows data: images). */
  qrDataUrl: string;
}

export interface SecondFactorEnrolled {
  session: SessionInfo;
  /** Ten one-time codes, shown this once; main keeps only their hashes. */
  recoveryCodes: string[];
}

/** The six digits an authenticator app shows; spaces as some apps group them ("123 456") are allowed. */
const totpCode = z
  .string()
  .regex(/^\s*\d{3}\s?\d{3}\s*$/, 'The code is the 6 digits your phone shows')
  .meta({ examples: ['123456'] })
  .transform((s) => s.replace(/\s/g, ''));

/** A 6-digit code, or a recovery code (`abcd-efgh-jkmn`, read off paper: any case, dashes or spaces). */
const codeOrRecoveryCode = z
  .string()
  .trim()
  .min(6, 'Enter the 6-digit code from your phone, or a recovery code')
  .max(20, 'A code has at most 20 characters')
  .regex(/^[A-Za-z0-9 -]+$/, 'A code has only letters, digits and dashes')
  .meta({ examples: ['123456'] });

export const secondFactorChannels = {
  'auth/second-factor': channel<SessionInfo>()({
    request: z.strictObject({ code: codeOrRecoveryCode }),
    access: 'second-factor',
    summary: 'Second sign-in step for an admin: the code from their phone, or a recovery code (which then asks for a new phone).',
  }),
  'auth/second-factor/enrolment': channel<SecondFactorEnrolment>()({
    request: empty,
    access: 'second-factor',
    summary: 'An admin setting up their phone: the secret and its QR code (the same one until confirmed).',
  }),
  'auth/second-factor/enrol': channel<SecondFactorEnrolled>()({
    request: z.strictObject({ code: totpCode }),
    access: 'second-factor',
    summary: 'Confirm the phone with a code it shows: saves the second factor, signs in, and answers new recovery codes once.',
  }),
  'auth/second-factor/cancel': channel<SessionInfo>()({
    request: empty,
    access: 'second-factor',
    summary: 'Leave the second sign-in step: back to the sign-in screen.',
  }),
  'users/reset-second-factor': channel<UserRecord>()({
    request: z.strictObject({ id }),
    access: ['admin'],
    summary:
      'Another admin lost their phone and recovery codes: clear their second factor and end their sessions; they set it up again at their next sign-in.',
  }),
};
