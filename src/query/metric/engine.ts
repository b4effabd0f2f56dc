/**
 * @module The metric engine: evaluates a LogQL metric expression at one time (instant query) or at
 * every step of a range (range query), as Loki does. Expressions evaluate to a scalar or to series
 * over the steps (types.ts); range aggregations read the store (range.ts), everything above them
 * works per step on those series.
 */
import { formatGoDuration, formatPromDuration } from '../../go/duration.js';
import type { MetricExpr } from '../../logql/ast.js';
import { LogqlUnsupportedError } from '../../logql/errors.js';
import { compileLogPipeline } from '../../logql/stages/index.js';
import { scalarScalar, vectorScalar, vectorVector } from './binary.js';
import { evalLabelReplace } from './label-replace.js';
import { compareLabels } from './labels.js';
import { checkCancelled, type EvalContext, evalRangeAggregation, newSeries } from './range.js';
import {
  DEFAULT_LIMITS,
  type InstantResult,
  type MetricContext,
  MetricLimitError,
  type MetricLimits,
  type MetricStats,
  type RangeResult,
  type Series,
  type StepSeries,
  type Steps,
  type StepValue,
} from './types.js';
import { evalVectorAggregation } from './vector.js';

const DEFAULT_MAX_BUCKETS = 100_000;

/** Loki's CanInjectVectorGrouping: range functions under `sum` that may group before aggregating. */
const INJECTABLE = new Set(['bytes_over_time', 'bytes_rate', 'count_over_time', 'rate', 'sum_over_time']);

function evalContext(ctx: MetricContext): EvalContext {
  const compile = ctx.compileLogPipeline;
  return {
    store: ctx.store,
    tenant: ctx.tenant,
    signal: ctx.signal,
    limits: { ...DEFAULT_LIMITS, ...ctx.limits },
    compileLogPipeline: compile ?? compileLogPipeline,
    maxBuckets: ctx.maxBuckets ?? DEFAULT_MAX_BUCKETS,
    path: ctx.path ?? 'auto',
    stats: { linesProcessed: 0, bytesProcessed: 0, linesCounted: 0 },
  };
}

function seriesLimitError(limit: number): MetricLimitError {
  return new MetricLimitError(
    `maximum number of series (${limit}) reached for a single query; consider reducing query cardinality by adding more specific stream selectors, reducing the time range, or aggregating results with functions like sum(), count() or topk()`,
  );
}

function maxRange(expr: MetricExpr): bigint {
  switch (expr.type) {
    case 'range':
      return expr.range + (expr.offset > 0n ? expr.offset : 0n);
    case 'vector':
    case 'labelReplace':
      return maxRange(expr.expr);
    case 'binary': {
      const l = maxRange(expr.left);
      const r = maxRange(expr.right);
      if (l > r) return l; // bigints: Math.max does not apply
      return r;
    }
    default:
      return 0n;
  }
}

function checkRanges(expr: MetricExpr, limit: bigint): void {
  if (limit <= 0n) return;
  switch (expr.type) {
    case 'range':
      if (expr.range > limit)
        throw new MetricLimitError(
          `[interval] value exceeds limit: [${formatPromDuration(expr.range)}] > [${formatPromDuration(limit)}]`,
        );
      return;
    case 'vector':
    case 'labelReplace':
      checkRanges(expr.expr, limit);
      return;
    case 'binary':
      checkRanges(expr.left, limit);
      checkRanges(expr.right, limit);
      return;
    default:
      return;
  }
}

function checkQueryLength(expr: MetricExpr, start: bigint, end: bigint, limits: MetricLimits): void {
  checkRanges(expr, limits.maxQueryRange);
  if (limits.maxQueryLength <= 0n) return;
  const length = end - start + maxRange(expr);
  if (length > limits.maxQueryLength) {
    throw new MetricLimitError(
      `the query time range exceeds the limit (query length: ${formatGoDuration(length)}, limit: ${formatPromDuration(limits.maxQueryLength)})`,
    );
  }
}

async function evaluate(ctx: EvalContext, expr: MetricExpr, steps: Steps): Promise<StepValue> {
  checkCancelled(ctx.signal);
  switch (expr.type) {
    case 'number':
      return { kind: 'scalar', value: expr.value };
    case 'vectorLiteral': {
      const s = newSeries({}, steps.n);
      s.values.fill(expr.value);
      s.present.fill(1);
      return { kind: 'matrix', series: [s] };
    }
    case 'range':
      return { kind: 'matrix', series: await evalRangeAggregation(ctx, expr, steps) };
    case 'vector': {
      const r = expr.expr;
      // As Loki does, `sum` hands its grouping down to a range aggregation without grouping of its
      // own, when the function adds up: fewer series, and Loki's order of additions.
      if (expr.op === 'sum' && r.type === 'range' && !r.grouping && INJECTABLE.has(r.fn)) {
        const grouping = expr.grouping ?? { without: false, labels: [] };
        const series = await evalRangeAggregation(ctx, r, steps, grouping);
        return { kind: 'matrix', series: evalVectorAggregation(expr, series, steps) };
      }
      const inner = await evaluate(ctx, r, steps);
      if (inner.kind !== 'matrix') throw new LogqlUnsupportedError(`${expr.op} over a scalar`);
      return { kind: 'matrix', series: evalVectorAggregation(expr, inner.series, steps) };
    }
    case 'labelReplace': {
      const inner = await evaluate(ctx, expr.expr, steps);
      if (inner.kind !== 'matrix') throw new LogqlUnsupportedError('label_replace over a scalar');
      return { kind: 'matrix', series: evalLabelReplace(expr, inner.series, steps) };
    }
    case 'binary': {
      const [l, r] = await Promise.all([evaluate(ctx, expr.left, steps), evaluate(ctx, expr.right, steps)]);
      if (l.kind === 'scalar' && r.kind === 'scalar')
        return { kind: 'scalar', value: scalarScalar(expr.op, l.value, r.value) };
      if (l.kind === 'scalar' && r.kind === 'matrix')
        return { kind: 'matrix', series: vectorScalar(expr, r.series, l.value, true, steps) };
      if (l.kind === 'matrix' && r.kind === 'scalar')
        return { kind: 'matrix', series: vectorScalar(expr, l.series, r.value, false, steps) };
      if (l.kind === 'matrix' && r.kind === 'matrix')
        return { kind: 'matrix', series: vectorVector(expr, l.series, r.series, steps) };
      throw new Error('unreachable');
    }
  }
}

/**
 * Whether sort or sort_desc appears anywhere in the expression: Loki's engine then returns an
 * instant vector in the order its evaluators produced (Sortable in pkg/logql/engine.go walks the
 * whole tree), so `sort(x) + 1` keeps sort's order; otherwise it sorts by labels.
 */
function containsSort(expr: MetricExpr): boolean {
  switch (expr.type) {
    case 'vector':
      return expr.op === 'sort' || expr.op === 'sort_desc' || containsSort(expr.expr);
    case 'labelReplace':
      return containsSort(expr.expr);
    case 'binary':
      return containsSort(expr.left) || containsSort(expr.right);
    default:
      return false;
  }
}

function statsOf(ctx: EvalContext): MetricStats {
  return { ...ctx.stats };
}

/**
 * An instant query at `time` (nanoseconds): a vector (sorted by labels, or by value for a
 * top-level sort/sort_desc) or, for a literal, a scalar.
 */
export async function evaluateInstant(
  ctx: MetricContext,
  expr: MetricExpr,
  time: bigint,
): Promise<InstantResult> {
  const ec = evalContext(ctx);
  checkQueryLength(expr, time, time, ec.limits);
  const v = await evaluate(ec, expr, { start: time, step: 0n, n: 1 });
  if (v.kind === 'scalar') return { type: 'scalar', value: v.value, stats: statsOf(ec) };
  const present = v.series.filter((s) => s.present[0]);
  if (present.length > ec.limits.maxSeries) throw seriesLimitError(ec.limits.maxSeries);
  if (!containsSort(expr)) present.sort((a, b) => compareLabels(a.labels, b.labels));
  return {
    type: 'vector',
    samples: present.map((s) => ({ labels: s.labels, value: s.values[0]! })),
    stats: statsOf(ec),
  };
}

/** Validates a range query's step as Loki's HTTP layer does; returns the number of steps. */
export function rangeSteps(start: bigint, end: bigint, step: bigint, maxPoints: number): number {
  if (step <= 0n)
    throw new MetricLimitError(
      'zero or negative query resolution step widths are not accepted. Try a positive integer',
    );
  if (end < start) throw new MetricLimitError('end timestamp must not be before or equal to start time');
  if ((end - start) / step > BigInt(maxPoints)) {
    throw new MetricLimitError(
      `exceeded maximum resolution of ${maxPoints.toLocaleString('en-US')} points per timeseries. Try decreasing the query resolution (?step=XX)`,
    );
  }
  return Number((end - start) / step) + 1;
}

/** A range query: steps start, start + step, ... ≤ end (nanoseconds); a matrix sorted by labels. */
export async function evaluateRange(
  ctx: MetricContext,
  expr: MetricExpr,
  start: bigint,
  end: bigint,
  step: bigint,
): Promise<RangeResult> {
  const ec = evalContext(ctx);
  const n = rangeSteps(start, end, step, ec.limits.maxPointsPerSeries);
  checkQueryLength(expr, start, end, ec.limits);
  const steps: Steps = { start, step, n };
  const v = await evaluate(ec, expr, steps);
  let series: StepSeries[];
  if (v.kind === 'scalar') {
    const s = newSeries({}, n);
    s.values.fill(v.value);
    s.present.fill(1);
    series = [s];
  } else series = v.series.filter((s) => s.present.includes(1));
  if (series.length > ec.limits.maxSeries) throw seriesLimitError(ec.limits.maxSeries);
  series.sort((a, b) => compareLabels(a.labels, b.labels));
  const out: Series[] = series.map((s) => {
    const points: [bigint, number][] = [];
    for (let i = 0; i < n; i++) if (s.present[i]) points.push([start + BigInt(i) * step, s.values[i]!]);
    return { labels: s.labels, points };
  });
  return { type: 'matrix', series: out, stats: statsOf(ec) };
}
