import { z } from 'zod';
import type { Role } from '../roles';
import { channel } from './define';
import { displayName, empty, id, password, pin, role, username } from './fields';

export interface UserRecord {
  id: number;
  username: string;
  displayName: string;
  role: Role;
  disabled: boolean;
  hasPassword: boolean;
  hasPin: boolean;
  createdAt: number;
  lastLoginAt: number | null;
  /** When this person set up their second factor (admins need one); null until they do, and after a reset. */
  secondFactorSince: number | null;
}

const credentialsGiven = (v: { password?: string; pin?: string }) => v.password !== undefined || v.pin !== undefined;
const credentialsMessage = { message: 'Give a password, a PIN, or both', path: ['password'] };

export const userChannels = {
  'users/list': channel<UserRecord[]>()({
    request: empty,
    access: ['admin'],
    summary: 'All users, disabled ones included.',
  }),
  'users/create': channel<UserRecord>()({
    request: z
      .strictObject({ username, displayName, role, password: password.optional(), pin: pin.optional() })
      .refine(credentialsGiven, credentialsMessage),
    access: ['admin'],
    summary: 'Create a user with a role and a password and/or PIN (PINs for dispatchers only).',
  }),
  'users/update': channel<UserRecord>()({
    request: z.strictObject({
      id,
      displayName: displayName.optional(),
      role: role.optional(),
      disabled: z.boolean().optional(),
    }),
    access: ['admin'],
    summary: 'Rename, change role, disable or re-enable a user.',
  }),
  'users/reset-credentials': channel<UserRecord>()({
    request: z.strictObject({ id, password: password.optional(), pin: pin.optional() }).refine(credentialsGiven, credentialsMessage),
    access: ['admin'],
    summary: 'Set a new password and/or PIN for a user; ends their open sessions and clears their sign-in pause.',
  }),
};
