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
import { errorText, type Logger, type LogLevel } from '../../util/log.js';
import { type GateOptions, gateRequest } from './auth-gate.js';
import { bodyMediaType, checkBodyType, FORM_TYPE, readBody } from './body.js';
import { HttpError } from './errors.js';
import { asRequest, ERROR_ID_HEADER } from './internal-error.js';
import { REQUEST_ID_HEADER, requestId } from './request-id.js';
import { OTHER_ROUTE, type RequestContext, type Router, send, text } from './router.js';
import { serveWithoutUpgrade, wantsWebSocket } from './upgrade.js';

/**
 * Told of every request once it is answered: its route's label (router.ts routeLabel, `other` when
 * none matched), method, status and seconds until the reply was handed to the socket (a streamed
 * body, a watch, is measured to its headers, as Loki's middleware measures its handlers).
 */
export type RequestObserver = (route: string, method: string, status: number, seconds: number) => void;

export interface DispatchOptions {
  readonly router: Router;
  readonly gate: GateOptions;
  /** The server's log: failed requests (warn, error) and every request at debug. */
  readonly logger: Logger;
  readonly observe?: RequestObserver;
}

/** How a request ended, for its log line and its metrics. */
interface Outcome {
  route: string;
  /** What the route threw, when it did. */
  err?: unknown;
  /** The failure was unexpected (a bug, or a fault below): logged at error with `err`. */
  internal?: boolean;
  tenant?: string;
}

/** The HTTP server's `request` listener: the gate, then the route; then the metrics and the log line. */
export function requestListener(opts: DispatchOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { router, logger, observe } = opts;
  const answer = async (req: IncomingMessage, res: ServerResponse, id: string): Promise<Outcome> => {
    const url = requestUrl(req);
    if (!url) {
      send(res, text(400, `invalid request target ${JSON.stringify(req.url)}\n`));
      req.resume();
      return { route: OTHER_ROUTE };
    }
    const gate = await gateRequest(req, url, opts.gate);
    if (gate.refused) {
      send(res, gate.refused);
      return { route: router.matchPath(url.pathname)?.route.label ?? OTHER_ROUTE };
    }
    return handle(router, req, res, url, gate.access, id);
  };
  return (req: IncomingMessage, res: ServerResponse): void => {
    const start = performance.now();
    const id = requestId(req);
    res.setHeader(REQUEST_ID_HEADER, id);
    answer(req, res, id)
      .catch((err: unknown): Outcome => {
        // The last line of defence: no request may take the process down.
        if (!res.headersSent) send(res, text(500, 'internal error\n'));
        else res.destroy();
        return { route: OTHER_ROUTE, err, internal: true };
      })
      .then((outcome) => {
        const seconds = (performance.now() - start) / 1000;
        const status = res.statusCode;
        observe?.(outcome.route, req.method ?? 'GET', status, seconds);
        logRequest(logger, req, id, status, seconds, outcome);
      });
  };
}

/** Failures logged where they start and end, not per request (see logRequest). */
const QUIET_5XX = new Set([502, 503, 507]);

/**
 * The request's one log line, at the level Loki's (dskit's) middleware uses: a 5xx at warn (with
 * its error, at error, when the route met an unexpected one: api/http/internal-error.ts), every
 * other request at debug (the access log). A full disk (507), a shared store that is down or a
 * receiver's back-pressure (503) stay at debug: the disk guard and the store log when that starts
 * and ends, and a line per retried push of every agent would bury it (dskit leaves 502 and 503 at
 * debug alike).
 */
function logRequest(
  logger: Logger,
  req: IncomingMessage,
  id: string,
  status: number,
  seconds: number,
  outcome: Outcome,
): void {
  const { err } = outcome;
  let level: LogLevel = 'debug';
  let msg = 'request';
  if (outcome.internal) {
    level = 'error';
    msg = 'internal error';
  } else if (status >= 500 && !QUIET_5XX.has(status)) {
    level = 'warn';
    msg = 'request failed';
  }
  if (!logger.enabled(level)) return;
  logger.log(level, msg, {
    request_id: id,
    method: req.method,
    path: pathOf(req.url),
    route: outcome.route,
    status,
    duration_seconds: Math.round(seconds * 1e6) / 1e6,
    tenant: outcome.tenant,
    ...(level === 'debug' ? {} : { remote: req.socket.remoteAddress }),
    ...(err === undefined || level === 'debug' ? {} : { err: errorText(err) }),
  });
}

/** The path of a request target, without its query (which may hold a query's text, or a token). */
function pathOf(target: string | undefined): string {
  if (target === undefined) return '';
  const q = target.indexOf('?');
  return q < 0 ? target : target.slice(0, q);
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
  const { target, logger, observe, router } = opts;
  return (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Only a WebSocket is taken; any other Upgrade (curl --http2's h2c) is ignored, as RFC 9110 allows.
    if (!wantsWebSocket(req)) {
      serveWithoutUpgrade(http, req, socket, head, tls);
      return;
    }
    socket.on('error', () => socket.destroy());
    const start = performance.now();
    const url = requestUrl(req);
    // Counted with the HTTP requests: 101 once the gate handed it to its target (which may still
    // refuse it with its own status), else the gate's refusal.
    const count = (status: number): void =>
      observe?.(
        (url && router.matchPath(url.pathname)?.route.label) ?? OTHER_ROUTE,
        req.method ?? 'GET',
        status,
        (performance.now() - start) / 1000,
      );
    if (!url) {
      count(404);
      target.rejectNotFound(socket);
      return;
    }
    gateRequest(req, url, opts.gate).then(
      ({ refused, access }) => {
        count(refused ? refused.status : 101);
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
        count(500);
        logger.error('error authorizing a WebSocket upgrade', {
          path: pathOf(req.url),
          err: (err as Error).message,
        });
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
  id: string,
): Promise<Outcome> {
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
    return { route: OTHER_ROUTE, tenant: access.tenant };
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
      send(res, text(500, 'internal error: the request was not authorized\n'));
      return {
        route: route.label,
        tenant: access.tenant,
        err: new Error('answered without an authorization decision'),
        internal: true,
      };
    }
    send(res, reply);
    return { route: route.label, tenant: access.tenant };
  } catch (err) {
    // An unexpected error takes the request's id (api/http/internal-error.ts) and is logged with
    // the request's line, the one line of this failure.
    const reply = asRequest(id, () => route.onError(err, ctx));
    send(res, reply);
    return {
      route: route.label,
      tenant: access.tenant,
      err,
      internal: reply.headers?.[ERROR_ID_HEADER] !== undefined,
    };
  }
}
