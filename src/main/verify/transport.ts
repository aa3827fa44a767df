import { z } from 'zod';
import { VERIFY_BATCH_MAX, type VerifyRecord } from '../../shared/hub';
import type { Db } from '../db/open';
import type { SiteService } from '../hub/service';
import type { OutboxTransport, RecordResult } from '../outbox/drainer';
import { UpstreamError } from '../upstreams/http';
import { keepOwnRecord } from './reports';
import { PUT_SITE_SERIAL, VERIFY_UPSTREAM } from './service';

/**
 * The outbox transport of the `verify` upstream: finalized lines' records go to the hub's
 * POST /v1/verify/records in batches of up to 100. The answer is mapped back onto the lines: ok
 * (its serials and the record itself are now the site's), conflicts (the conflict list, with the hub's code and reason)
 * and errors (malformed: stuck for an admin, shown in the list too). The hub is idempotent on the
 * client record id, so a batch whose answer was lost is sent again safely.
 */

const answerSchema = z.object({
  ok: z.array(z.string()),
  conflicts: z.array(z.object({ id: z.string(), code: z.string(), reason: z.string() })),
  errors: z.array(z.object({ id: z.string(), message: z.string() })),
  batch_id: z.string(),
  processing_time_ms: z.number(),
  total_records: z.number(),
});

export function verifyTransport(deps: { db: Db; site: SiteService; now: () => number; changed: () => void }): OutboxTransport {
  const sqlite = deps.db.$client;
  return {
    get breaker() {
      return deps.site.client?.http.breaker;
    },
    batchSize: VERIFY_BATCH_MAX,
    listed: () => !!deps.site.membership,
    async send(records): Promise<RecordResult[]> {
      const client = deps.site.client;
      if (!client) throw new UpstreamError(VERIFY_UPSTREAM, 'network', 'This station is not connected to a site hub: verification records wait');
      const answer = await client.post('v1/verify/records', { records: records.map((r) => r.payload) }, true);
      const parsed = answerSchema.safeParse(answer);
      if (!parsed.success)
        throw new UpstreamError(VERIFY_UPSTREAM, 'malformed', 'The site hub answered the verification records in an unexpected shape');
      const a = parsed.data;
      const byId = new Map(records.map((r) => [r.opId, r.payload as VerifyRecord]));
      const now = deps.now();
      const results: RecordResult[] = [];
      const setLine = sqlite.prepare('UPDATE verify_lines SET status = ?, hub_code = ?, hub_reason = ?, updated_at = ? WHERE client_record_id = ?');
      const putSerial = sqlite.prepare(PUT_SITE_SERIAL);
      sqlite.transaction(() => {
        for (const id of a.ok) {
          const r = byId.get(id);
          if (!r) continue;
          setLine.run('ok', null, null, now, id);
          for (const serial of r.serials) putSerial.run(serial, id, r.rack.rackId, r.rack.floor, r.station, r.user, r.hubMadeAt);
          keepOwnRecord(sqlite, r, a.batch_id);
          results.push({ opId: id, status: 'ok' });
        }
        for (const c of a.conflicts) {
          if (!byId.has(c.id)) continue;
          setLine.run('conflict', c.code, c.reason, now, c.id);
          results.push({ opId: c.id, status: 'conflict', message: c.reason });
        }
        for (const e of a.errors) {
          if (!byId.has(e.id)) continue;
          setLine.run('error', 'error', e.message, now, e.id);
          // Malformed: sending it again cannot change the answer.
          results.push({ opId: e.id, status: 'failed', message: e.message });
        }
      })();
      deps.changed();
      return results;
    },
  };
}
