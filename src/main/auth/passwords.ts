import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * scrypt from Node's crypto: a memory-hard KDF with no native dependency to build.
 * Defaults cost ~50–100 ms per hash on a station PC, which is the point.
 */
export interface KdfParams {
  log2N: number;
  r: number;
  p: number;
}

export const DEFAULT_KDF: KdfParams = { log2N: 15, r: 8, p: 1 };

const KEY_LENGTH = 32;

function scrypt(secret: string, salt: Buffer, params: KdfParams): Promise<Buffer> {
  const N = 2 ** params.log2N;
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

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [log2N, r, p] = parts.slice(1, 4).map(Number);
  if (![log2N, r, p].every((n) => Number.isInteger(n) && n > 0) || log2N > 20) return false;
  const salt = Buffer.from(parts[4], 'base64');
  const expected = Buffer.from(parts[5], 'base64');
  const actual = await scrypt(secret, salt, { log2N, r, p });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * A hash to verify against when the user name is unknown, so a wrong name costs as much
 * time as a wrong password and names cannot be probed by timing.
 */
export function decoyHash(params: KdfParams): Promise<string> {
  return hashSecret(randomBytes(12).toString('hex'), params);
}
