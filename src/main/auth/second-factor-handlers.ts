import { actorFromUser } from '../ipc/actor';
import type { HandlerRegistry } from '../ipc/handlers';
import type { AuthService } from './service';

export function registerSecondFactorHandlers(r: HandlerRegistry, auth: AuthService): void {
  const secondFactor = auth.secondFactor;
  r.add('auth/second-factor', (req, { session }) => {
    secondFactor.verify(session, req.code);
    return auth.info(session);
  })
    .add('auth/second-factor/enrolment', (_req, { session }) => secondFactor.enrolment(session))
    .add('auth/second-factor/enrol', (req, { session }) => {
      const recoveryCodes = secondFactor.enrol(session, req.code);
      return { session: auth.info(session), recoveryCodes };
    })
    .add('auth/second-factor/cancel', (_req, { session }) => {
      secondFactor.forget(session);
      return auth.info(session);
    })
    .add('users/reset-second-factor', (req, ctx) => secondFactor.reset(req.id, actorFromUser(ctx)));
}
