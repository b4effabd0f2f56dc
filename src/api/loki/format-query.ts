/**
 * @module GET|POST /loki/api/v1/format_query: a LogQL query pretty-printed (src/logql/pretty.ts),
 * as Loki's formatQueryHandler answers (pkg/loki/format_query_handler.go):
 * `{"status":"success","data":"<formatted>"}`, or for a query that does not parse a 400
 * `{"status":"invalid-query","error":"parse error at line 1, col ...: ..."}`.
 *
 * The query printed is the one the client sent: restricted paths (a LokiStack class, a namespace)
 * and the kinds a user may read add matchers to the `query` parameter of every read on its way to
 * the handler, which formatting must not show. `keepOriginalQuery`, wrapped outermost, keeps the
 * text as sent beside the request.
 */
import { LogqlParseError, LogqlUnsupportedError } from '../../logql/errors.js';
import { parseLogql } from '../../logql/parser.js';
import { prettify } from '../../logql/pretty.js';
import type { Handler, Reply, RequestContext } from '../http/router.js';
import { goJson } from './go-json.js';

const ORIGINAL_QUERY = Symbol('format_query: the query as sent');

type WithOriginal = RequestContext & { readonly [ORIGINAL_QUERY]?: string | null };

/** Loki's answer for a query as sent: formatted, or the parse error. */
function format(query: string): Reply {
  try {
    return goJson(200, { status: 'success', data: prettify(parseLogql(query)) });
  } catch (err) {
    if (err instanceof LogqlParseError || err instanceof LogqlUnsupportedError)
      return goJson(400, { status: 'invalid-query', error: err.message });
    throw err;
  }
}

/**
 * `handler` with the request's `query` kept as sent: the wrappers in between copy the request
 * context with its properties (`{...ctx}`), this one included. A query that does not parse is
 * refused on the way (by the read authorization, read-access.ts) with a plain-text 400 about the
 * query as rewritten: it is answered here, in format_query's JSON, about the query as sent.
 */
export function keepOriginalQuery(handler: Handler): Handler {
  return async (ctx) => {
    const sent = ctx.params.get('query') ?? '';
    try {
      return await handler({ ...ctx, [ORIGINAL_QUERY]: sent } as WithOriginal);
    } catch (err) {
      if (err instanceof LogqlParseError || err instanceof LogqlUnsupportedError) return format(sent);
      throw err;
    }
  };
}

function queryOf(ctx: WithOriginal): string {
  return (ORIGINAL_QUERY in ctx ? ctx[ORIGINAL_QUERY] : ctx.params.get('query')) ?? '';
}

export function formatQueryHandler(): Handler {
  return async (ctx) => format(queryOf(ctx));
}
