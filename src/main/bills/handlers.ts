import type { HandlerRegistry } from '../ipc/handlers';
import { actorFromUser } from '../ipc/actor';
import type { BillService } from './service';

export function registerBillHandlers(r: HandlerRegistry, bills: BillService): void {
  r.add('bills/create', (req, ctx) => bills.create(req.note, actorFromUser(ctx)))
    .add('bills/list', (req) => bills.list(req))
    .add('bills/get', (req) => bills.view(req.billId))
    .add('bills/add-parent', (req, ctx) => bills.addParent(req.billId, req.code, actorFromUser(ctx)))
    .add('bills/remove-parent', (req, ctx) => bills.removeParent(req.billId, req.code, actorFromUser(ctx)))
    .add('bills/finalize', (req, ctx) => bills.finalize(req.billId, actorFromUser(ctx)))
    .add('bills/export', (req) => bills.export(req.billId, req.format));
}
