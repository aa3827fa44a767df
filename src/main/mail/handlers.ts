import { recordAudit, type AuditContext } from '../audit/record';
import type { Db } from '../db/open';
import { actorFromUser } from '../ipc/actor';
import type { HandlerRegistry } from '../ipc/handlers';
import type { MailService } from './service';

export function registerMailHandlers(r: HandlerRegistry, mail: MailService, db: Db, audit: AuditContext): void {
  r.add('mail/settings', () => mail.view())
    .add('mail/update-settings', (req, ctx) => mail.updateSettings(req, actorFromUser(ctx)))
    .add('mail/set-password', (req, ctx) => {
      const view = mail.setPassword(req.password);
      // The audit says the password changed, never what to.
      recordAudit(db, audit, actorFromUser(ctx), {
        action: req.password === '' ? 'mail.password_cleared' : 'mail.password_set',
        entity: 'credential',
        entityId: 'mail.password',
      });
      return view;
    })
    .add('mail/send-test', (_req, ctx) => mail.sendTest(actorFromUser(ctx)))
    .add('mail/status', () => mail.status());
}
