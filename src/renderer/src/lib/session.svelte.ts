import type { SessionInfo } from '../../../shared/contract';
import { call, on, onConnection } from './client';

/** The signed-in state of this window; main pushes changes (idle lock, role change). */
class SessionState {
  info = $state<SessionInfo | null>(null);
  connected = $state(true);
  loadError = $state<string | null>(null);
  /**
   * An admin's new recovery codes, held only until they say they saved them: main answers them
   * once, at enrolment, and keeps hashes only.
   */
  recoveryCodes = $state<string[] | null>(null);

  async refresh(): Promise<void> {
    const r = await call('session/status', {});
    if (r.ok) {
      this.set(r.value);
      this.loadError = null;
    } else {
      this.loadError = r.error.message;
    }
  }

  set(info: SessionInfo): void {
    this.info = info;
    if (!info.user) this.recoveryCodes = null;
  }
}

export const session = new SessionState();

on('session/changed', (info) => session.set(info));
onConnection((connected) => {
  session.connected = connected;
  // A restarted host knows nothing of this window: ask again who we are.
  if (connected) void session.refresh();
});

/**
 * Tell main the person is here (a key, the pointer, the wheel, a scan), at most every 10 s, so the
 * idle lock waits. Only a person's input counts: main ignores polling when it decides who is idle.
 */
let lastActivitySent = 0;
export function reportActivity(): void {
  const info = session.info;
  if (!info?.user || info.locked) return;
  const now = Date.now();
  if (now - lastActivitySent < 10_000) return;
  lastActivitySent = now;
  void call('auth/activity', {}).then((r) => {
    if (!r.ok && r.error.code === 'locked') void session.refresh();
  });
}

/** Leaves an admin's second sign-in step (the code, or setting up the phone): back to the sign-in screen. */
export async function leaveSecondStep(): Promise<void> {
  const r = await call('auth/second-factor/cancel', {});
  if (r.ok) session.set(r.value);
  else void session.refresh();
}
