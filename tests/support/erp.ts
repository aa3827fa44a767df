import { ERP_ORGS, type ErpOrg } from '../../src/shared/contract/erp';
import { withAdmin } from './station';

/**
 * A station whose ERP is at `url` (a simulator or the CAP server), with both instances' users
 * set on Admin → Sync and a long idle lock, signed in as an admin.
 */
export async function stationOnErp(
  url: string,
  users: Record<ErpOrg, { username: string; password: string }>,
  config: Parameters<typeof withAdmin>[0] & { readTimeoutMs?: number } = {},
  adminName?: string,
) {
  const { readTimeoutMs = 2000, ...rest } = config;
  const t = await withAdmin({ upstreams: { erp: { url, readTimeoutMs } }, syncIntervalMs: 0, ...rest }, adminName);
  await t.admin.ok('settings/update', { idleLockMinutes: 240 });
  for (const org of ERP_ORGS) {
    await t.admin.ok('sync/set-credential', { name: `erp.${org}.username`, value: users[org].username });
    await t.admin.ok('sync/set-credential', { name: `erp.${org}.password`, value: users[org].password });
  }
  return t;
}
