import { z } from 'zod';
import { ROLES, type Role } from '../roles';

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

/** What a PIN looks like, also at sign-in. Passwords have 8+ characters: only an 8-digit secret can be either. */
export const PIN_SHAPE = /^\d{4,8}$/;

/**
 * A PIN the first guesses of anyone would hit: one digit repeated (0000), a run up or down the
 * keypad (1234, 4321, 7890), or a year (1900–2099, a birth year or this year).
 */
export function isTrivialPin(pin: string): boolean {
  const digits = [...pin].map(Number);
  const steps = new Set(digits.slice(1).map((d, i) => (d - digits[i] + 10) % 10));
  const oneStep = steps.size === 1 && [0, 1, 9].includes([...steps][0]);
  return oneStep || /^(19|20)\d\d$/.test(pin);
}

export const TRIVIAL_PIN_MESSAGE = 'Too easy to guess (one digit repeated, a run like 1234, or a year): choose another PIN';

/** Admins and billers reach people, settings and money: a 4-digit secret is not enough for them. */
export const PIN_ROLE: Role = 'dispatcher';
export const PIN_ROLE_MESSAGE = 'Only dispatchers sign in with a PIN: admins and billers use a password';

export const pin = z
  .string()
  .regex(PIN_SHAPE, 'PIN is 4 to 8 digits')
  .refine((p) => !PIN_SHAPE.test(p) || !isTrivialPin(p), TRIVIAL_PIN_MESSAGE)
  .meta({ examples: ['4071'] });

/** What a person types at login: a password or a station PIN. */
export const secret = z.string().min(1, 'Enter your password or PIN').max(256, 'Too long');

export const role = z.enum(ROLES, { message: `Role must be one of ${ROLES.join(', ')}` });

export const id = z.number().int().positive();

export const empty = z.strictObject({});
