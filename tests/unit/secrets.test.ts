import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSecretStore } from '../../src/main/credentials/store';
import { releaseAll } from '../support/cleanup';
import { tempDir } from '../support/station';

afterEach(releaseAll);

describe('file secret store', () => {
  it('keeps secrets in a file only the owner can read, across instances', () => {
    const file = path.join(tempDir(), 'secrets.json');
    const a = new FileSecretStore(file);
    a.set('odata.DD.password', 's3cret');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(new FileSecretStore(file).get('odata.DD.password')).toBe('s3cret');
    a.delete('odata.DD.password');
    expect(new FileSecretStore(file).names()).toEqual([]);
  });

  it('narrows a file someone made readable to others', () => {
    const file = path.join(tempDir(), 'secrets.json');
    new FileSecretStore(file).set('x', 'y');
    fs.chmodSync(file, 0o644);
    expect(new FileSecretStore(file).get('x')).toBe('y');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('stores sealed values when given a sealer (safeStorage in Electron)', () => {
    const file = path.join(tempDir(), 'secrets.json');
    const sealer = { seal: (s: string) => Buffer.from(s).toString('base64'), open: (s: string) => Buffer.from(s, 'base64').toString() };
    new FileSecretStore(file, sealer).set('k', 'value');
    expect(fs.readFileSync(file, 'utf8')).not.toContain('value');
    expect(new FileSecretStore(file, sealer).get('k')).toBe('value');
  });
});
