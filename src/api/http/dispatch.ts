/**
 * @module The request dispatcher: every request passes the gate (api/http/auth-gate.ts), then its
 * route (api/http/router.ts): the route's method and body checks, the handler, and the reply or the
 * route's error reply; an answer no authorization decision covered is refused (fail closed). A
 * WebSocket upgrade passes the same gate before its target (the Loki tail) takes the socket; any
 * other Upgrade is served as plain HTTP (api/http/upgrade.ts).
 */
import { type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Access } from '../../auth/index.js';
import { DiskFullError } from '../../journal/disk-full.js';
import { StoreUnavailableError } from '../../store/store.js';
import { type GateOptions, gateRequest } from './auth-gate.js';
import { bodyMediaType, checkBodyType, FORM_TYPE, readBody } from './body.js';
import { HttpError } from './errors.js';
import { ERROR_ID_HEADER } from './internal-error.js';
import { type RequestContext, type Router, send, text } from './router.js';
import { serveWithoutUpgrade, wantsWebSocket } from './upgrade.js';

export interface DispatchOptions {
  readonly router: Router;
  readonly gate: GateOptions;
  readonly log: (line: string) => void;
}

/** The HTTP server's `request` listener: the gate, then the route. */
export function requestListener(opts: DispatchOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { router, log } = opts;
  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = requestUrl(req);
    if (!url) {
      send(res, text(400, `invalid request target ${JSON.stringify(req.url)}\n`));
      req.resume();
      return;
    }
    const gate = await gateRequest(req, url, opts.gate);
    if (gate.refused) send(res, gate.refused);
    else await handle(router, req, res, url, gate.access, log);
  };
  return (req: IncomingMessage, res: ServerResponse): void => {
    answer(req, res).catch((err: unknown) => {
      // The last line of defence: no request may take the process down.
      log(`error answering ${req.method} ${req.url}: ${(err as Error).stack ?? String(err)}`);
      if (!res.headersSent) send(res, text(500, 'internal error\n'));
      else res.destroy();
    });
  };
}

/** What takes a WebSocket the gate let through (the Loki tail: api/loki/tail-upgrade.ts). */
export interface UpgradeTarget {
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL, access: Access): void;
  rejectNotFound(socket: Duplex): void;
}

/** The HTTP server's `upgrade` listener: WebSockets through the gate to `target`, other Upgrades as HTTP. */
export function upgradeListener(
  http: Server,
  tls: boolean,
  opts: DispatchOptions & { readonly target: UpgradeTarget },
): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const { target, log } = opts;
  return (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Only a WebSocket is taken; any other Upgrade (curl --http2's h2c) is ignored, as RFC 9110 allows.
    if (!wantsWebSocket(req)) {
      serveWithoutUpgrade(http, req, socket, head, tls);
      return;
    }
    socket.on('error', () => socket.destroy());
    const url = requestUrl(req);
    if (!url) {
      target.rejectNotFound(socket);
      return;
    }
    gateRequest(req, url, opts.gate).then(
      ({ refused, access }) => {
        if (refused) {
          const body = typeof refused.body === 'string' ? refused.body : '';
          socket.end(
            `HTTP/1.1 ${refused.status} ${STATUS_CODES[refused.status] ?? 'Error'}\r\n` +
              `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
              `Connection: close\r\n\r\n${body}`,
          );
        } else target.upgrade(req, socket, head, url, access);
      },
      (err: unknown) => {
        log(`error authorizing ${req.url}: ${(err as Error).message}`);
        socket.destroy();
      },
    );
  };
}

/** The request's URL, or undefined when its target does not parse. */
function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
}

async function handle(
  router: Router,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  access: Access,
  log: (line: string) => void,
): Promise<void> {
  const matched = router.matchPath(url.pathname);
  const route = matched?.route;
  const ctx: RequestContext = {
    req,
    url,
    params: url.searchParams,
    pathParams: matched?.pathParams ?? {},
    access,
  };
  if (!route) {
    send(res, router.notFoundReply(url.pathname) ?? text(404, '404 page not found\n'));
    req.resume();
    return;
  }
  try {
    if (!route.methods.includes(req.method ?? 'GET')) {
      throw new HttpError(405, `method ${req.method} not allowed; use ${route.methods.join(' or ')}`);
    }
    checkBodyType(req, url.pathname, route.bodyTypes);
    // Only routes that take a form read one: the push handler waited for a body already read here.
    if (route.form && req.method === 'POST' && bodyMediaType(req) === FORM_TYPE) {
      const form = new URLSearchParams((await readBody(req, 1 << 20)).toString('utf8'));
      for (const [k, v] of url.searchParams) if (!form.has(k)) form.append(k, v);
      ctx.params = form;
    }
    const reply = await route.handler(ctx);
    // Fail closed: an answer no authorization decision covered is a bug of the route, never data.
    if (!access.decided && reply.status < 400) {
      log(`error on ${req.method} ${url.pathname}: answered without an authorization decision`);
      send(res, text(500, 'internal error: the request was not authorized\n'));
      return;
    }
    send(res, reply);
  } catch (err) {
    const reply = route.onError(err, ctx);
    // A full disk is no fault of the server's: the guard logs when writes pause and resume; nor is
    // a shared store that is down or refusing writes: the store logs that (a stack per retried push
    // of every agent would bury it). An internal error was logged with its id where it became the
    // reply (api/http/internal-error.ts).
    if (
      reply.status >= 500 &&
      !(err instanceof DiskFullError) &&
      !(err instanceof StoreUnavailableError) &&
      !reply.headers?.[ERROR_ID_HEADER]
    )
      process.stderr.write(`error on ${req.method} ${url.pathname}: ${(err as Error).stack ?? err}\n`);
    send(res, reply);
  }
}
