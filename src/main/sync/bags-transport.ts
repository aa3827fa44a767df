import { resultsSchema, type OutboxTransport, type RecordResult } from './drain';
import { UpstreamError, type UpstreamHttp } from './http';

/** The bag-tracking upstream's outbox endpoint: one POST per batch, one answer per record. */
export function bagsTransport(http: UpstreamHttp, stationId: string): OutboxTransport {
  return {
    breaker: http.breaker,
    async send(records): Promise<RecordResult[]> {
      const answer = await http.postJson<unknown>('api/v1/ops', { station: stationId, ops: records.map(({ opId, op, payload }) => ({ opId, op, payload })) });
      const parsed = resultsSchema.safeParse(answer);
      if (!parsed.success) throw new UpstreamError('bags', 'malformed', 'The bag-tracking upstream answered in an unexpected shape');
      return parsed.data.results;
    },
  };
}
