import { CREDENTIAL_NAMES, type CredentialName } from '../../shared/contract/sync';
import { DomainError } from '../../shared/envelope';
import { recordAudit, type AuditContext } from '../audit/record';
import type { Db } from '../db/open';
import { actorFromUser } from '../ipc/actor';
import type { HandlerRegistry } from '../ipc/handlers';
import type { SecretStore } from './store';

/** Shapes a value must have before it is kept; a wrong one would only fail later, at the upstream. */
const SHAPES: Partial<Record<CredentialName, { pattern: RegExp; message: string }>> = {
  'biotrack.license': { pattern: /^\d{9}$/, message: "BioTrack's company id (license_number) is the company's 9-digit UBI" },
};

export function registerCredentialHandlers(r: HandlerRegistry, secrets: SecretStore, db: Db, audit: AuditContext): void {
  const credentials = () => CREDENTIAL_NAMES.map((name) => ({ name, set: secrets.get(name) !== null }));
  r.add('sync/credentials', () => credentials());
  r.add('sync/credential-store', () => ({ problem: secrets.refusal?.() ?? null }));
  r.add('sync/set-credential', (req, ctx) => {
    const value = req.value.trim();
    const shape = SHAPES[req.name];
    if (value !== '' && shape && !shape.pattern.test(value))
      throw new DomainError('invalid', shape.message, { issues: [{ path: 'value', message: shape.message }] });
    if (value === '') secrets.delete(req.name);
    else secrets.set(req.name, req.name.endsWith('.password') ? req.value : value);
    // The audit says which credential changed, never its value.
    recordAudit(db, audit, actorFromUser(ctx), {
      action: value === '' ? 'sync.credential_cleared' : 'sync.credential_set',
      entity: 'credential',
      entityId: req.name,
    });
    return credentials();
  });
}
