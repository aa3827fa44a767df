import type { z } from 'zod';
import { contract, type ChannelSpec } from '../../shared/contract';
import type { SessionUser } from '../../shared/contract/session';
import { DomainError, type AppError, type Envelope, type FieldIssue } from '../../shared/envelope';
import { ROLE_LABELS } from '../../shared/roles';
import { diskFullMessage, storageFault } from '../platform/disk-full';
import type { Logger } from '../platform/logger';
import type { AuthService } from '../auth/service';
import type { Session } from '../auth/sessions';
import type { HandlerRegistry } from './handlers';

export interface Router {
  /** Transport-free: Electron's ipcMain and the WebSocket host both call this. */
  handle(session: Session, channel: unknown, payload: unknown): Promise<Envelope<unknown>>;
}

export interface RouterDeps {
  handlers: HandlerRegistry;
  auth: AuthService;
  log: Logger;
  /** Calls slower than this are logged as slow. */
  slowCallMs?: number;
  /** Test host only: makes chosen calls fail as an internal error would (see host/test-control). */
  injectedFailures?: InjectedFailures;
  /** A call answered ok: the dashboard hears of the ones that change today's figures. */
  onAnswered?: (channel: string) => void;
}

/**
 * Test-only: the next `count` calls of a channel throw inside the router, as a broken database
 * would — or, given `error`, as that error (SQLite's own SQLITE_FULL for a full disk).
 */
export class InjectedFailures {
  readonly #pending = new Map<string, { count: number; error?: () => Error }>();

  failNext(channel: string, count: number, error?: () => Error): void {
    const n = this.#pending.get(channel)?.count ?? 0;
    this.#pending.set(channel, { count: n + count, error });
  }

  /** Ends a channel's pending failures (a "full disk" that got space back). */
  clear(channel: string): void {
    this.#pending.delete(channel);
  }

  take(channel: string): Error | null {
    const p = this.#pending.get(channel);
    if (!p || p.count <= 0) return null;
    p.count -= 1;
    return p.error?.() ?? new Error(`injected failure for ${channel} (test host)`);
  }
}

const fail = (error: AppError): Envelope<never> => ({ ok: false, error });

export function toFieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

function invalid(error: z.ZodError): AppError {
  const issues = toFieldIssues(error);
  const first = issues[0];
  const where = first?.path ? `${first.path}: ` : '';
  return { code: 'invalid', message: `Invalid request — ${where}${first?.message ?? 'not accepted'}`, issues };
}

function rolesText(roles: readonly string[]): string {
  return roles.map((r) => ROLE_LABELS[r as keyof typeof ROLE_LABELS] ?? r).join(' or ');
}

export function createRouter(deps: RouterDeps): Router {
  const handlers = deps.handlers.complete();
  const log = deps.log.child({ module: 'ipc' });
  const slowMs = deps.slowCallMs ?? 200;

  /** Access check before the payload is even parsed: unauthorised callers learn nothing about schemas. */
  function authorise(session: Session, name: string, spec: ChannelSpec): SessionUser | null | AppError {
    // The timer runs every few seconds; checking here too closes the gap between its ticks
    // (a shift that ended signs the session out, locked or not; an idle one locks).
    if (session.userId !== null) deps.auth.lockIdleSessions();
    if (spec.access === 'public') {
      const row = session.userId === null ? undefined : deps.auth.userById(session.userId);
      return row && !row.disabled ? { id: row.id, username: row.username, displayName: row.displayName, role: row.role } : null;
    }
    // A window half signed in (password right, second factor owed) reaches these channels and no others.
    if (spec.access === 'second-factor') return deps.auth.secondFactor.authorise(session);
    if (session.userId === null) return { code: 'unauthenticated', message: session.signedOut ?? 'Sign in first' };
    const row = deps.auth.userById(session.userId);
    if (!row || row.disabled) {
      session.userId = null;
      session.locked = false;
      return { code: 'unauthenticated', message: 'Your account was disabled or removed. Sign in again.' };
    }
    const owed = deps.auth.secondFactor.demand(session, row);
    if (owed) return owed;
    if (session.locked && !spec.whileLocked) {
      return { code: 'locked', message: 'The screen is locked. Unlock it with your password or PIN.' };
    }
    if (spec.access !== 'signed-in' && !spec.access.includes(row.role)) {
      log.warn({ channel: name, userId: row.id, role: row.role, peer: session.peer }, 'forbidden call');
      return { code: 'forbidden', message: `Only ${rolesText(spec.access)} may do this (you are ${ROLE_LABELS[row.role]})` };
    }
    return { id: row.id, username: row.username, displayName: row.displayName, role: row.role };
  }

  return {
    async handle(session, channel, payload) {
      if (typeof channel !== 'string' || !Object.hasOwn(contract, channel)) {
        log.warn({ channel: String(channel).slice(0, 80), peer: session.peer }, 'unknown channel');
        return fail({ code: 'unknown_channel', message: `Unknown operation: ${String(channel).slice(0, 80)}` });
      }
      const spec = (contract as Record<string, ChannelSpec>)[channel];
      const started = performance.now();
      // Everything from here runs inside the try: a SQLite error while checking the session is
      // an 'internal' answer, never an unhandled rejection that leaves a dock door waiting.
      try {
        const injected = deps.injectedFailures?.take(channel);
        if (injected) throw injected;
        const user = authorise(session, channel, spec);
        if (user && 'code' in user) return fail(user);

        const parsed = spec.request.safeParse(payload);
        if (!parsed.success) {
          // Issue paths only: values may be passwords.
          log.info({ channel, issues: parsed.error.issues.map((i) => i.path.join('.')) }, 'invalid payload');
          return fail(invalid(parsed.error));
        }
        const value = await handlers.get(channel)!(parsed.data, { session, user, receivedAt: started });
        deps.onAnswered?.(channel);
        return { ok: true, value };
      } catch (error) {
        if (error instanceof DomainError) return fail({ code: error.code, message: error.message, ...error.extra });
        // A full disk is not a bug: the person is told nothing was saved and whom to tell.
        const fault = storageFault(error);
        if (fault) {
          log.error({ channel, err: error, peer: session.peer }, fault === 'full' ? 'disk full' : 'disk write failed');
          return fail({ code: 'disk_full', message: diskFullMessage(fault, channel) });
        }
        log.error({ channel, err: error, peer: session.peer }, 'handler failed');
        return fail({ code: 'internal', message: `Something went wrong in “${channel}”. It has been logged.` });
      } finally {
        const ms = performance.now() - started;
        if (ms > slowMs) log.warn({ channel, ms: Math.round(ms) }, 'slow call');
      }
    },
  };
}
