import fs from 'node:fs';
import path from 'node:path';
import { DomainError } from '../../shared/envelope';
import type { SecretSealing } from '../security/shell';
import { makeFolder, ownerOnlyFile, OWNER_ONLY_FILE } from '../files/owner-only';

/**
 * Upstream credentials. The Electron shell backs this with safeStorage (OS keychain encryption);
 * the browser host with a file only the station's user can read (0600). Values never go to the
 * renderer or a log; callers get "set / not set".
 */
export interface SecretStore {
  get(name: string): string | null;
  set(name: string, value: string): void;
  delete(name: string): void;
  names(): string[];
  /** Why new values are refused (no safe way to keep them on this station), or null. */
  refusal?(): string | null;
}

/** Encrypts values at rest (Electron safeStorage) or leaves them plain (file store). */
export interface Sealer {
  seal(plain: string): string;
  open(sealed: string): string;
}

/**
 * Sealing refused (Electron on a desktop without a keyring): nothing new is written, clearing
 * still works, and values saved before are read with `open` so the station keeps syncing while
 * the admin is told (see secretSealingFor in security/shell.ts).
 */
export interface RefusedSealer {
  /** What the admin is told on Admin → Sync. */
  problem: string;
  /** The answer to saving a credential. */
  notSaved: string;
  open(sealed: string): string;
}

const plain: Sealer = { seal: (s) => s, open: (s) => s };

/** Electron's safeStorage, as much of it as sealing needs. */
export interface Encryptor {
  encryptString(plain: string): Buffer;
  decryptString(sealed: Buffer): string;
}

/** The sealer the Electron shell gives its store, from the decision secretSealingFor made. */
export function sealerFor(sealing: SecretSealing, crypt: Encryptor): Sealer | RefusedSealer {
  const open = (s: string) => crypt.decryptString(Buffer.from(s, 'base64'));
  if (sealing.ok) return { seal: (s) => crypt.encryptString(s).toString('base64'), open };
  return { problem: sealing.problem, notSaved: sealing.notSaved, open: sealing.existing === 'sealed' ? open : plain.open };
}

export class FileSecretStore implements SecretStore {
  #cache: Record<string, string> | null = null;

  constructor(
    private readonly file: string,
    private readonly sealer: Sealer | RefusedSealer = plain,
  ) {}

  private load(): Record<string, string> {
    if (this.#cache) return this.#cache;
    if (!fs.existsSync(this.file)) return (this.#cache = {});
    ownerOnlyFile(this.file); // someone widened it: narrow again
    return (this.#cache = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Record<string, string>);
  }

  private save(all: Record<string, string>): void {
    makeFolder(path.dirname(this.file));
    const tmp = `${this.file}.tmp`;
    // A stale temp file would keep its own mode through the write: start from a new one.
    fs.rmSync(tmp, { force: true });
    fs.writeFileSync(tmp, JSON.stringify(all), { mode: OWNER_ONLY_FILE, flag: 'wx' });
    fs.renameSync(tmp, this.file); // whole file or nothing
    this.#cache = all;
  }

  get(name: string): string | null {
    const v = this.load()[name];
    return v === undefined ? null : this.sealer.open(v);
  }

  set(name: string, value: string): void {
    if ('notSaved' in this.sealer) throw new DomainError('unavailable', this.sealer.notSaved);
    this.save({ ...this.load(), [name]: this.sealer.seal(value) });
  }

  delete(name: string): void {
    const { [name]: _gone, ...rest } = this.load();
    this.save(rest);
  }

  names(): string[] {
    return Object.keys(this.load());
  }

  refusal(): string | null {
    return 'problem' in this.sealer ? this.sealer.problem : null;
  }
}
