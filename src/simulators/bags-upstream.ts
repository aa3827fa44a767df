import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback stand-in for the bag-tracking upstream that receives the station's outbox.
 * POST /api/v1/ops {station, ops: [{opId, op, payload}]} → {results: [{opId, status, message?, duplicate?}]}.
 * Like a careful real receiver it dedupes on opId, so a resend after a lost answer is
 * acknowledged without being applied twice. Faults are switched on through `faults`.
 */
export interface BagsSimulatorFaults {
  /** The next N requests answer 503 (with Retry-After: retryAfterS if set). */
  unavailable: number;
  retryAfterS: number | null;
  /** The next N requests answer 429 Retry-After: 1. */
  rateLimited: number;
  /** The next N requests answer 200 with a body that is not JSON. */
  malformed: number;
  /** Delay before answering, ms. */
  latencyMs: number;
  /** Ops whose JSON payload contains this text answer "error" (and are not applied). */
  errorWhen: string | null;
  /** Apply the next request's ops, then hold the answer this long (a sender killed meanwhile never hears "ok"). */
  commitThenHangMs: number;
}

export interface BagsSimulator {
  url: string;
  faults: BagsSimulatorFaults;
  /** Times each opId was applied: exactly-once means every value is 1. */
  applied: Map<string, number>;
  stats(): { requests: number; opsReceived: number; applied: number; duplicates: number; conflicts: number; errors: number };
  /** Resolves when the next request has been applied (for "commit then kill" tests). */
  nextCommit(): Promise<string[]>;
  close(): Promise<void>;
}

export async function startBagsSimulator(port = 0): Promise<BagsSimulator> {
  const faults: BagsSimulatorFaults = {
    unavailable: 0,
    retryAfterS: null,
    rateLimited: 0,
    malformed: 0,
    latencyMs: 0,
    errorWhen: null,
    commitThenHangMs: 0,
  };
  const applied = new Map<string, number>();
  const links = new Map<string, string>(); // child → parent, the upstream's own view
  const counts = { requests: 0, opsReceived: 0, duplicates: 0, conflicts: 0, errors: 0 };
  let commitWaiters: ((ids: string[]) => void)[] = [];

  const apply = (op: { opId: string; op: string; payload: Record<string, unknown> }) => {
    if (applied.has(op.opId)) {
      counts.duplicates++;
      return { opId: op.opId, status: 'ok', duplicate: true };
    }
    if (faults.errorWhen && JSON.stringify(op.payload).includes(faults.errorWhen)) {
      counts.errors++;
      return { opId: op.opId, status: 'error', message: 'upstream rejected the record (simulated)' };
    }
    if (op.op === 'link_child@1') {
      const child = String(op.payload.child);
      const parent = String(op.payload.parent);
      const have = links.get(child);
      if (have && have !== parent) {
        counts.conflicts++;
        applied.set(op.opId, 1); // a conflict is a final answer too
        return { opId: op.opId, status: 'conflict', message: `${child} is on ${have} upstream` };
      }
      links.set(child, parent);
    } else if (op.op === 'unlink_child@1') {
      links.delete(String(op.payload.child));
    } else if (op.op === 'import_links@1') {
      for (const [child, parent] of op.payload.links as [string, string][]) links.set(child, parent);
    }
    applied.set(op.opId, (applied.get(op.opId) ?? 0) + 1);
    return { opId: op.opId, status: 'ok' };
  };

  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      counts.requests++;
      const answer = async () => {
        if (faults.latencyMs) await new Promise((r) => setTimeout(r, faults.latencyMs));
        if (req.method !== 'POST' || req.url !== '/api/v1/ops') return res.writeHead(404).end();
        if (faults.unavailable > 0) {
          faults.unavailable--;
          return res.writeHead(503, faults.retryAfterS !== null ? { 'Retry-After': String(faults.retryAfterS) } : {}).end('Service Unavailable');
        }
        if (faults.rateLimited > 0) {
          faults.rateLimited--;
          return res.writeHead(429, { 'Retry-After': '1' }).end('Too Many Requests');
        }
        if (faults.malformed > 0) {
          faults.malformed--;
          return res.writeHead(200, { 'Content-Type': 'application/json' }).end('<html>proxy error</html>');
        }
        let parsed: { ops?: { opId: string; op: string; payload: Record<string, unknown> }[] };
        try {
          parsed = JSON.parse(body);
        } catch {
          return res.writeHead(400).end('bad json');
        }
        const ops = parsed.ops ?? [];
        counts.opsReceived += ops.length;
        const results = ops.map(apply);
        const ids = ops.map((o) => o.opId);
        commitWaiters.forEach((w) => w(ids));
        commitWaiters = [];
        if (faults.commitThenHangMs) {
          const hang = faults.commitThenHangMs;
          faults.commitThenHangMs = 0;
          await new Promise((r) => setTimeout(r, hang));
        }
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ results }));
      };
      void answer().catch(() => res.writeHead(500).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: actual } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${actual}`,
    faults,
    applied,
    stats: () => ({ ...counts, applied: applied.size }),
    nextCommit: () => new Promise((resolve) => commitWaiters.push(resolve)),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
