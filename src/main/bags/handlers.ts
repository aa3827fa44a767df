import type { HandlerRegistry } from '../ipc/handlers';
import { actorFromUser } from '../ipc/actor';
import type { BagService } from './service';

export function registerBagHandlers(r: HandlerRegistry, bags: BagService): void {
  const scanner = (user: { id: number; username: string } | null) => {
    if (!user) throw new Error('scan without a user');
    return { id: user.id, username: user.username };
  };
  r.add('bags/scan', (req, { session, user }) => bags.scan(session, scanner(user), req))
    .add('bags/current', (_req, { session, user }) => bags.current(session, scanner(user)))
    .add('bags/undo-last', (_req, { session, user }) => bags.undoLast(session, scanner(user)))
    .add('bags/search', (req) => bags.search(req))
    .add('bags/detail', (req) => bags.detail(req.code))
    .add('bags/delete', (req, ctx) => bags.deleteBag(req.code, req.reason, actorFromUser(ctx)));
}
