import type { SecondFactorEnrolled, SecondFactorEnrolment, SessionInfo } from '../../src/shared/contract';
import type { Envelope } from '../../src/shared/envelope';
import { Secret, TOTP } from 'otpauth';
import { timeStep, TOTP_PERIOD_MS } from '../../src/main/auth/totp';
import type { Station } from '../../src/main/app/station';
import type { ManualClock } from './station';

type Invoke = (channel: string, payload: unknown) => Promise<Envelope<unknown>>;

function valueOf<T>(channel: string, r: Envelope<unknown>): T {
  if (!r.ok) throw new Error(`${channel} failed: ${r.error.code} ${r.error.message}`);
  return r.value as T;
}

/** The code an authenticator app shows at `timestamp`, computed with otpauth as a phone would (RFC 6238 defaults). */
export function totpCodeAt(secret: string, timestamp: number): string {
  return new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate({ timestamp });
}

/**
 * The code a phone shows for a time step the station has not taken yet: this step's, or the next
 * one's (the station takes ±1 step); when both were taken, the clock moves on a step first.
 */
export function nextCode(clock: ManualClock, secret: string, lastStep: number | null): string {
  const step = timeStep(clock.t);
  if (lastStep !== null && lastStep > step) clock.advance((lastStep - step) * TOTP_PERIOD_MS);
  const target = Math.max(timeStep(clock.t), lastStep === null ? -Infinity : lastStep + 1);
  return totpCodeAt(secret, target * TOTP_PERIOD_MS);
}

/** An admin's TOTP secret as the station keeps it, unsealed: what their phone holds. */
export function phoneSecretOf(station: Station, username: string): { secret: string; lastStep: number | null } {
  const row = station.database.sqlite.prepare('SELECT id, totp_secret, totp_last_step FROM users WHERE username = ?').get(username) as
    { id: number; totp_secret: string | null; totp_last_step: number | null } | undefined;
  const secret = row?.totp_secret ? station.auth.totpSealer.open(row.totp_secret, row.id) : null;
  if (!row || !secret) throw new Error(`${username} has no second factor set up`);
  return { secret, lastStep: row.totp_last_step };
}

/**
 * Finishes an admin's second sign-in step as their phone would: sets the phone up the first time
 * (answering the recovery codes too), or types its code. Anyone else's sign-in passes through.
 */
export async function passSecondFactor(
  t: { station: Station; clock: ManualClock },
  invoke: Invoke,
  info: SessionInfo,
): Promise<{ session: SessionInfo; recoveryCodes: string[] | null }> {
  const step = info.secondFactor;
  if (!step) return { session: info, recoveryCodes: null };
  if (step.stage === 'enrol') {
    const { secret } = valueOf<SecondFactorEnrolment>('auth/second-factor/enrolment', await invoke('auth/second-factor/enrolment', {}));
    const code = nextCode(t.clock, secret, null);
    return valueOf<SecondFactorEnrolled>('auth/second-factor/enrol', await invoke('auth/second-factor/enrol', { code }));
  }
  const { secret, lastStep } = phoneSecretOf(t.station, step.username);
  const code = nextCode(t.clock, secret, lastStep);
  return { session: valueOf<SessionInfo>('auth/second-factor', await invoke('auth/second-factor', { code })), recoveryCodes: null };
}
