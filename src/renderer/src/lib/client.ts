import type { ChannelName, RequestOf, ResponseOf } from '../../../shared/contract';
import type { Envelope } from '../../../shared/envelope';
import type { EventMap, EventName } from '../../../shared/events';
import type { InvokeFrame, ServerFrame } from '../../../shared/transport';
import { IPC_PATH } from '../../../shared/transport';

/** What the preload exposes as window.dockside; the WebSocket bridge offers the same. */
export interface DocksideBridge {
  invoke(channel: string, payload: unknown): Promise<Envelope<unknown>>;
  on(event: string, callback: (data: unknown) => void): () => void;
}

declare global {
  interface Window {
    dockside?: DocksideBridge;
  }
}

type ConnectionListener = (connected: boolean) => void;

/**
 * Calls every listener with the same data. One that throws is logged and skipped: it must not
 * stop the listeners after it or end the subscription (a frozen scan screen, a lost job).
 */
function notifyEach<T>(what: string, listeners: Iterable<(data: T) => void>, data: T): void {
  for (const listener of listeners) {
    try {
      listener(data);
    } catch (error) {
      console.error(`Dockside: a listener for ${what} failed`, error);
    }
  }
}

/**
 * Browser-host transport: one WebSocket, reconnecting with backoff. Calls made while it is down
 * fail at once with 'disconnected' instead of hanging; the UI says so.
 */
class WebSocketBridge implements DocksideBridge {
  #ws: WebSocket | null = null;
  #nextId = 1;
  #pending = new Map<number, (e: Envelope<unknown>) => void>();
  #listeners = new Map<string, Set<(data: unknown) => void>>();
  #connectionListeners = new Set<ConnectionListener>();
  #opened: Promise<void>;
  #resolveOpened!: () => void;
  #retryMs = 250;
  connected = false;

  constructor(private readonly url: string) {
    this.#opened = new Promise((r) => (this.#resolveOpened = r));
    this.#connect();
  }

  onConnection(listener: ConnectionListener): () => void {
    this.#connectionListeners.add(listener);
    return () => this.#connectionListeners.delete(listener);
  }

  #connect(): void {
    const ws = new WebSocket(this.url);
    this.#ws = ws;
    ws.onopen = () => {
      this.#retryMs = 250;
      this.connected = true;
      this.#resolveOpened();
      notifyEach('connection', this.#connectionListeners, true);
    };
    ws.onmessage = (msg) => {
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(msg.data)) as ServerFrame;
      } catch {
        return;
      }
      if (frame.t === 'result') {
        if (frame.id === null) return;
        this.#pending.get(frame.id)?.(frame.envelope);
        this.#pending.delete(frame.id);
      } else if (frame.t === 'event') {
        notifyEach(frame.event, this.#listeners.get(frame.event) ?? [], frame.data);
      }
    };
    ws.onclose = () => {
      const wasConnected = this.connected;
      this.connected = false;
      this.#failPending();
      if (wasConnected) {
        this.#opened = new Promise((r) => (this.#resolveOpened = r));
        notifyEach('connection', this.#connectionListeners, false);
      }
      setTimeout(() => this.#connect(), this.#retryMs);
      this.#retryMs = Math.min(this.#retryMs * 2, 4000);
    };
  }

  #failPending(): void {
    for (const resolve of this.#pending.values()) {
      resolve({ ok: false, error: { code: 'disconnected', message: 'Lost the connection to the station service. Try again.' } });
    }
    this.#pending.clear();
  }

  async invoke(channel: string, payload: unknown): Promise<Envelope<unknown>> {
    if (!this.connected) {
      // First calls at start-up wait for the socket; later ones fail fast while reconnecting.
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5000));
      if ((await Promise.race([this.#opened, timeout])) === 'timeout') {
        return { ok: false, error: { code: 'disconnected', message: 'Cannot reach the station service.' } };
      }
    }
    const id = this.#nextId++;
    const frame: InvokeFrame = { t: 'invoke', id, channel, payload };
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.#ws!.send(JSON.stringify(frame));
    });
  }

  on(event: string, callback: (data: unknown) => void): () => void {
    const set = this.#listeners.get(event) ?? new Set();
    set.add(callback);
    this.#listeners.set(event, set);
    return () => set.delete(callback);
  }
}

const wsBridge = window.dockside ? null : new WebSocketBridge(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${IPC_PATH}`);
const bridge: DocksideBridge = window.dockside ?? wsBridge!;

/** In the desktop app (Electron's preload), not a browser on the browser host: printing is there. */
export const inDesktopApp = wsBridge === null;

/**
 * Typed call: the channel name fixes both the payload and the answer. It always answers an
 * envelope: a transport that throws (Electron's invoke rejects when main cannot answer) becomes
 * a 'disconnected' error, so no screen is left waiting on a promise that rejected.
 */
export async function call<C extends ChannelName>(channel: C, payload: RequestOf<C>): Promise<Envelope<ResponseOf<C>>> {
  try {
    return (await bridge.invoke(channel, payload)) as Envelope<ResponseOf<C>>;
  } catch (error) {
    console.error(`Dockside: ${channel} could not be sent`, error);
    return { ok: false, error: { code: 'disconnected', message: 'Could not reach the station service. Try again.' } };
  }
}

export function on<E extends EventName>(event: E, callback: (data: EventMap[E]) => void): () => void {
  return bridge.on(event, callback as (data: unknown) => void);
}

/** Connection state changes (browser host only; Electron IPC never drops). */
export function onConnection(listener: ConnectionListener): () => void {
  return wsBridge ? wsBridge.onConnection(listener) : () => {};
}
