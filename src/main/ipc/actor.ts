import type { AuditActor } from '../audit/record';
import type { CallContext } from './handlers';

/** The audit actor of a signed-in call; the router guarantees `user` on non-public channels. */
export function actorFromUser(ctx: CallContext): AuditActor {
  if (!ctx.user) throw new Error('actorFromUser called on a call without a user');
  return { userId: ctx.user.id, username: ctx.user.username };
}
