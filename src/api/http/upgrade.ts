/**
 * @module Requests that carry an `Upgrade` header the server does not take, answered as plain
 * HTTP/1.1.
 *
 * Node hands every request with `Connection: upgrade` to the server's `upgrade` listener (there is
 * one, for the tail WebSocket), never to the request handler, and detaches the socket from its HTTP
 * parser. So `curl --http2` against an `http://` URL (which asks `Upgrade: h2c`) was answered 404 on
 * every path, a push included, and a body sent with such a request would never have been read. RFC
 * 9110 §7.8 lets a server ignore an Upgrade it does not want: the request is written back in front
 * of the socket's unread bytes without its upgrade headers, and the socket is handed to the server
 * as a new connection, whose parser then reads the request, body and all, as any other.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** Whether the request asks for a WebSocket (the only upgrade the server takes). */
export function wantsWebSocket(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').split(',').some((p) => p.trim().toLowerCase() === 'websocket');
}

/** The request's head as received, less `Upgrade`, `HTTP2-Settings` and `upgrade` in `Connection`. */
function headWithoutUpgrade(req: IncomingMessage): Buffer {
  let out = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (lower === 'upgrade' || lower === 'http2-settings') continue;
    let value = raw[i + 1]!;
    if (lower === 'connection') {
      value = value
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t !== '' && !['upgrade', 'http2-settings'].includes(t.toLowerCase()))
        .join(', ');
      if (value === '') continue;
    }
    out += `${name}: ${value}\r\n`;
  }
  return Buffer.from(`${out}\r\n`, 'latin1');
}

/**
 * Serves an upgrade request the server does not take as the plain request it also is. `tls` says
 * whether `server` is an HTTPS server (its sockets are already decrypted: they re-enter where
 * TLS hands them over).
 */
export function serveWithoutUpgrade(
  server: Server,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  tls: boolean,
): void {
  const s = socket as Socket;
  s.unshift(head.length > 0 ? Buffer.concat([headWithoutUpgrade(req), head]) : headWithoutUpgrade(req));
  server.emit(tls ? 'secureConnection' : 'connection', s);
}
