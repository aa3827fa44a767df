// What the conformance tests against SAP CAP share: a station whose ERP is the CAP server, with
// both instances' credentials set, and the server's truth about open orders.
import { stationOnErp } from '../support/erp';
import type { withAdmin } from '../support/station';
import { startCapErp, type CapErp } from './odata-cap/server';

export type Row = Record<string, unknown>;

/** The CAP server (2,400 rows an instance) and a station reading it, signed in as an admin. */
export async function stationOnCapErp(): Promise<{ erp: CapErp; t: Awaited<ReturnType<typeof withAdmin>> }> {
  const erp = await startCapErp({ rowsPerOrg: 2400 });
  const t = await stationOnErp(erp.url, erp.users, { readTimeoutMs: 20_000 });
  return { erp, t };
}

/** Per order its newest revision, kept only when open. */
export function newestOpen(rows: Row[]): Row[] {
  const newest = new Map<string, Row>();
  for (const r of rows) if (Number(newest.get(String(r.OrderNo))?.OrderRev ?? -Infinity) < Number(r.OrderRev)) newest.set(String(r.OrderNo), r);
  return [...newest.values()].filter((r) => r.OrderStatus !== 'Completed' && r.OrderStatus !== 'Cancelled');
}
