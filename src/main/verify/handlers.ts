import { actorFromUser } from '../ipc/actor';
import type { CallContext, HandlerRegistry } from '../ipc/handlers';
import type { ItemCatalogue } from './items';
import type { RackRegistry } from './racks';
import type { VerifyService } from './service';

function person(ctx: CallContext) {
  const actor = actorFromUser(ctx);
  return { ...actor, userId: ctx.user!.id, username: ctx.user!.username, role: ctx.user!.role };
}

export function registerVerifyHandlers(r: HandlerRegistry, deps: { verify: VerifyService; racks: RackRegistry; items: ItemCatalogue }): void {
  const { verify, racks, items } = deps;
  r.add('verify/racks', (req) => racks.list(req.includeInactive))
    .add('verify/rack-save', (req, ctx) => racks.save(req, actorFromUser(ctx)))
    .add('verify/racks-import', (req, ctx) => racks.importFile(req.fileName, req.content, actorFromUser(ctx)))
    .add('verify/items-refresh', () => items.refresh(true))
    .add('verify/items-search', (req) => items.search(req.text, req.limit))
    .add('verify/item-by-code', (req) => items.byCode(req.code))
    .add('verify/claim', (req, ctx) => verify.claim(req, person(ctx)))
    .add('verify/session', (_req, ctx) => verify.current(ctx.user!.id))
    .add('verify/line-save', (req, ctx) => verify.saveLine(req, actorFromUser(ctx)))
    .add('verify/line-delete', (req, ctx) => {
      verify.deleteLine(req.clientRecordId, actorFromUser(ctx));
      return { deleted: true as const };
    })
    .add('verify/finalize', (req, ctx) => verify.finalize(req.sessionId, actorFromUser(ctx)))
    .add('verify/release', (req, ctx) => verify.cancel(req.sessionId, actorFromUser(ctx)))
    .add('verify/break', async (req, ctx) => {
      await verify.breakClaim({ rackId: req.rackId, floor: req.floor }, req.reason, person(ctx));
      return { broken: true as const };
    })
    .add('verify/conflicts', (req) => verify.conflicts(req.status))
    .add('verify/resolve', (req, ctx) => verify.resolve(req.clientRecordId, req.action, person(ctx)))
    .add('verify/notices', () => verify.notices())
    .add('verify/notice-post', (req, ctx) => verify.postNotice(req.text, person(ctx)));
}
