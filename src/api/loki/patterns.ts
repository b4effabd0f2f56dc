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
import { badRequest } from '../http/errors.js';
import type { Handler } from '../http/router.js';
import { tenantOf } from '../http/tenant.js';
import { goJson } from './go-json.js';
import { parseRange, parseSecondsOrDuration } from './params.js';
import { parseMatchersOnly } from './selector-param.js';

export interface PatternsOptions {
  /** The query operations on the store (src/query/queries.ts). */
  readonly queries: Queries;
  readonly now?: () => bigint;
  readonly limits?: PatternLimits;
}

const NS_PER_SECOND = 1_000_000_000n;
const MAX_POINTS = 11_000n;

/** Loki's step(): given as seconds or a duration, else (end - start) / 250 s, at least 1 s. */
function patternStep(params: URLSearchParams, start: bigint, end: bigint): bigint {
  const text = params.get('step');
  let step: bigint;
  if (text === null || text === '') {
    const seconds = (end - start) / 250n / NS_PER_SECOND;
    step = (seconds > 1n ? seconds : 1n) * NS_PER_SECOND;
  } else {
    try {
      step = parseSecondsOrDuration(text);
    } catch (err) {
      throw badRequest(`invalid step: ${(err as Error).message}`);
    }
  }
  if (step <= 0n)
    throw badRequest(
      'zero or negative query resolution step widths are not accepted. Try a positive integer',
    );
  if ((end - start) / step > MAX_POINTS)
    throw badRequest(
      'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
    );
  return step;
}

export function patternsHandler(opts: PatternsOptions): Handler {
  const now = opts.now ?? nowNs;
  return async (ctx) => {
    const tenant = tenantOf(ctx.req.headers['x-scope-orgid']);
    // Restricted paths have their matchers in `query` already (lokistack.ts).
    const matchers = parseMatchersOnly(ctx.params.get('query') ?? '');
    const { start, end } = parseRange(ctx.params, now());
    const step = patternStep(ctx.params, start, end);
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
