/**
 * @module Restricted paths of the Loki API: LokiStack's gateway paths,
 * `/api/logs/v1/{application|infrastructure|audit}/loki/api/v1/...`, each restricted to one log
 * class, and the namespaced paths of the aggregated API (`.../namespaces/<ns>/loki/api/v1/...`),
 * restricted to one namespace. A wrapped handler sees the extra matchers in `ctx.restriction`
 * (and the class in `ctx.classRestriction`), and its `query` parameter rewritten so that every
 * stream selector also has them (handlers that parse `query` themselves need nothing else): parsed,
 * restricted in the syntax tree and printed back; a query that does not parse is rewritten on its
 * tokens, so that the handler reports the same parse error it would have.
 */

import type { LabelMatcher } from '../../logql/ast.js';
import { formatExpr } from '../../logql/format.js';
import { parseLogql } from '../../logql/parser.js';
import { classMatcher, restrictExpr, restrictQueryText } from '../../logql/restrict.js';
import { CLASSES, type LogClass } from '../../model/record.js';
import type { Handler, RequestContext } from '../http/router.js';

export function restrictQuery(query: string, extra: readonly LabelMatcher[]): string {
  try {
    return formatExpr(restrictExpr(parseLogql(query), extra));
  } catch {
    return restrictQueryText(query, extra);
  }
}

export const LOKISTACK_PREFIX = '/api/logs/v1';

export const LOKISTACK_CLASSES: readonly LogClass[] = CLASSES;

export function lokiStackPath(cls: LogClass, lokiPath: string): string {
  return `${LOKISTACK_PREFIX}/${cls}${lokiPath}`;
}

/** The class of a LokiStack tail path, or undefined when `path` is not one. */
export function lokiStackTailClass(path: string): LogClass | undefined {
  const m = /^\/api\/logs\/v1\/([a-z]+)\/loki\/api\/v1\/tail\/?$/.exec(path);
  const cls = m?.[1];
  return cls !== undefined && (CLASSES as readonly string[]).includes(cls) ? (cls as LogClass) : undefined;
}

/** `ctx` with `matchers` added to every selector it reads: in `restriction`, and in its `query`. */
export function withRestriction(
  ctx: RequestContext,
  matchers: readonly LabelMatcher[],
  cls?: LogClass,
): RequestContext {
  if (matchers.length === 0 && cls === undefined) return ctx;
  const params = new URLSearchParams(ctx.params);
  const query = params.get('query');
  // A korrel8r query (`log:<class>:<selector>`) is not LogQL: its handler applies `restriction`.
  if (query !== null && query.trim() !== '' && !query.trimStart().startsWith('log:')) {
    params.set('query', restrictQuery(query, matchers));
  }
  return {
    ...ctx,
    params,
    restriction: [...(ctx.restriction ?? []), ...matchers],
    ...(cls !== undefined ? { classRestriction: cls } : {}),
  };
}

/** `handler` with `extra` added to every selector it reads (see the module comment). */
export function restrictedHandler(
  handler: Handler,
  extra: (ctx: RequestContext) => { readonly matchers: readonly LabelMatcher[]; readonly cls?: LogClass },
): Handler {
  return async (ctx) => {
    const { matchers, cls } = extra(ctx);
    return handler(withRestriction(ctx, matchers, cls));
  };
}

/** `handler` restricted to one LokiStack class. */
export function restrictHandler(handler: Handler, cls: LogClass): Handler {
  return restrictedHandler(handler, () => ({ matchers: [classMatcher(cls)], cls }));
}
