/**
 * @module LokiStack's gateway paths, `/api/logs/v1/{application|infrastructure|audit}/loki/api/v1/...`:
 * the same Loki endpoints, each restricted to one log class. A wrapped handler sees the class in
 * `ctx.classRestriction`, and its `query` parameter rewritten so that every stream selector also
 * matches `class="<c>"` (handlers that parse `query` themselves need nothing else): parsed, restricted
 * in the syntax tree and printed back; a query that does not parse is rewritten on its tokens, so
 * that the handler reports the same parse error it would have.
 */

export function restrictQuery(query: string, cls: LogClass): string {
  try {
    return formatExpr(restrictExpr(parseLogql(query), cls));
  } catch {
    return restrictQueryText(query, cls);
  }
}

import { formatExpr } from '../../logql/format.js';
import { parseLogql } from '../../logql/parser.js';
import { restrictExpr, restrictQueryText } from '../../logql/restrict.js';
import { CLASSES, type LogClass } from '../../model/record.js';
import type { Handler } from '../http/router.js';

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

export function restrictHandler(handler: Handler, cls: LogClass): Handler {
  return async (ctx) => {
    const params = new URLSearchParams(ctx.params);
    const query = params.get('query');
    if (query !== null && query.trim() !== '') params.set('query', restrictQuery(query, cls));
    return handler({ ...ctx, params, classRestriction: cls });
  };
}
