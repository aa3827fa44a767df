import type { z } from 'zod';
import type { Role } from '../roles';

/**
 * Who may call a channel. 'public' needs no session; 'signed-in' needs any role;
 * a role list names the roles allowed (admin is never implied); 'second-factor' needs a session
 * whose password was right and that waits for its second factor (and nothing else does).
 */
export type Access = 'public' | 'signed-in' | 'second-factor' | readonly Role[];

export interface ChannelSpec<Req extends z.ZodType = z.ZodType, Res = unknown> {
  request: Req;
  access: Access;
  /** One sentence for logs and docs. */
  summary: string;
  /** Callable while the session is idle-locked (unlock, logout, status). */
  whileLocked?: boolean;
  /** Type-only marker for the response; never read at run time. */
  readonly response?: Res;
}

/**
 * Declares a channel: `channel<Response>()({ request, access, summary })`.
 * The double call lets TypeScript infer the request schema while the response type is given.
 */
export function channel<Res>() {
  return <Req extends z.ZodType>(spec: Omit<ChannelSpec<Req, Res>, 'response'>): ChannelSpec<Req, Res> => spec;
}

type UnionToIntersection<U> = (U extends unknown ? (k: U) => void : never) extends (k: infer I) => void ? I : never;

/** Merges per-capability channel maps into one; a name declared twice is a start-up error. */
export function mergeChannels<const Parts extends readonly Record<string, ChannelSpec>[]>(...parts: Parts): UnionToIntersection<Parts[number]> {
  const merged: Record<string, ChannelSpec> = {};
  for (const part of parts) {
    for (const [name, spec] of Object.entries(part)) {
      if (name in merged) throw new Error(`IPC channel declared twice: ${name}`);
      merged[name] = spec;
    }
  }
  return merged as UnionToIntersection<Parts[number]>;
}
