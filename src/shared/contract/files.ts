import { channel } from './define';
import { empty } from './fields';

export type DataFolderPart = 'database' | 'backups' | 'uploads' | 'exports' | 'logs' | 'other';

/** What the station keeps on its disk, and how much room that disk has left. */
export interface DataFolderUsage {
  /** The data folder's path on this station. */
  folder: string;
  parts: { part: DataFolderPart; label: string; bytes: number; files: number }[];
  totalBytes: number;
  /** The disk the data folder is on; null where the system cannot say. */
  disk: { freeBytes: number; sizeBytes: number } | null;
  /** Exports and reports are deleted after this many days (Admin → Station). */
  keepDays: number;
}

export const filesChannels = {
  'files/usage': channel<DataFolderUsage>()({
    request: empty,
    access: ['admin'],
    summary: 'How much of the disk the data folder uses (database, uploads, exports and reports, logs) and how much is free.',
  }),
};
