export const DAY_MS = 24 * 60 * 60_000;

/** An upload nobody imported (only previewed, or half sent) is deleted this long after it began. */
export const UPLOAD_ABANDONED_MS = DAY_MS;

/** How often the files sweep runs while the station is up (it also runs at start). */
export const FILES_SWEEP_EVERY_MS = 60 * 60_000;

const WHAT = {
  export: { gone: 'This export was deleted', kept: 'exports', again: 'Export again to get a new copy.' },
  report: { gone: 'The rejected rows of this import were deleted', kept: 'reports', again: 'Preview the file again to see them.' },
};

/**
 * Why a generated file is gone, when it is gone because it expired: said in words, with the rule
 * and where it is set. Null when the file should still be there (then it is an ordinary "not found").
 */
export function expiredFileMessage(kind: 'export' | 'report', finishedAt: number | null, keepDays: number, now: number): string | null {
  if (finishedAt === null || now - finishedAt < keepDays * DAY_MS) return null;
  const w = WHAT[kind];
  const days = keepDays === 1 ? '1 day' : `${keepDays} days`;
  return `${w.gone}: ${w.kept} are kept ${days} (Admin → Station). ${w.again}`;
}
