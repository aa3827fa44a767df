import WebSocket from 'ws';
import type { Envelope } from '../../src/shared/envelope';
import type { ServerFrame } from '../../src/shared/transport';
import { IPC_PATH } from '../../src/shared/transport';
import { onRelease } from './cleanup';
import { Inbox } from './inbox';

/** A raw client of the browser host's transport, as a hostile or buggy renderer would be; closed after the test. */
export interface RawWsClient {
  invoke(channel: unknown, payload: unknown): Promise<Envelope<unknown>>;
  sendRaw(text: string): Promise<ServerFrame>;
  events: ServerFrame[];
  /** Resolves with the close code when the server (or we) close the socket. */
  closed: Promise<number>;
  /** Closes the socket; resolves with the close code once the server has closed its end. */
  close(): Promise<number>;
  /** The first event frame, already received or still to come, that `match` accepts. */
  event(match: (frame: ServerFrame) => boolean): Promise<ServerFrame>;
}

export function connectWs(baseUrl: string, origin = baseUrl): Promise<RawWsClient> {
  const ws = new WebSocket(baseUrl.replace('http', 'ws') + IPC_PATH, { headers: { origin } });
  let nextId = 1;
  const waiting = new Map<number | null, (f: ServerFrame) => void>();
  const events = new Inbox<ServerFrame>();
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as ServerFrame;
    if (frame.t === 'event') events.push(frame);
    else {
      waiting.get(frame.id)?.(frame);
      waiting.delete(frame.id);
    }
  });
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('open', () => {
      const client: RawWsClient = {
        events: events.items,
        closed,
        invoke(channel, payload) {
          const id = nextId++;
          return new Promise((res) => {
            waiting.set(id, (f) => res((f as Extract<ServerFrame, { t: 'result' }>).envelope));
            ws.send(JSON.stringify({ t: 'invoke', id, channel, payload }));
          });
        },
        sendRaw(text) {
          return new Promise((res) => {
            const m = /"id":(\d+)/.exec(text);
            waiting.set(m ? Number(m[1]) : null, res);
            ws.send(text);
          });
        },
        close() {
          ws.close();
          return closed;
        },
        event: (match) => events.first(match),
      };
      onRelease(() => client.close());
      resolve(client);
    });
  });
}
