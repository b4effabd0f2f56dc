/**
 * @module GET|POST /loki/api/v1/detected_labels: `query` (a selector, or none for every stream),
 * `start`, `end`; the labels are found by src/query/detected-labels.ts. No labels is `{}`: the field
 * is `omitempty` in Loki's protobuf-generated JSON.
 */
import { nowNs } from '../../model/time.js';
import type { Queries } from '../../query/queries.js';
import { type Handler, json } from '../http/router.js';
import { tenantOf } from '../http/tenant.js';
import { parseRange } from './params.js';
import { parseMatchersOnly } from './selector-param.js';

export interface DetectedLabelsOptions {
  /** The query operations on the store (src/query/queries.ts). */
  readonly queries: Queries;
  readonly now?: () => bigint;
}

export function detectedLabelsHandler(opts: DetectedLabelsOptions): Handler {
  const now = opts.now ?? nowNs;
  return async (ctx) => {
    const tenant = tenantOf(ctx.req.headers['x-scope-orgid']);
    // Loki parses the query only when there is one: none selects every stream.
    const query = ctx.params.get('query') ?? '';
    const matchers = query === '' ? [] : parseMatchersOnly(query);
    const { start, end } = parseRange(ctx.params, now());
    // Loki's label ranges include `end`; the store's are half-open.
    const detected = await opts.queries.detectedLabels({
      tenant,
      matchers,
      ...(ctx.restriction ? { restriction: ctx.restriction } : {}),
      start,
      end: end + 1n,
    });
    return json(200, detected.length > 0 ? { detectedLabels: detected } : {});
  };
}
