import type { loginThrottle } from '../db/schema';

export type ThrottleRow = typeof loginThrottle.$inferSelect;

/**
 * Per user name: five wrong tries, then a pause that doubles with each further wrong try, up to
 * 15 minutes. The count is forgotten a day after the last wrong try.
 */
export const THROTTLE = { freeFailures: 5, firstPauseMs: 30_000, maxPauseMs: 15 * 60_000, forgetAfterMs: 24 * 3600_000 };

export function pauseAfter(failures: number): number {
  if (failures < THROTTLE.freeFailures) return 0;
  return Math.min(THROTTLE.maxPauseMs, THROTTLE.firstPauseMs * 2 ** (failures - THROTTLE.freeFailures));
}

/**
 * The station's budget of wrong PINs, whichever user name they were typed for: the per-name
 * pause alone lets one PIN (1234) be tried against every user. A leaky bucket: each wrong PIN
 * fills one slot, one slot drains every windowMs / failures (45 s), and while all 20 are full
 * PIN sign-in pauses for the whole station; passwords still work. So at most 20 wrong PINs in
 * any 15 minutes plus one per 45 s after, and a quiet quarter of an hour empties it.
 */
export const STATION_PIN_BUDGET = { failures: 20, windowMs: 15 * 60_000 };

/** The budget's row in login_throttle. User names cannot contain ':', so no user name collides with it. */
export const STATION_PIN_KEY = 'station:pin';

const drainEveryMs = () => STATION_PIN_BUDGET.windowMs / STATION_PIN_BUDGET.failures;

/** A user name's row once this try is counted: tries are counted before the secret is checked. */
export function countTry(key: string, prev: ThrottleRow | undefined, now: number): ThrottleRow {
  const stale = prev !== undefined && now - prev.lastFailureAt > THROTTLE.forgetAfterMs;
  const failures = (prev && !stale ? prev.failures : 0) + 1;
  const pause = pauseAfter(failures);
  return { key, failures, lastFailureAt: now, lockedUntil: pause ? now + pause : 0 };
}

/**
 * The row after a right secret, from the row as it was before this try (the try itself is not a
 * failure). The count is halved, not cleared: a person's own sign-in between someone else's
 * guesses must not hand the guesser a fresh five. Null when nothing is left to keep.
 */
export function afterSuccess(prev: ThrottleRow | undefined, now: number): ThrottleRow | null {
  if (!prev || now - prev.lastFailureAt > THROTTLE.forgetAfterMs) return null;
  const failures = Math.floor(prev.failures / 2);
  return failures > 0 ? { ...prev, failures, lockedUntil: 0 } : null;
}

/** The budget's filled slots now, and the time the next slot drains from (`lastFailureAt` holds it). */
export function pinBudgetLevel(row: ThrottleRow | undefined, now: number): { level: number; since: number } {
  if (!row) return { level: 0, since: now };
  const drained = Math.max(0, Math.floor((now - row.lastFailureAt) / drainEveryMs()));
  const level = Math.max(0, row.failures - drained);
  return { level, since: level === 0 ? now : row.lastFailureAt + drained * drainEveryMs() };
}

/** How long PIN sign-in stays paused for the station; 0 while the budget has room. */
export function pinPauseLeft(row: ThrottleRow | undefined, now: number): number {
  const { level, since } = pinBudgetLevel(row, now);
  return level < STATION_PIN_BUDGET.failures ? 0 : since + drainEveryMs() - now;
}

/** The budget's row with `delta` slots filled (+1 for a PIN try, −1 to give back a right one's). */
export function fillPinBudget(row: ThrottleRow | undefined, delta: number, now: number): ThrottleRow {
  const { level, since } = pinBudgetLevel(row, now);
  const failures = Math.max(0, level + delta);
  const full = failures >= STATION_PIN_BUDGET.failures;
  return { key: STATION_PIN_KEY, failures, lastFailureAt: since, lockedUntil: full ? since + drainEveryMs() : 0 };
}
