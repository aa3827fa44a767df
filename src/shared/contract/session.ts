import { z } from 'zod';
import type { Role } from '../roles';
import { channel } from './define';
import { displayName, empty, password, secret, username } from './fields';

export interface SessionUser {
  id: number;
  username: string;
  displayName: string;
  role: Role;
}

export interface SessionInfo {
  /** No user exists yet: the renderer shows the first-run setup screen. */
  setupRequired: boolean;
  user: SessionUser | null;
  /** Signed in but idle-locked: only unlock, logout and status are allowed. */
  locked: boolean;
  station: { id: string; name: string; demo: boolean };
  idleLockMinutes: number;
  /** Why this window was signed out without asking (shift over, credentials changed), until the next sign-in. */
  signedOut: string | null;
  /**
   * An admin whose password was right and who still owes the second factor: `user` stays null
   * until then, and only the second-factor channels answer. Null otherwise.
   */
  secondFactor: SecondFactorStep | null;
}

/** Where a half-signed-in admin stands: type the code from the phone, or set the phone up first. */
export interface SecondFactorStep {
  stage: 'verify' | 'enrol';
  username: string;
  displayName: string;
  /** Enrolling because a recovery code was used ("I lost my phone"): the new phone replaces the old. */
  afterRecoveryCode: boolean;
}

export const sessionChannels = {
  'session/status': channel<SessionInfo>()({
    request: empty,
    access: 'public',
    whileLocked: true,
    summary: 'Who is signed in on this window, and whether first-run setup is needed.',
  }),
  'setup/create-admin': channel<SessionInfo>()({
    request: z.strictObject({ username, displayName, password }),
    access: 'public',
    summary: 'First run only: create the first admin and sign them in.',
  }),
  'auth/login': channel<SessionInfo>()({
    request: z.strictObject({ username, secret }),
    access: 'public',
    summary: 'Sign in with a password or PIN.',
  }),
  'auth/logout': channel<SessionInfo>()({
    request: empty,
    access: 'signed-in',
    whileLocked: true,
    summary: 'Sign out of this window.',
  }),
  'auth/unlock': channel<SessionInfo>()({
    request: z.strictObject({ secret }),
    access: 'signed-in',
    whileLocked: true,
    summary: 'Unlock an idle-locked session with the same user’s password or PIN.',
  }),
  'auth/activity': channel<null>()({
    request: empty,
    access: 'signed-in',
    summary: 'The person is using the window: postpone the idle lock.',
  }),
  'auth/change-password': channel<null>()({
    request: z.strictObject({ current: secret, next: password }),
    access: 'signed-in',
    summary: 'Change one’s own password.',
  }),
};
