import type { IncomingMessage, Server } from 'node:http';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { ServerFrame } from '../../shared/transport';
import { IPC_PATH } from '../../shared/transport';
import type { Logger } from '../platform/logger';
import { clipped, ThrottledWarning } from '../platform/throttled-warning';
import type { Station } from '../app/station';
import { isAllowedHost } from '../security/loopback';

/** Largest frame accepted from a renderer; bigger is refused before parsing. */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;

/**
 * Calls one connection may have waiting in main at once. The app's own window has a handful at
 * most; past this a client is flooding, and each further call is answered `rate_limited` at once
 * instead of queueing work (and memory) in main.
 */
export const MAX_CALLS_IN_FLIGHT = 32;

/**
 * Browsers let any web page open a WebSocket to 127.0.0.1, so only the host's own origin may
 * connect; without this a page on the internet could drive a signed-in station.
 */
export function isAllowedOrigin(origin: string | undefined, allowed: readonly string[]): boolean {
  if (!origin) return false;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  return allowed.includes(parsed.origin);
}

/** Parses one client frame; anything that is not a well-formed invoke is answered as invalid. */
export function parseInvokeFrame(
  raw: string,
): { ok: true; id: number; channel: unknown; payload: unknown } | { ok: false; id: number | null; message: string } {
  let frame: unknown;
  try {
    frame = JSON.parse(raw);
  } catch {
    return { ok: false, id: null, message: 'Frame is not JSON' };
  }
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) {
    return { ok: false, id: null, message: 'Frame is not an object' };
  }
  const f = frame as Record<string, unknown>;
  const id = typeof f.id === 'number' && Number.isSafeInteger(f.id) ? f.id : null;
  if (f.t !== 'invoke' || id === null) return { ok: false, id, message: 'Frame needs t: "invoke" and an integer id' };
  return { ok: true, id, channel: f.channel, payload: f.payload };
}

export interface WsTransport {
  close(): Promise<void>;
}

export function attachWebSocketTransport(opts: {
  server: Server;
  station: Pick<Station, 'router' | 'openSession' | 'closeSession'>;
  allowedOrigins: () => readonly string[];
  /** Host headers the host answers to (see security/loopback.ts). */
  allowedHosts: () => readonly string[];
  logger: Logger;
  /** The clock that paces the refused-upgrade log lines. */
  now?: () => number;
}): WsTransport {
  const log = opts.logger.child({ module: 'ws' });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const refusals = new ThrottledWarning({ log, message: 'refused WebSocket upgrade', now: opts.now ?? Date.now });

  opts.server.on('upgrade', (req: IncomingMessage, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    // The same answer for every refusal: nothing tells a probing page which check it failed.
    const status = !isAllowedHost(req.headers.host, opts.allowedHosts())
      ? '421 Misdirected Request'
      : url.pathname !== IPC_PATH || !isAllowedOrigin(req.headers.origin, opts.allowedOrigins())
        ? '403 Forbidden'
        : null;
    if (status) {
      refusals.warn({ host: clipped(req.headers.host), origin: clipped(req.headers.origin), path: clipped(url.pathname) });
      socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    const send = (frame: ServerFrame) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
    };
    const session = opts.station.openSession(`ws ${req.socket.remoteAddress}:${req.socket.remotePort}`, (event, data) =>
      send({ t: 'event', event, data } as ServerFrame),
    );
    let inFlight = 0;
    ws.on('message', (data: RawData, isBinary: boolean) => {
      // Each frame is handled on its own: a malformed one is answered and the connection stays up.
      const frame = isBinary ? { ok: false as const, id: null, message: 'Binary frames are not accepted' } : parseInvokeFrame(data.toString());
      if (!frame.ok) {
        send({ t: 'result', id: frame.id, envelope: { ok: false, error: { code: 'invalid', message: frame.message } } });
        return;
      }
      if (inFlight >= MAX_CALLS_IN_FLIGHT) {
        const message = 'The station is busy with this window’s earlier requests. Wait a moment and try again.';
        send({ t: 'result', id: frame.id, envelope: { ok: false, error: { code: 'rate_limited', message } } });
        return;
      }
      inFlight += 1;
      opts.station.router
        .handle(session, frame.channel, frame.payload)
        .then((envelope) => send({ t: 'result', id: frame.id, envelope }))
        .catch((err: unknown) => log.error({ err }, 'router threw'))
        .finally(() => (inFlight -= 1));
    });
    ws.on('close', () => opts.station.closeSession(session));
    ws.on('error', (err) => log.warn({ err }, 'socket error'));
  });

  return {
    close: () =>
      new Promise((resolve) => {
        refusals.flush();
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}
