import type { HandlerRegistry } from '../ipc/handlers';
import { actorFromUser } from '../ipc/actor';
import type { TripService } from './service';

export function registerTripHandlers(r: HandlerRegistry, trips: TripService): void {
  r.add('trips/list', (req) => trips.list(req))
    .add('trips/get', (req) => trips.view(req.tripId))
    .add('trips/orders', (req) => trips.orders(req))
    .add('trips/create', (req, ctx) => trips.create(req, actorFromUser(ctx)))
    .add('trips/update', (req, ctx) => {
      const { tripId, ...edit } = req;
      return trips.update(tripId, edit, actorFromUser(ctx));
    })
    .add('trips/delete', (req, ctx) => trips.delete(req.tripId, actorFromUser(ctx)))
    .add('trips/pack', (req, ctx) => trips.pack(req, actorFromUser(ctx)))
    .add('trips/unpack', (req, ctx) => trips.unpack(req.tripId, req.packId, actorFromUser(ctx)));
}
