import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * scrypt from Node's crypto: a memory-hard KDF with no native dependency to build.
 * Defaults cost a few hundred ms per hash on a station PC, which is the point.
 */
export interface KdfParams {
  log2N: number;
  r: number;
  p: number;
}

/** Passwords: N = 2^17, r = 8 (128 MiB, OWASP's scrypt minimum). Older hashes still verify and are rehashed at sign-in. */
export const DEFAULT_KDF: KdfParams = { log2N: 17, r: 8, p: 1 };

/**
 * PINs stay at 2^15. A PIN has at most 10^8 values, so no cost saves it once the database is
 * stolen (10^4 four-digit PINs at 2^17 is an hour's work); what protects it is the online
 * throttle (per user, per connection, station-wide budget). The cheaper hash keeps the dock
 * door's sign-in quick and bounds the memory a burst of parallel PIN tries can take.
 */
export const PIN_KDF: KdfParams = { log2N: 15, r: 8, p: 1 };

/** The cheaper of two costs: a PIN never costs more than the station's passwords (tests run both cheap). */
export function cheaperKdf(a: KdfParams, b: KdfParams): KdfParams {
  return kdfCost(a) <= kdfCost(b) ? a : b;
}

const kdfCost = (k: KdfParams) => 2 ** k.log2N * k.r * k.p;

const KEY_LENGTH = 32;

function scrypt(secret: string, salt: Buffer, params: KdfParams): Promise<Buffer> {
  const N = 2 ** params.log2N;
  // scrypt needs 128·N·r bytes (128 MiB at 2^17, r 8); Node refuses above maxmem (default 32 MiB), so allow twice that.
  const options: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 256 * N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) =>
    scryptCb(secret.normalize('NFKC'), salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** `scrypt$log2N$r$p$salt$hash`, so the cost can be raised later without breaking old hashes. */
export async function hashSecret(secret: string, params: KdfParams = DEFAULT_KDF): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(secret, salt, params);
  return ['scrypt', params.log2N, params.r, params.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** The cost a stored hash was made with, or null for a malformed one. */
export function storedKdf(stored: string): KdfParams | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [log2N, r, p] = parts.slice(1, 4).map(Number);
  if (![log2N, r, p].every((n) => Number.isInteger(n) && n > 0) || log2N > 20) return null;
  return { log2N, r, p };
}

/** A hash made with less than `target` (an older default): rehash it when the secret is next known. */
export function needsRehash(stored: string, target: KdfParams): boolean {
  const params = storedKdf(stored);
  return params !== null && (params.log2N < target.log2N || params.r < target.r || params.p < target.p);
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const params = storedKdf(stored);
  if (!params) return false;
  const parts = stored.split('$');
  const salt = Buffer.from(parts[4], 'base64');
  const expected = Buffer.from(parts[5], 'base64');
  const actual = await scrypt(secret, salt, params);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * A hash to verify against when the user name is unknown, so a wrong name costs as much
 * time as a wrong password and names cannot be probed by timing.
 */
export function decoyHash(params: KdfParams): Promise<string> {
  return hashSecret(randomBytes(12).toString('hex'), params);
}
