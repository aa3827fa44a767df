import { randomUUID } from 'node:crypto';
import type { EventMap, EventName } from '../../shared/events';

/**
 * One per window (Electron webContents) or per WebSocket connection. Holds only ids and flags;
 * the user's role is read from the database on every call so a change applies at once.
 */
export interface Session {
  readonly id: string;
  /** Where the session comes from, for logs and audit: 'ws 127.0.0.1:51234', 'electron 3'. */
  readonly peer: string;
  userId: number | null;
  locked: boolean;
  lastActivityAt: number;
  /** When this person signed in: the shift length counts from here, unlocking does not restart it. */
  signedInAt: number;
  /** Why main signed this window out without being asked; shown on the sign-in screen until the next sign-in. */
  signedOut: string | null;
  push<E extends EventName>(event: E, data: EventMap[E]): void;
}

export type Push = <E extends EventName>(event: E, data: EventMap[E]) => void;

export class SessionRegistry {
  readonly #sessions = new Map<string, Session>();

  constructor(private readonly now: () => number) {}

  open(peer: string, push: Push): Session {
    const now = this.now();
    const session: Session = { id: randomUUID(), peer, userId: null, locked: false, lastActivityAt: now, signedInAt: now, signedOut: null, push };
    this.#sessions.set(session.id, session);
    return session;
  }

  close(session: Session): void {
    this.#sessions.delete(session.id);
  }

  forUser(userId: number): Session[] {
    return [...this.#sessions.values()].filter((s) => s.userId === userId);
  }

  all(): Session[] {
    return [...this.#sessions.values()];
  }

  /** Sessions signed in longer than `maxAgeMs`, locked or not. */
  olderThan(maxAgeMs: number): Session[] {
    const cutoff = this.now() - maxAgeMs;
    return [...this.#sessions.values()].filter((s) => s.userId !== null && s.signedInAt <= cutoff);
  }

  /** Sessions signed in, unlocked and idle longer than `idleMs`; marks them locked. */
  lockIdle(idleMs: number): Session[] {
    const cutoff = this.now() - idleMs;
    const locked: Session[] = [];
    for (const s of this.#sessions.values()) {
      if (s.userId !== null && !s.locked && s.lastActivityAt <= cutoff) {
        s.locked = true;
        locked.push(s);
      }
    }
    return locked;
  }
}
