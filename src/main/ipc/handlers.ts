import type { SessionUser } from '../../shared/contract/session';
import type { ChannelName, ParsedRequestOf, ResponseOf } from '../../shared/contract';
import { CHANNEL_NAMES } from '../../shared/contract';
import type { Session } from '../auth/sessions';

export interface CallContext {
  session: Session;
  /** Present on every channel whose access is not 'public'. */
  user: SessionUser | null;
  /** When the call reached main (performance.now()): the scan latency on the dashboard counts from here. */
  receivedAt: number;
}

export type Handler<C extends ChannelName> = (request: ParsedRequestOf<C>, ctx: CallContext) => ResponseOf<C> | Promise<ResponseOf<C>>;

type AnyHandler = (request: unknown, ctx: CallContext) => unknown;

/** Each capability adds its handlers here; a channel added twice, or never, is a start-up error. */
export class HandlerRegistry {
  readonly #handlers = new Map<string, AnyHandler>();

  add<C extends ChannelName>(channel: C, handler: Handler<C>): this {
    if (this.#handlers.has(channel)) throw new Error(`Handler registered twice for ${channel}`);
    this.#handlers.set(channel, handler as AnyHandler);
    return this;
  }

  /** Freezes the set, checking that every contract channel has exactly one handler. */
  complete(): ReadonlyMap<string, AnyHandler> {
    const missing = CHANNEL_NAMES.filter((c) => !this.#handlers.has(c));
    if (missing.length) throw new Error(`No handler for channel(s): ${missing.join(', ')}`);
    return new Map(this.#handlers);
  }
}
