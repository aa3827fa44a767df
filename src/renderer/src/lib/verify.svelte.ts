import type { VerifyChanged } from '../../../shared/contract/verify';
import { on } from './client';

/**
 * Stock verification's pushes (issue 16): main sends `verify/changed` naming what changed (racks,
 * leases, the session, records, notices, items). Each screen part watches the counter of its kind
 * and asks again; `message` keeps the last words for the person (their claim was broken, a notice).
 */
export const verifyState = $state({
  racks: 0,
  leases: 0,
  session: 0,
  records: 0,
  notices: 0,
  items: 0,
  message: null as { text: string; at: number; what: VerifyChanged['what'] } | null,
});

export function noteVerifyChange(change: VerifyChanged): void {
  verifyState[change.what] += 1;
  if (change.message) verifyState.message = { text: change.message, at: Date.now(), what: change.what };
}

/** Starts following verification pushes while someone is signed in; returns the stop function. */
export function trackVerify(): () => void {
  const off = on('verify/changed', noteVerifyChange);
  return () => {
    off();
    verifyState.message = null;
  };
}
