import type { UpstreamStatus } from '../../shared/contract/sync';
import { DomainError } from '../../shared/envelope';
import { recordAudit, type AuditContext } from '../audit/record';
import type { Db } from '../db/open';
import { actorFromUser } from '../ipc/actor';
import type { HandlerRegistry } from '../ipc/handlers';
import type { OutboxDrainer } from './drainer';

export function registerSyncHandlers(
  r: HandlerRegistry,
  sync: OutboxDrainer,
  db: Db,
  audit: AuditContext,
  readUpstreams: () => UpstreamStatus[],
): void {
  r.add('sync/status', () => [...sync.status(), ...readUpstreams()])
    .add('sync/stuck', () => sync.stuck())
    .add('sync/retry', (req, ctx) => {
      if (!sync.retry(req.seq)) throw new DomainError('not_found', `Record ${req.seq} is not stuck`);
      recordAudit(db, audit, actorFromUser(ctx), { action: 'sync.retried', entity: 'outbox', entityId: req.seq });
      void sync.drainAll();
      return null;
    })
    .add('sync/discard', (req, ctx) => {
      if (!sync.discard(req.seq, req.reason)) throw new DomainError('not_found', `Record ${req.seq} is not stuck`);
      recordAudit(db, audit, actorFromUser(ctx), { action: 'sync.discarded', entity: 'outbox', entityId: req.seq, detail: req.reason });
      return null;
    })
    .add('sync/drain-now', async () => {
      await sync.drainAll({ force: true });
      return null;
    });
}
