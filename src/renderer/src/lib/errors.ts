import type { AppError } from '../../../shared/envelope';

/** Field messages from a validation answer, keyed by the first path segment. */
export function fieldErrors(error: AppError | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of error?.issues ?? []) {
    const key = issue.path.split('.')[0] || '_';
    out[key] ??= issue.message;
  }
  return out;
}

/**
 * The banner above a form: for a validation answer the fields carry the detail, so the banner
 * only points at them; other errors (wrong password, conflict, offline) are shown as main wrote them.
 */
export function formMessage(error: AppError | null): string | null {
  if (!error) return null;
  const count = error.issues?.length ?? 0;
  if (error.code === 'invalid' && count > 0) return count === 1 ? 'Check the field marked in red.' : `Check the ${count} fields marked in red.`;
  return error.message;
}
