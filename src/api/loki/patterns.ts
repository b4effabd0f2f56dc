/**
 * @module GET|POST /loki/api/v1/patterns: the log patterns of a stream selector over a range, with
 * their line counts per step, in Loki's request and response shapes (pkg/loghttp/patterns.go,
 * pkg/util/marshal WriteQueryPatternsResponseJSON). Grafana's Logs Drilldown asks it for its
 * Patterns tab: `query` (a selector), `start`, `end` (RFC 3339), `step` (the panel interval).
 * The patterns are mined from the stored lines (src/query/patterns).
 */
import { nowNs } from '../../model/time.js';
import { DEFAULT_PATTERN_LIMITS, type PatternLimits } from '../../query/patterns/mine.js';
import type { Queries } from '../../query/queries.js';
import type { Handler } from '../http/router.js';
import { tenantOf } from '../http/tenant.js';
import { goJson } from './go-json.js';
import { checkResolution, parseRange, parseStep } from './params.js';
import { parseMatchersOnly } from './selector-param.js';

export interface PatternsOptions {
  /** The query operations on the store (src/query/queries.ts). */
  readonly queries: Queries;
  readonly now?: () => bigint;
  readonly limits?: PatternLimits;
}

export function patternsHandler(opts: PatternsOptions): Handler {
  const now = opts.now ?? nowNs;
  return async (ctx) => {
    const tenant = tenantOf(ctx.req.headers['x-scope-orgid']);
    // Restricted paths have their matchers in `query` already (lokistack.ts).
    const matchers = parseMatchersOnly(ctx.params.get('query') ?? '');
    const { start, end } = parseRange(ctx.params, now());
    const step = parseStep(ctx.params, start, end);
    checkResolution(start, end, step);
    const { patterns } = await opts.queries.patterns(
      {
        tenant,
        matchers,
        start,
        end,
        stepMs: Number(step / 1_000_000n),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      },
      opts.limits ?? DEFAULT_PATTERN_LIMITS,
    );
    // Loki writes patterns with jsoniter's HTML-escaping string writer: `<_>` is `\u003c_\u003e`.
    return goJson(200, { status: 'success', data: patterns });
  };
}
