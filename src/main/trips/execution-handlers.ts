import { actorFromUser } from '../ipc/actor';
import type { HandlerRegistry } from '../ipc/handlers';
import type { TripExecutor } from './execution';

export function registerTripExecutionHandlers(r: HandlerRegistry, executor: TripExecutor): void {
  r.add('trips/execute', (req, ctx) => executor.execute(req.tripId, actorFromUser(ctx)))
    .add('trips/retry', (req, ctx) => executor.retry(req.tripId, actorFromUser(ctx)))
    .add('trips/void-stop', (req, ctx) => executor.voidStop(req.tripId, req.stopNumber, actorFromUser(ctx)))
    .add('trips/execution', (req) => executor.view(req.tripId));
}
