import type { HandlerRegistry } from '../../ipc/handlers';
import type { ErpService } from './service';

export function registerErpHandlers(r: HandlerRegistry, erp: ErpService): void {
  r.add('erp/open-orders', (req) => erp.openOrders(req.org, req.refresh ?? false));
}
