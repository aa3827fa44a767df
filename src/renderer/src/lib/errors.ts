import type { AppError } from '../../../shared/envelope';
import type { Message } from './Notice.svelte';

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
  // Fields, not issues: a field can break two rules ("too short" and "letters only") and shows one.
  const count = Object.keys(fieldErrors(error)).length;
  if (error.code === 'invalid' && count > 0) return count === 1 ? 'Check the field marked in red.' : `Check the ${count} fields marked in red.`;
  return plainMessage(error);
}

/**
 * An error in words for the person at the station. Main's 'internal' answer names the channel
 * that failed ("bags/scan"), which helps whoever reads the log and means nothing at a dock door.
 */
export function plainMessage(error: AppError): string {
  return error.code === 'internal' ? 'The station had a problem and has logged it. Try again.' : error.message;
}

/** The call never reached a decision (a fault in main, a lost connection): trying again may work. */
export function isFault(error: AppError): boolean {
  return error.code === 'internal' || error.code === 'disconnected';
}

/** What went wrong, for a screen without fields to mark: the first field's problem, if any. */
export function reason(error: AppError): string {
  return error.issues?.[0]?.message ?? plainMessage(error);
}

/** A refusal as the red Notice. */
export function failed(error: AppError): Message {
  return { ok: false, text: reason(error) };
}
