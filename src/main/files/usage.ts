import fs from 'node:fs';
import path from 'node:path';
import type { DataFolderPart, DataFolderUsage } from '../../shared/contract/files';

const LABELS: Record<DataFolderPart, string> = {
  database: 'Database (with its write-ahead log)',
  backups: 'Database backups (daily, and before upgrades)',
  uploads: 'Uploads waiting to be imported',
  exports: 'Exports and rejected-row reports',
  logs: 'Logs',
  other: 'Other files',
};

/** Which part a file in the data folder belongs to, by where it is and what it is called. */
function partOf(relative: string, dbName: string): DataFolderPart {
  const [top] = relative.split(path.sep);
  if (top === 'uploads') return 'uploads';
  if (top === 'exports' || top === 'reports') return 'exports';
  if (top === 'logs') return 'logs';
  if (top === 'backups') return 'backups';
  if (top === dbName || top === `${dbName}-wal` || top === `${dbName}-shm`) return 'database';
  if (top.startsWith(`${dbName}.pre-migration-`)) return 'backups';
  return 'other';
}

/**
 * The data folder's size by part, and the free space on its disk. Read with async fs calls, a
 * file at a time, so a folder of thousands of files never holds up a scan.
 */
export async function dataFolderUsage(folder: string, dbName: string, keepDays: number): Promise<DataFolderUsage> {
  const sizes = new Map<DataFolderPart, { bytes: number; files: number }>();
  for (const part of Object.keys(LABELS) as DataFolderPart[]) sizes.set(part, { bytes: 0, files: 0 });
  const walk = async (dir: string): Promise<void> => {
    const entries = await fs.promises.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile()) {
        // A file deleted between the listing and here (a sweep, a rotated log) counts as nothing.
        const stat = await fs.promises.stat(full).catch(() => null);
        if (!stat) continue;
        const s = sizes.get(partOf(path.relative(folder, full), dbName))!;
        s.bytes += stat.size;
        s.files++;
      }
    }
  };
  await walk(folder);
  const fsStat = await fs.promises.statfs(folder).catch(() => null);
  const parts = [...sizes].map(([part, s]) => ({ part, label: LABELS[part], ...s }));
  return {
    folder,
    parts,
    totalBytes: parts.reduce((sum, p) => sum + p.bytes, 0),
    disk: fsStat ? { freeBytes: fsStat.bavail * fsStat.bsize, sizeBytes: fsStat.blocks * fsStat.bsize } : null,
    keepDays,
  };
}
