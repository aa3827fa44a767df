import type { SessionInfo } from './contract/session';

/**
 * Events main pushes to the renderer. Kept free of zod so the preload bundle stays tiny:
 * the preload imports only EVENT_NAMES to allow-list subscriptions.
 */
export interface EventMap {
  /** The session changed without the renderer asking: idle lock, account disabled, role changed. */
  'session/changed': SessionInfo;
}

export type EventName = keyof EventMap;
export const EVENT_NAMES = ['session/changed'] as const satisfies readonly EventName[];
