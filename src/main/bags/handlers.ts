import type { HandlerRegistry } from '../ipc/handlers';
import { actorFromUser } from '../ipc/actor';
import type { DockDoorService } from './dock-door';
import type { BagLookupService } from './lookup';

export function registerBagHandlers(r: HandlerRegistry, dockDoor: DockDoorService, lookup: BagLookupService): void {
  const scanner = (user: { id: number; username: string } | null) => {
    if (!user) throw new Error('scan without a user');
    return { id: user.id, username: user.username };
  };
  r.add('bags/scan', (req, { session, user }) => dockDoor.scan(session, scanner(user), req))
    .add('bags/current', (_req, { session, user }) => dockDoor.current(session, scanner(user)))
    .add('bags/undo-last', (_req, { session, user }) => dockDoor.undoLast(session, scanner(user)))
    .add('bags/search', (req) => lookup.search(req))
    .add('bags/detail', (req) => lookup.detail(req.code))
    .add('bags/delete', (req, ctx) => lookup.deleteBag(req.code, req.reason, actorFromUser(ctx)));
}
