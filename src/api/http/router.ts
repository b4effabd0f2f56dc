/**
 * @module A small router: exact paths, a method per route, handlers that return a response value.
 * Errors thrown by handlers become responses in the API's own error handler.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Access } from '../../auth/access.js';
import type { LabelMatcher } from '../../logql/ast.js';

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly url: URL;
  /** Query parameters, plus form fields for `application/x-www-form-urlencoded` POSTs. */
  params: URLSearchParams;
  /** Values of `{name}` segments of a pattern route. */
  pathParams?: Readonly<Record<string, string>>;
  /**
   * Who is asking, for which tenant, and a way to ask whether they may (src/auth/access.ts): set by
   * the auth gate (src/api/http/auth-gate.ts) on every request. A handler whose decision depends on
   * what it reads (a push's records, a query) calls `access.require(...)` before storing or reading.
   */
  readonly access: Access;
  /**
   * Set on LokiStack paths (`/api/logs/v1/<class>/...`): the one log class the request may read.
   * Query handlers also get the query text rewritten with a `class` matcher in every selector.
   */
  classRestriction?: string;
  /**
   * Matchers added to every stream selector the request reads (restrict.ts): a LokiStack class
   * path's `class`, a namespaced path's `namespace`. Handlers that parse `query` themselves get it
   * rewritten already; those that take selectors otherwise add these.
   */
  restriction?: readonly LabelMatcher[];
  /**
   * The query's deadline, set by query admission (api/http/admit.ts) when the request arrived, so
   * that time spent queued counts; handlers without it start their own.
   */
  signal?: AbortSignal;
}

export interface Reply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  /**
   * A streamed body (a watch): called once the status and headers are written; it writes to the
   * response and ends it. `body` is ignored when it is set.
   */
  readonly stream?: (res: ServerResponse) => Promise<void>;
}

export type Handler = (ctx: RequestContext) => Promise<Reply>;
export type ErrorHandler = (err: unknown, ctx: RequestContext) => Reply;

/** What a route takes as a request body; without it, a body is not read (and is drained). */
export interface BodyOptions {
  /**
   * Media types of the bodies the handler reads: a body of another declared type is a 415 naming
   * these, before the handler runs. A body without a Content-Type is left to the handler.
   */
  readonly bodyTypes?: readonly string[];
  /** A POSTed `application/x-www-form-urlencoded` body becomes params, as Loki's read endpoints take. */
  readonly form?: boolean;
}

interface Route extends BodyOptions {
  /** The route's name in metrics and logs (routeLabel of its path): never the request's own path. */
  readonly label: string;
  readonly methods: readonly string[];
  readonly handler: Handler;
  readonly onError: ErrorHandler;
}

interface PatternRoute extends Route {
  readonly segments: readonly string[];
}

export class Router {
  private readonly routes = new Map<string, Route>();
  private readonly patterns: PatternRoute[] = [];
  private readonly unrouted: ((path: string) => Reply | undefined)[] = [];

  /** Adds an answer for paths no route serves (an API's own 404 under its prefix). */
  notFound(answer: (path: string) => Reply | undefined): this {
    this.unrouted.push(answer);
    return this;
  }

  /** The answer for a path no route serves, if an API gives one (else the server's plain 404). */
  notFoundReply(path: string): Reply | undefined {
    for (const answer of this.unrouted) {
      const reply = answer(path);
      if (reply) return reply;
    }
    return undefined;
  }

  /** Adds a route; `{name}` segments in `path` match one non-empty path segment each. */
  add(
    methods: readonly string[],
    path: string,
    handler: Handler,
    onError: ErrorHandler,
    body: BodyOptions = {},
  ): this {
    const route = { ...body, label: routeLabel(path), methods, handler, onError };
    if (path.includes('{')) this.patterns.push({ ...route, segments: path.split('/') });
    else this.routes.set(path, route);
    return this;
  }

  /** The route for a path and the values of its `{name}` segments (URL-decoded). */
  matchPath(path: string): { route: Route; pathParams: Record<string, string> } | undefined {
    const p = trimTrailingSlash(path);
    const exact = this.routes.get(p);
    if (exact) return { route: exact, pathParams: {} };
    const parts = p.split('/');
    for (const r of this.patterns) {
      if (r.segments.length !== parts.length) continue;
      const pathParams: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) {
        const seg = r.segments[i]!;
        const part = parts[i]!;
        if (seg.startsWith('{') && seg.endsWith('}')) {
          const value = decodeSegment(part);
          if (value === '') ok = false;
          else pathParams[seg.slice(1, -1)] = value;
        } else if (seg !== part) ok = false;
      }
      if (ok) return { route: r, pathParams };
    }
    return undefined;
  }
}

/**
 * The `route` label of a route's path, as Loki's (dskit's) middleware names routes: every run of
 * characters other than letters and digits becomes `_`, without leading or trailing ones,
 * lower-case, `root` for `/` (`/loki/api/v1/push` → `loki_api_v1_push`, a `{name}` segment its
 * name). Requests that match no route are `other` (OTHER_ROUTE), so the label's values are the
 * route table's, whatever paths clients send.
 */
export function routeLabel(path: string): string {
  return (
    path
      .replace(/[^a-zA-Z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .toLowerCase() || 'root'
  );
}

/** The `route` label of a request that matched no route. */
export const OTHER_ROUTE = 'other';

/** A path without its trailing slash (`/` stays `/`): routes and the auth gate see the same path. */
export function trimTrailingSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** A path segment, percent-decoded; as it is when it is not valid percent-encoding. */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export function json(status: number, value: unknown): Reply {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(value),
  };
}

export function text(status: number, body: string): Reply {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body };
}

/**
 * A response the client has read nothing of for this long is abandoned and its connection closed,
 * so that a client that stops reading cannot hold an answer in memory for ever (Loki's
 * `http_server_write_timeout` is 30 s from the request; this one counts from the last progress,
 * so a slow reader that keeps reading is not cut off).
 */
export const RESPONSE_IDLE_TIMEOUT_MS = 30_000;

export function send(res: ServerResponse, reply: Reply, idleTimeoutMs = RESPONSE_IDLE_TIMEOUT_MS): void {
  res.writeHead(reply.status, reply.headers);
  if (reply.stream) {
    reply.stream(res).catch(() => res.destroy());
    return;
  }
  res.end(reply.body);
  // Not all of it went to the kernel: the rest waits in memory until the client reads.
  const socket = res.socket;
  if (socket && !res.writableFinished && idleTimeoutMs > 0) {
    const abandon = (): void => {
      socket.destroy();
    };
    socket.setTimeout(idleTimeoutMs);
    socket.once('timeout', abandon);
    // Once it is all written, the server's keep-alive timeout (set on 'finish') takes over.
    res.once('finish', () => socket.off('timeout', abandon));
    res.once('close', () => socket.off('timeout', abandon));
  }
}
