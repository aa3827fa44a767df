import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSecretStore } from '../../src/main/credentials/store';
import { openDatabase } from '../../src/main/db/open';
import { createLogger, silentLogger } from '../../src/main/platform/logger';
import { releaseAll } from '../support/cleanup';
import { bagRows, csv, importFile } from '../support/imports';
import { exportFile } from '../support/exports';
import { makeStation, MIGRATIONS_DIR, tempDir, withAdmin } from '../support/station';

afterEach(releaseAll);

const mode = (p: string) => fs.statSync(p).mode & 0o777;
const FOLDERS = ['', 'uploads', 'exports', 'reports', 'tmp'];
const DB_FILES = ['dockside.sqlite', 'dockside.sqlite-wal', 'dockside.sqlite-shm'];

/** Runs `body` under the loosest umask, so only the modes the station asks for count. */
async function withUmask<T>(umask: number, body: () => Promise<T>): Promise<T> {
  const before = process.umask(umask);
  try {
    return await body();
  } finally {
    process.umask(before);
  }
}

describe.skipIf(process.platform === 'win32')('the data folder is the station user’s alone', () => {
  it('a fresh data folder and its subfolders are made 0700, the database files 0600', async () =>
    withUmask(0, async () => {
      const dataDir = path.join(tempDir(), 'station');
      await makeStation({ dataDir });
      for (const f of FOLDERS) expect(mode(path.join(dataDir, f)), `folder ${f || '.'}`).toBe(0o700);
      for (const f of DB_FILES) expect(mode(path.join(dataDir, f)), f).toBe(0o600);
    }));

  it('an existing data folder left 0755, with 0755 subfolders and 0644 database files, is narrowed at start', async () => {
    const dataDir = path.join(tempDir(), 'station');
    const first = await makeStation({ dataDir });
    await first.close();
    for (const f of FOLDERS) fs.chmodSync(path.join(dataDir, f), 0o755);
    for (const f of DB_FILES) if (fs.existsSync(path.join(dataDir, f))) fs.chmodSync(path.join(dataDir, f), 0o644);
    await makeStation({ dataDir });
    for (const f of FOLDERS) expect(mode(path.join(dataDir, f)), `folder ${f || '.'}`).toBe(0o700);
    for (const f of DB_FILES) expect(mode(path.join(dataDir, f)), f).toBe(0o600);
  });

  it('uploads, exports and reports made while running stay in 0700 folders', async () =>
    withUmask(0, async () => {
      const dataDir = path.join(tempDir(), 'station');
      const t = await withAdmin({ dataDir });
      await importFile(t.admin, 'rows.csv', csv([...bagRows(1, 2), ['', '']]));
      await exportFile(t.admin, 'bags', 'csv');
      for (const f of FOLDERS) expect(mode(path.join(dataDir, f)), `folder ${f || '.'}`).toBe(0o700);
    }));

  it('the log folder is made 0700, and its data folder too when the log makes it first', async () =>
    withUmask(0, async () => {
      const dataDir = path.join(tempDir(), 'station');
      const log = await createLogger({ dir: path.join(dataDir, 'logs') });
      await log.close();
      expect(mode(dataDir)).toBe(0o700);
      expect(mode(path.join(dataDir, 'logs'))).toBe(0o700);
    }));

  it('the secrets file is 0600 even where a stale temp file was 0644', async () =>
    withUmask(0, async () => {
      const file = path.join(tempDir(), 'secrets.json');
      fs.writeFileSync(`${file}.tmp`, '{}', { mode: 0o644 });
      new FileSecretStore(file).set('erp.DD.password', 's3cret');
      expect(mode(file)).toBe(0o600);
    }));

  it('a station’s secrets file is 0600 in its 0700 data folder', async () =>
    withUmask(0, async () => {
      const dataDir = path.join(tempDir(), 'station');
      const t = await makeStation({ dataDir });
      t.station.secrets.set('erp.DD.password', 's3cret');
      expect(mode(path.join(dataDir, 'secrets.json'))).toBe(0o600);
      expect(mode(dataDir)).toBe(0o700);
    }));

  it('a database path given in a shared folder leaves that folder as it was', () => {
    const shared = tempDir();
    fs.chmodSync(shared, 0o755);
    openDatabase({ path: path.join(shared, 'other.sqlite'), migrationsDir: MIGRATIONS_DIR, logger: silentLogger }).close();
    expect(mode(shared)).toBe(0o755);
    expect(mode(path.join(shared, 'other.sqlite'))).toBe(0o600);
  });
});
