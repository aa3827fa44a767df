import { DomainError } from '../../shared/envelope';

/**
 * A full or failing disk, told apart from other faults: SQLite answers SQLITE_FULL when the
 * database or its WAL cannot grow (and SQLITE_IOERR_* when a write or sync fails), Node's fs
 * answers ENOSPC (EDQUOT for a quota). SQLite rolls the transaction back in every case, so
 * nothing half-written stays; what the person needs is to know it was not saved and why.
 */
export type StorageFault = 'full' | 'failing';

export function storageFault(error: unknown): StorageFault | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') return 'full';
  if (code.startsWith('SQLITE_IOERR')) return 'failing';
  return null;
}

/** What was not saved, in the words of the screen that asked: "this scan". */
const UNSAVED: Record<string, { what: string; resumes: string }> = {
  'bags/scan': { what: 'this scan', resumes: 'scanning resumes' },
  'bags/undo-last': { what: 'the undo', resumes: 'undo works again' },
};

/** The sentence a person at the station can act on, for a call that failed on the disk. */
export function diskFullMessage(fault: StorageFault, channel: string): string {
  const { what, resumes } = UNSAVED[channel] ?? { what: 'this change', resumes: 'Dockside saves again' };
  return fault === 'full'
    ? `The station's disk is full: ${what} was NOT saved. Tell IT; ${resumes} when space is freed.`
    : `The station could not write to its disk: ${what} was NOT saved. Tell IT: the disk may be full or failing.`;
}

/** Why a background job (an import, an export) stopped on the disk; what it saved before stays. */
export function jobStoppedByDiskMessage(fault: StorageFault, kind: string): string {
  const problem = fault === 'full' ? "The station's disk is full" : 'The station could not write to its disk';
  return `${problem}: the ${kind} stopped; what it had saved is kept. Tell IT, then run it again when space is freed.`;
}

/** A file write that hit a full disk, as the refusal a person reads; other errors pass through unchanged. */
export function refuseOnFullDisk(error: unknown, sentence: string): unknown {
  return storageFault(error) === 'full' ? new DomainError('disk_full', sentence) : error;
}
