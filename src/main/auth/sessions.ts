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
  push<E extends EventName>(event: E, data: EventMap[E]): void;
}

export type Push = <E extends EventName>(event: E, data: EventMap[E]) => void;

export class SessionRegistry {
  readonly #sessions = new Map<string, Session>();

  constructor(private readonly now: () => number) {}

  open(peer: string, push: Push): Session {
    const session: Session = { id: randomUUID(), peer, userId: null, locked: false, lastActivityAt: this.now(), push };
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
