import { z } from 'zod';
import { ROLES } from '../roles';

/**
 * Pattern fields carry an example: the contract fuzz test builds valid payloads from them.
 */
/** Field schemas shared by several capabilities; messages are written for a person. */
export const username = z
  .string()
  .trim()
  .min(2, 'User name needs at least 2 characters')
  .max(32, 'User name can have at most 32 characters')
  .regex(/^[A-Za-z0-9._-]+$/, 'User name may use letters, digits, dot, dash and underscore')
  .meta({ examples: ['dock1'] })
  .transform((s) => s.toLowerCase());

export const displayName = z.string().trim().min(1, 'Name is required').max(64, 'Name can have at most 64 characters');

export const password = z.string().min(8, 'Password needs at least 8 characters').max(256, 'Password can have at most 256 characters');

export const pin = z
  .string()
  .regex(/^\d{4,8}$/, 'PIN is 4 to 8 digits')
  .meta({ examples: ['1234'] });

/** What a person types at login: a password or a station PIN. */
export const secret = z.string().min(1, 'Enter your password or PIN').max(256, 'Too long');

export const role = z.enum(ROLES, { message: `Role must be one of ${ROLES.join(', ')}` });

export const id = z.number().int().positive();

export const empty = z.strictObject({});
