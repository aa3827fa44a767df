import { ERP_ORGS } from '../../shared/contract/erp';
import type { CachedCopy } from '../../shared/contract/sync';
import type { HandlerRegistry } from '../ipc/handlers';
import type { BioTrackInventory } from './biotrack/inventory';
import type { ErpService } from './erp/service';
import type { LeafTradeService } from './leaftrade/service';

type Source = [name: string, fetch: () => Promise<CachedCopy & { rows: number }>];

/**
 * Admin → Sync "fetch and cache now": every configured read upstream, one after another; each,
 * named by its upstream key as in sync/status, says how many rows it cached or why not.
 */
export function registerPrewarmHandler(
  r: HandlerRegistry,
  reads: { erp: ErpService; leaftrade: LeafTradeService; biotrack: BioTrackInventory },
): void {
  r.add('sync/prewarm', async () => {
    const sources: Source[] = [];
    if (reads.erp.configured()) {
      for (const org of ERP_ORGS) sources.push([`erp-${org}`, () => reads.erp.openOrders(org, true).then((x) => ({ ...x, rows: x.orders.length }))]);
    }
    if (reads.leaftrade.configured()) sources.push(['leaftrade', () => reads.leaftrade.orders(true).then((x) => ({ ...x, rows: x.orders.length }))]);
    if (reads.biotrack.configured()) sources.push(['biotrack', () => reads.biotrack.inventory(true).then((x) => ({ ...x, rows: x.items.length }))]);
    const out = [];
    for (const [source, fetch] of sources) {
      try {
        const x = await fetch();
        out.push({ source, rows: x.rows, error: x.warning });
      } catch (error) {
        out.push({ source, rows: null, error: (error as Error).message });
      }
    }
    return out;
  });
}
