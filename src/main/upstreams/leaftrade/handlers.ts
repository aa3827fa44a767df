import type { HandlerRegistry } from '../../ipc/handlers';
import type { LeafTradeService } from './service';

export function registerLeafTradeHandlers(r: HandlerRegistry, leaftrade: LeafTradeService): void {
  r.add('leaftrade/orders', (req) => leaftrade.orders(req.refresh ?? false));
}
