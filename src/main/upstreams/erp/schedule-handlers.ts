import type { HandlerRegistry } from '../../ipc/handlers';
import { actorFromUser } from '../../ipc/actor';
import type { PrewarmScheduler } from '../prewarm-schedule';

export function registerErpScheduleHandlers(r: HandlerRegistry, scheduler: PrewarmScheduler): void {
  r.add('erp-schedule/get', () => scheduler.view())
    .add('erp-schedule/set', (req, ctx) => scheduler.set(req.org, { times: req.times, timeZone: req.timeZone }, actorFromUser(ctx)))
    .add('erp-schedule/run-now', (req) => scheduler.runNow(req.org));
}
