import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Secret, TOTP } from 'otpauth';
import { DomainError } from '../../shared/envelope';
import type { SecretStore } from '../credentials/store';
import { makeFolder, OWNER_ONLY_FILE, ownerOnlyFile } from '../files/owner-only';

/**
 * RFC 6238 time-based codes through otpauth, with the parameters every authenticator app
 * understands: SHA-1, 6 digits, 30-second steps. A code is taken for the step before and after
 * the station's own as well (±1), for phones and stations whose clocks differ a little.
 */
export const TOTP_PERIOD_S = 30;
export const TOTP_PERIOD_MS = TOTP_PERIOD_S * 1000;
const WINDOW = 1;

export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

function totp(secret: string, label = 'Dockside'): TOTP {
  return new TOTP({ issuer: 'Dockside', label, algorithm: 'SHA1', digits: 6, period: TOTP_PERIOD_S, secret: Secret.fromBase32(secret) });
}

/** What the QR code holds: `otpauth://totp/Dockside:chief%20(Dock%201)?secret=…&issuer=Dockside…`. */
export function totpUri(secret: string, label: string): string {
  return totp(secret, label).toString();
}

export function timeStep(now: number): number {
  return Math.floor(now / TOTP_PERIOD_MS);
}

/** The time step `code` was made for, when it is one of the steps around `now`; otherwise null. */
export function matchingStep(secret: string, code: string, now: number): number | null {
  const delta = totp(secret).validate({ token: code, timestamp: now, window: WINDOW });
  return delta === null ? null : timeStep(now) + delta;
}

/**
 * TOTP secrets must be readable by the station (to check codes), so they cannot be hashed. They
 * are kept in the database sealed with AES-256-GCM under a key held in the station's SecretStore
 * (Electron seals that with the OS keychain): a copied database file or backup alone does not
 * give away anyone's second factor. The user id is bound in as associated data, so a sealed
 * secret moved to another user's row does not open. If the key is lost, recovery codes (hashed in
 * the database) still work, and lead to a new enrolment.
 */
export class TotpSealer {
  static readonly KEY_NAME = 'auth.totp-key';

  /**
   * `keyFile`: where the key goes when the SecretStore refuses new values (Electron on Linux
   * without a keyring, see secretSealingFor). The admins must still be able to sign in there; the
   * key then sits in an owner-only file beside the database, so a copied database or backup alone
   * still gives no codes, though a copy of the whole data folder would.
   */
  constructor(
    private readonly secrets: SecretStore,
    private readonly keyFile: string | null = null,
  ) {}

  seal(secret: string, userId: number): string {
    const key = this.key(true)!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(`totp:${userId}`));
    const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), sealed.toString('base64')].join('.');
  }

  /** The secret, or null when the key is gone or the text was changed. */
  open(sealed: string, userId: number): string | null {
    const key = this.key(false);
    const [version, iv, tag, body] = sealed.split('.');
    if (!key || version !== 'v1' || !iv || !tag || !body) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
      decipher.setAAD(Buffer.from(`totp:${userId}`));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }

  private key(create: boolean): Buffer | null {
    const stored = this.secrets.get(TotpSealer.KEY_NAME) ?? this.readKeyFile();
    if (stored) return Buffer.from(stored, 'base64');
    if (!create) return null;
    const key = randomBytes(32);
    const refusal = this.secrets.refusal?.() ?? null;
    if (refusal === null) this.secrets.set(TotpSealer.KEY_NAME, key.toString('base64'));
    else if (this.keyFile) {
      makeFolder(path.dirname(this.keyFile));
      // 'wx': never replaces a key another call wrote meanwhile.
      fs.writeFileSync(this.keyFile, key.toString('base64'), { mode: OWNER_ONLY_FILE, flag: 'wx' });
      ownerOnlyFile(this.keyFile);
    } else throw new DomainError('unavailable', refusal);
    return key;
  }

  private readKeyFile(): string | null {
    if (!this.keyFile) return null;
    try {
      return fs.readFileSync(this.keyFile, 'utf8').trim() || null;
    } catch {
      return null;
    }
  }
}
