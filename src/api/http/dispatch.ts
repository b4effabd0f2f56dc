/**
 * @module The request dispatcher: a request's URL, its route (api/http/router.ts), the route's
 * method and body checks, the handler, and the reply or the route's error reply; an answer no
 * authorization decision covered is refused (fail closed).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Access } from '../../auth/index.js';
import { DiskFullError } from '../../journal/disk-full.js';
import { bodyMediaType, checkBodyType, FORM_TYPE, readBody } from './body.js';
import { HttpError } from './errors.js';
import { ERROR_ID_HEADER } from './internal-error.js';
import { type RequestContext, type Router, send, text } from './router.js';

/** The request's URL, or undefined when its target does not parse. */
export function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
}

export async function handle(
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
    // A full disk is no fault of the server's: the guard logs when writes pause and resume. An
    // internal error was logged with its id where it became the reply (api/http/internal-error.ts).
    if (reply.status >= 500 && !(err instanceof DiskFullError) && !reply.headers?.[ERROR_ID_HEADER])
      process.stderr.write(`error on ${req.method} ${url.pathname}: ${(err as Error).stack ?? err}\n`);
    send(res, reply);
  }
}
