import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

export const RECOVERY_CODE_COUNT = 10;

/** No 0/o, 1/l/i: the codes are read off paper and typed. 31 symbols × 12 = ~59 random bits a code. */
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const LENGTH = 12;

/** `abcd-efgh-jkmn`. */
export function newRecoveryCode(): string {
  const chars = Array.from({ length: LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
  return chars.match(/.{4}/g)!.join('-');
}

/** As typed: any case, with or without the dashes or with spaces. */
export function normaliseRecoveryCode(input: string): string {
  return input.toLowerCase().replace(/[\s-]/g, '');
}

/**
 * `sha256$salt$hash`. A fast hash is enough here, unlike for passwords: the codes are random with
 * ~59 bits each, so there is no dictionary to try, and they only count after the password.
 */
export function hashRecoveryCode(code: string): string {
  const salt = randomBytes(16);
  return ['sha256', salt.toString('base64'), digest(salt, normaliseRecoveryCode(code)).toString('base64')].join('$');
}

export function recoveryCodeMatches(input: string, stored: string): boolean {
  const [kind, salt, hash] = stored.split('$');
  if (kind !== 'sha256' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = digest(Buffer.from(salt, 'base64'), normaliseRecoveryCode(input));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function digest(salt: Buffer, code: string): Buffer {
  return createHash('sha256').update(salt).update(code).digest();
}
