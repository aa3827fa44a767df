import { resultsSchema, type OutboxTransport, type RecordResult } from './drainer';
import { UpstreamError, type UpstreamHttp } from '../upstreams/http';

/** The bag-tracking upstream's outbox endpoint: one POST per batch, one answer per record. */
export function bagsTransport(http: UpstreamHttp, stationId: string): OutboxTransport {
  return {
    breaker: http.breaker,
    async send(records): Promise<RecordResult[]> {
      // The upstream dedupes on opId, so a batch whose answer was lost is safe to send again.
      const answer = await http.postJson<unknown>(
        'api/v1/ops',
        { station: stationId, ops: records.map(({ opId, op, payload }) => ({ opId, op, payload })) },
        { idempotent: true },
      );
      const parsed = resultsSchema.safeParse(answer);
      if (!parsed.success) throw new UpstreamError('bags', 'malformed', 'The bag-tracking upstream answered in an unexpected shape');
      return parsed.data.results;
    },
  };
}
