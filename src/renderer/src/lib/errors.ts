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
