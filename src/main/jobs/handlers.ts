import type { HandlerRegistry } from '../ipc/handlers';
import type { JobService } from './service';

export function registerJobHandlers(r: HandlerRegistry, jobs: JobService): void {
  r.add('jobs/get', (req) => jobs.get(req.jobId)).add('jobs/cancel', (req) => jobs.cancel(req.jobId));
}
