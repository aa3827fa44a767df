/**
 * The renderer's only door to main: invoke(channel, payload) and on(event, callback) for the
 * allow-listed events. No raw ipcRenderer, no Node, no process.env.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { EVENT_NAMES } from '../shared/events';
import type { ServerFrame } from '../shared/transport';
import { ELECTRON_EVENT, ELECTRON_INVOKE } from '../shared/transport';

const allowed = new Set<string>(EVENT_NAMES);

contextBridge.exposeInMainWorld('dockside', {
  invoke: (channel: string, payload: unknown) => ipcRenderer.invoke(ELECTRON_INVOKE, channel, payload),
  on: (event: string, callback: (data: unknown) => void) => {
    if (!allowed.has(event)) throw new Error(`Unknown event: ${event}`);
    const listener = (_e: IpcRendererEvent, frame: ServerFrame) => {
      if (frame.t !== 'event' || frame.event !== event) return;
      // A throwing callback would stop ipcRenderer's other listeners for this frame: log it here.
      try {
        callback(frame.data);
      } catch (error) {
        console.error(`Dockside: a listener for ${event} failed`, error);
      }
    };
    ipcRenderer.on(ELECTRON_EVENT, listener);
    return () => ipcRenderer.removeListener(ELECTRON_EVENT, listener);
  },
});
