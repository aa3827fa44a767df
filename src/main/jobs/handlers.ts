import type { HandlerRegistry } from '../ipc/handlers';
import type { JobService } from './service';

export function registerJobHandlers(r: HandlerRegistry, jobs: JobService): void {
  const viewer = (user: { id: number; role: string } | null) => {
    if (!user) throw new Error('jobs call without a user');
    return user;
  };
  r.add('jobs/get', (req, { user }) => jobs.getFor(req.jobId, viewer(user))).add('jobs/cancel', (req, { user }) => {
    jobs.getFor(req.jobId, viewer(user)); // only its owner or an admin may cancel it
    return jobs.cancel(req.jobId);
  });
}
