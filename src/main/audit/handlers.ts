import type { Db } from '../db/open';
import type { HandlerRegistry } from '../ipc/handlers';
import { listAudit } from './query';

export function registerAuditHandlers(r: HandlerRegistry, db: Db): void {
  r.add('audit/list', (req) => listAudit(db, req));
}
