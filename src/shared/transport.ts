import type { Envelope } from './envelope';
import type { EventMap, EventName } from './events';

/** Frames on the browser host's WebSocket (path IPC_PATH). Electron uses ipcMain with the same shapes. */
export const IPC_PATH = '/ipc';
export const ELECTRON_INVOKE = 'dockside:invoke';
export const ELECTRON_EVENT = 'dockside:event';

export interface InvokeFrame {
  t: 'invoke';
  id: number;
  channel: string;
  payload: unknown;
}

export type ServerFrame =
  { t: 'result'; id: number | null; envelope: Envelope<unknown> } | { [E in EventName]: { t: 'event'; event: E; data: EventMap[E] } }[EventName];
