import fs from 'node:fs';
import path from 'node:path';

/**
 * The data folder holds the database, uploads, exports, reports, logs and upstream credentials:
 * only the station's own OS user may read it. Folders are 0700 and files that hold data 0600.
 * mkdir's and open's modes pass through the umask, and a folder made by an older version (or by
 * hand) keeps whatever it had, so modes are set with chmod, and only ever narrowed.
 */
export const OWNER_ONLY_FOLDER = 0o700;
export const OWNER_ONLY_FILE = 0o600;

/** The folders a station keeps in its data folder, made at start so none is ever made looser later. */
export const DATA_SUBFOLDERS = ['uploads', 'exports', 'reports', 'tmp', 'logs'] as const;

/**
 * Makes a folder of the station's own (the data folder, or one in it) if needed, and takes group
 * and others' access away from it.
 */
export function ownerOnlyFolder(dir: string): void {
  makeFolder(dir);
  narrow(dir, OWNER_ONLY_FOLDER);
}

/**
 * Makes `dir` and any missing parent owner-only, but changes no folder that is already there: for
 * a file's folder that may not be the station's (a database or secrets path given by a caller).
 */
export function makeFolder(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: OWNER_ONLY_FOLDER });
}

/** Takes group and others' access away from an existing file; a missing one is left missing. */
export function ownerOnlyFile(file: string): void {
  narrow(file, OWNER_ONLY_FILE);
}

/** The data folder and every folder the station keeps in it, owner-only. */
export function ownerOnlyDataFolder(dataDir: string): void {
  ownerOnlyFolder(dataDir);
  for (const sub of DATA_SUBFOLDERS) ownerOnlyFolder(path.join(dataDir, sub));
}

function narrow(target: string, wanted: number): void {
  // Windows has no POSIX modes: there the folder's ACLs (the user's profile) decide.
  if (process.platform === 'win32') return;
  let current: number;
  try {
    current = fs.statSync(target).mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (current & ~wanted) fs.chmodSync(target, current & wanted);
}
