// What the conformance tests against SAP CAP share: a station whose ERP is the CAP server, with
// both instances' credentials set, and the server's truth about open orders.
import { withAdmin } from '../support/station';
import { startCapErp, type CapErp } from './odata-cap/server';

export type Row = Record<string, unknown>;

/** The CAP server (2,400 rows an instance) and a station reading it, signed in as an admin. */
export async function stationOnCapErp(): Promise<{ erp: CapErp; t: Awaited<ReturnType<typeof withAdmin>> }> {
  const erp = await startCapErp({ rowsPerOrg: 2400 });
  const t = await withAdmin({ upstreams: { erp: { url: erp.url, readTimeoutMs: 20_000 } }, syncIntervalMs: 0 });
  await t.admin.ok('settings/update', { idleLockMinutes: 240 });
  for (const org of ['DD', 'CBR'] as const) {
    await t.admin.ok('sync/set-credential', { name: `erp.${org}.username`, value: erp.users[org].username });
    await t.admin.ok('sync/set-credential', { name: `erp.${org}.password`, value: erp.users[org].password });
  }
  return { erp, t };
}

/** Per order its newest revision, kept only when open. */
export function newestOpen(rows: Row[]): Row[] {
  const newest = new Map<string, Row>();
  for (const r of rows) if (Number(newest.get(String(r.OrderNo))?.OrderRev ?? -Infinity) < Number(r.OrderRev)) newest.set(String(r.OrderNo), r);
  return [...newest.values()].filter((r) => r.OrderStatus !== 'Completed' && r.OrderStatus !== 'Cancelled');
}
