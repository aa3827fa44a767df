import type { ScanSource } from '../../shared/contract/bags';
import type { HandlerRegistry } from '../ipc/handlers';
import { actorFromUser } from '../ipc/actor';
import type { DockDoorService } from './dock-door';
import type { BagLookupService } from './lookup';

/** Hears of every scan whose row was committed, with when its call reached main (the dashboard's latency). */
export type ScanStored = (code: string, source: ScanSource, receivedAt: number) => void;

export function registerBagHandlers(r: HandlerRegistry, dockDoor: DockDoorService, lookup: BagLookupService, onStored?: ScanStored): void {
  const scanner = (user: { id: number; username: string } | null) => {
    if (!user) throw new Error('scan without a user');
    return { id: user.id, username: user.username };
  };
  r.add('bags/scan', (req, { session, user, receivedAt }) => {
    const outcome = dockDoor.scan(session, scanner(user), req);
    // Debounced repeats write no row: they are not a stored scan.
    if (outcome.scanId !== null) onStored?.(req.code, req.source, receivedAt);
    return outcome;
  })
    .add('bags/current', (_req, { session, user }) => dockDoor.current(session, scanner(user)))
    .add('bags/undo-last', (_req, { session, user }) => dockDoor.undoLast(session, scanner(user)))
    .add('bags/search', (req) => lookup.search(req))
    .add('bags/detail', (req) => lookup.detail(req.code))
    .add('bags/delete', (req, ctx) => lookup.deleteBag(req.code, req.reason, actorFromUser(ctx)));
}
