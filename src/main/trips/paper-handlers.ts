import { actorFromUser } from '../ipc/actor';
import type { HandlerRegistry } from '../ipc/handlers';
import type { TripPaper } from './paper';

export function registerTripPaperHandlers(r: HandlerRegistry, paper: TripPaper): void {
  r.add('trips/manifest-pdf', (req) => paper.pdf(req.tripId)).add('trips/print-manifest', (req, ctx) => paper.print(req.tripId, actorFromUser(ctx)));
}
