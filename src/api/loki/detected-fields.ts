/**
 * @module GET /loki/api/v1/detected_fields: the request's parameters and Loki's reply; the fields
 * are found by src/query/detected-fields.ts.
 */
import { isLogExpr } from '../../logql/ast.js';
import { parseLogql } from '../../logql/parser.js';
import { nowNs } from '../../model/time.js';
import type { Queries } from '../../query/queries.js';
import { badRequest } from '../http/errors.js';
import { type Handler, json } from '../http/router.js';
import { tenantOf } from '../http/tenant.js';
import { parseRange } from './params.js';

export interface DetectedFieldsOptions {
  /** The query operations on the store (src/query/queries.ts). */
  readonly queries: Queries;
  readonly now?: () => bigint;
}

function positiveInt(params: URLSearchParams, names: readonly string[], def: number): number {
  for (const name of names) {
    const text = params.get(name);
    if (text === null || text === '') continue;
    if (!/^\d+$/.test(text) || Number(text) <= 0)
      throw badRequest(`invalid ${name} '${text}': must be a positive integer`);
    return Number(text);
  }
  return def;
}

/** GET /loki/api/v1/detected_fields: `query`, `start`, `end`, `since`, `line_limit`, `limit`. */
export function detectedFieldsHandler(opts: DetectedFieldsOptions): Handler {
  const now = opts.now ?? nowNs;
  return async (ctx) => {
    const tenant = tenantOf(ctx.req.headers['x-scope-orgid']);
    const q = ctx.params.get('query');
    if (q === null || q.trim() === '') throw badRequest('query must not be empty');
    const expr = parseLogql(q);
    if (!isLogExpr(expr)) throw badRequest('detected_fields needs a log query');
    const { start, end } = parseRange(ctx.params, now());
    const lineLimit = positiveInt(ctx.params, ['line_limit'], 1000);
    const fieldLimit = positiveInt(ctx.params, ['limit', 'field_limit'], 1000);
    const fields = await opts.queries.detectFields({
      tenant,
      expr,
      start,
      end: end + 1n,
      lineLimit,
      fieldLimit,
      ...(ctx.restriction === undefined ? {} : { restriction: ctx.restriction }),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    return json(200, { fields, limit: fieldLimit });
  };
}
