import { ERP_ORGS } from '../../shared/contract/erp';
import type { HandlerRegistry } from '../ipc/handlers';
import type { BioTrackInventory } from './biotrack/inventory';
import type { ErpService } from './erp/service';
import type { LeafTradeService } from './leaftrade/service';

/** Admin → Sync "fetch and cache now": every configured read upstream, one after another; each says how many rows it cached or why not. */
export function registerPrewarmHandler(
  r: HandlerRegistry,
  reads: { erp: ErpService; leaftrade: LeafTradeService; biotrack: BioTrackInventory },
): void {
  r.add('sync/prewarm', async () => {
    const sources: [string, () => Promise<{ rows: number; warning: string | null }>][] = [];
    if (reads.erp.configured()) {
      for (const org of ERP_ORGS)
        sources.push([
          org,
          async () => {
            const x = await reads.erp.openOrders(org, true);
            return { rows: x.orders.length, warning: x.warning };
          },
        ]);
    }
    if (reads.leaftrade.configured())
      sources.push([
        'LeafTrade',
        async () => {
          const x = await reads.leaftrade.orders(true);
          return { rows: x.orders.length, warning: x.warning };
        },
      ]);
    if (reads.biotrack.configured())
      sources.push([
        'BioTrack',
        async () => {
          const x = await reads.biotrack.inventory(true);
          return { rows: x.items.length, warning: x.warning };
        },
      ]);
    const out = [];
    for (const [source, run] of sources) {
      try {
        const x = await run();
        out.push({ source, rows: x.rows, error: x.warning });
      } catch (error) {
        out.push({ source, rows: null, error: (error as Error).message });
      }
    }
    return out;
  });
}
