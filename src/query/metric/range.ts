/**
 * @module Range aggregations over the steps: windows (t - offset - range, t - offset], left-open as
 * in Loki. Two paths give identical results:
 * - push-down: when the pipeline is only store-evaluable line filters and the function only counts
 *   lines or bytes, the store counts per time bucket (width gcd(range, step)) and buckets add up to
 *   windows here;
 * - bucketed pipeline: with other stages, but a function that still only counts lines or bytes, the
 *   store reads entries unsorted, the pipeline runs here, and survivors are counted per bucket;
 * - streaming: entries come from the store in time order, in batches, through the pipeline; each
 *   series keeps only the samples its current window needs.
 */

import type { Grouping, RangeAggregation } from '../../logql/ast.js';
import { planLog } from '../../logql/plan.js';
import { entryLabels } from '../../logql/stages/state.js';
import type { CompileLogPipeline, LogPipeline } from '../../logql/stages/types.js';
import { allLabels } from '../../logql/stages/types.js';
import { labelsKey } from '../../model/labels-key.js';
import type { Labels } from '../../model/record.js';
import type { LabelMatcher, Store } from '../../store/store.js';
import { convertBytes, convertDuration, convertFloat } from './convert.js';
import { compileLabelFilters } from './filters.js';
import { windowValue } from './functions.js';
import { compareLabels, groupLabels, outputFails, pickOutputLabels } from './labels.js';
import {
  LogPipelineError,
  type MetricLimits,
  type MetricStats,
  QueryCancelledError,
  type StepSeries,
  type Steps,
} from './types.js';

export interface EvalContext {
  readonly store: Store;
  readonly tenant: string;
  readonly signal: AbortSignal | undefined;
  readonly limits: MetricLimits;
  readonly compileLogPipeline: CompileLogPipeline;
  readonly maxBuckets: number;
  readonly path: 'auto' | 'stream';
  readonly stats: MetricStats;
}

export function checkCancelled(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  const reason: unknown = signal.reason;
  if (reason instanceof QueryCancelledError) throw reason;
  const timeout = reason instanceof Error && reason.name === 'TimeoutError';
  throw new QueryCancelledError(
    timeout ? 'query timed out: context deadline exceeded' : 'query cancelled: context canceled',
  );
}

const PUSHABLE = new Set(['count_over_time', 'rate', 'bytes_over_time', 'bytes_rate', 'absent_over_time']);

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a < 0n ? -a : a;
}

export function newSeries(labels: Labels, n: number): StepSeries {
  return { labels, values: new Float64Array(n), present: new Uint8Array(n) };
}

function pipelineErrorMessage(labels: Labels): string {
  const kind = labels.__error__ ?? '';
  return (
    `pipeline error: '${kind}' for series: '${labelsKey(labels)}'.\n` +
    `Use a label filter to intentionally skip this error. (e.g | __error__!="${kind}").\n` +
    `To skip all potential errors you can match empty errors.(e.g __error__="")\n` +
    `The label filter can also be specified after unwrap. (e.g | unwrap latency | __error__="" )\n`
  );
}

/** Loki's labels for absent_over_time: the selector's equality matchers, minus any name matched otherwise. */
export function absentLabels(matchers: readonly LabelMatcher[]): Labels {
  const out: Labels = {};
  const empty: string[] = [];
  for (const m of matchers) {
    if (m.name === '__name__') continue;
    if (m.op === '=' && !Object.hasOwn(out, m.name)) out[m.name] = m.value;
    else empty.push(m.name);
  }
  for (const n of empty) delete out[n];
  return out;
}

/** The series of a range aggregation over the steps, sorted by labels. */
export async function evalRangeAggregation(
  ctx: EvalContext,
  expr: RangeAggregation,
  steps: Steps,
  /** The grouping of an enclosing `sum`, applied before the range function as Loki injects it. */
  inject?: Grouping,
): Promise<StepSeries[]> {
  const plan = planLog(expr.log);
  const pushable =
    ctx.path !== 'stream' &&
    !expr.unwrap &&
    !expr.grouping &&
    plan.rest.length === 0 &&
    PUSHABLE.has(expr.fn);
  let series: StepSeries[] | undefined;
  const grouping = expr.grouping ?? inject;
  if (pushable) series = await pushDown(ctx, expr, steps, plan.matchers, plan.lineFilters, inject);
  else if (ctx.path !== 'stream' && !expr.unwrap && plan.rest.length > 0 && PUSHABLE.has(expr.fn)) {
    series = await bucketedPipeline(ctx, expr, steps, plan, grouping);
  }
  series ??= await stream(ctx, expr, steps, plan, grouping);
  series.sort((a, b) => compareLabels(a.labels, b.labels));
  if (expr.fn !== 'absent_over_time') return series;
  const absent = newSeries(absentLabels(expr.log.matchers), steps.n);
  let any = false;
  for (let i = 0; i < steps.n; i++) {
    if (!series.some((s) => s.present[i])) {
      absent.values[i] = 1;
      absent.present[i] = 1;
      any = true;
    }
  }
  return any ? [absent] : [];
}

/** The end (inclusive) of each step's window. */
function windowEnds(expr: RangeAggregation, steps: Steps): bigint[] {
  const ends: bigint[] = new Array(steps.n);
  for (let i = 0; i < steps.n; i++) ends[i] = steps.start + BigInt(i) * steps.step - expr.offset;
  return ends;
}

/** An entry's labels without stages: structured metadata named like a stream label takes `_extracted`. */
function streamLabels(stream: Labels, attributes: Labels): Labels {
  return entryLabels(stream, attributes);
}

/**
 * Buckets of width gcd(range, step) that add up to every window: bucket k holds timestamps in
 * (origin + k*width, origin + (k+1)*width]; `end` is the exclusive end of the last window. Undefined
 * when there would be more than `maxBuckets`.
 */
function bucketGeometry(
  expr: RangeAggregation,
  steps: Steps,
  maxBuckets: number,
): { width: bigint; origin: bigint; end: bigint } | undefined {
  const range = expr.range;
  const width = steps.n === 1 ? range : gcd(range, steps.step);
  const buckets = (BigInt(steps.n - 1) * steps.step + range) / width;
  if (buckets > BigInt(maxBuckets)) return undefined;
  const ends = windowEnds(expr, steps);
  return { width, origin: ends[0]! - range, end: ends[steps.n - 1]! + 1n };
}

/**
 * A pipeline that ends in counting lines or bytes: the order of entries does not matter, so the
 * store reads them unsorted, the pipeline runs on each, and survivors are counted per series and
 * bucket as the store would count them. Undefined when there would be too many buckets.
 */
async function bucketedPipeline(
  ctx: EvalContext,
  expr: RangeAggregation,
  steps: Steps,
  plan: ReturnType<typeof planLog>,
  grouping: Grouping | undefined,
): Promise<StepSeries[] | undefined> {
  const geometry = bucketGeometry(expr, steps, ctx.maxBuckets);
  if (!geometry) return undefined;
  const { width, origin, end } = geometry;
  const pipeline = ctx.compileLogPipeline(plan.rest);
  const bytesFn = expr.fn === 'bytes_over_time' || expr.fn === 'bytes_rate';
  const bySeries = new Map<
    string,
    { labels: Labels; buckets: Map<number, { entries: number; bytes: number }> }
  >();
  const query = {
    tenant: ctx.tenant,
    start: origin + 1n,
    end,
    matchers: plan.matchers,
    lineFilters: plan.lineFilters,
    hints: plan.hints,
    direction: 'forward' as const,
    unordered: true,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  };
  for await (const batch of ctx.store.entries(query)) {
    checkCancelled(ctx.signal);
    for (const e of batch) {
      ctx.stats.linesProcessed++;
      ctx.stats.bytesProcessed += e.body.length;
      const out = pipeline.process({
        timestamp: e.timestamp,
        line: e.body,
        stream: e.stream.labels,
        metadata: e.attributes,
      });
      if (!out) continue;
      let labels: Labels;
      let key: string | undefined;
      if (grouping && !grouping.without && !pipeline.linesOnly) {
        // `by (...)`: only the kept labels are looked up, not every label copied (labels.ts).
        if (outputFails(out)) throw new LogPipelineError(pipelineErrorMessage(allLabels(out)));
        labels = pickOutputLabels(out, grouping.labels);
      } else {
        if (pipeline.linesOnly) {
          labels = streamLabels(e.stream.labels, e.attributes);
          if (labels === e.stream.labels) key = `#${e.stream.id}`;
        } else labels = allLabels(out);
        if (labels.__error__ && labels.__preserve_error__ !== 'true') {
          throw new LogPipelineError(pipelineErrorMessage(labels));
        }
        if (grouping) {
          labels = groupLabels(labels, grouping.without, grouping.labels);
          key = undefined;
        }
      }
      key ??= labelsKey(labels);
      let series = bySeries.get(key);
      if (!series) {
        series = { labels, buckets: new Map() };
        bySeries.set(key, series);
      }
      const bucket = Number((e.timestamp - origin - 1n) / width);
      let b = series.buckets.get(bucket);
      if (!b) {
        b = { entries: 0, bytes: 0 };
        series.buckets.set(bucket, b);
      }
      b.entries++;
      if (bytesFn) b.bytes += Buffer.byteLength(out.line);
    }
  }
  // A read cut short by the deadline must not count as the whole (the store should reject; this
  // holds even for one that just stops).
  checkCancelled(ctx.signal);
  const list: BucketSeries[] = [];
  for (const { labels, buckets } of bySeries.values()) {
    const rows: BucketRow[] = [];
    for (const [bucket, b] of buckets) rows.push({ bucket, entries: b.entries, bytes: b.bytes });
    list.push({ labels, rows });
  }
  return bucketsToSeries(expr, steps, width, list);
}

async function pushDown(
  ctx: EvalContext,
  expr: RangeAggregation,
  steps: Steps,
  matchers: readonly LabelMatcher[],
  lineFilters: ReturnType<typeof planLog>['lineFilters'],
  grouping: Grouping | undefined,
): Promise<StepSeries[] | undefined> {
  const geometry = bucketGeometry(expr, steps, ctx.maxBuckets);
  if (!geometry) return undefined;
  const { width, origin, end } = geometry;
  const rows = await ctx.store.countByBucket(
    {
      tenant: ctx.tenant,
      start: origin + 1n,
      end,
      matchers,
      lineFilters,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    },
    origin,
    width,
    { bytes: expr.fn === 'bytes_over_time' || expr.fn === 'bytes_rate' },
  );
  checkCancelled(ctx.signal);
  // Group the buckets by series.
  const bySeries = new Map<string, BucketSeries>();
  for (const r of rows) {
    let labels = streamLabels(r.stream.labels, r.attributes);
    let key: string;
    if (grouping) {
      labels = groupLabels(labels, grouping.without, grouping.labels);
      key = labelsKey(labels);
    } else key = labels === r.stream.labels ? `#${r.stream.id}` : labelsKey(labels);
    let s = bySeries.get(key);
    if (!s) {
      s = { labels, rows: [] };
      bySeries.set(key, s);
    }
    s.rows.push(r);
    ctx.stats.linesCounted += r.entries;
    ctx.stats.bytesProcessed += r.bytes;
  }
  return bucketsToSeries(expr, steps, width, bySeries.values());
}

interface BucketRow {
  readonly bucket: number;
  readonly entries: number;
  readonly bytes: number;
}

interface BucketSeries {
  readonly labels: Labels;
  readonly rows: BucketRow[];
}

/** Adds up each series' buckets (width `width`) into the windows of the steps. */
function bucketsToSeries(
  expr: RangeAggregation,
  steps: Steps,
  width: bigint,
  bySeries: Iterable<BucketSeries>,
): StepSeries[] {
  const range = expr.range;
  const stepBuckets = steps.n === 1 ? 0 : Number(steps.step / width);
  const rangeBuckets = Number(range / width);
  const seconds = Number(range) / 1e9;
  const out: StepSeries[] = [];
  for (const { labels, rows: list } of bySeries) {
    list.sort((a, b) => a.bucket - b.bucket);
    // Prefix sums: entries and bytes of buckets before index j.
    const m = list.length;
    const bk = new Float64Array(m);
    const pe = new Float64Array(m + 1);
    const pb = new Float64Array(m + 1);
    for (let j = 0; j < m; j++) {
      const r = list[j]!;
      bk[j] = r.bucket;
      pe[j + 1] = pe[j]! + r.entries;
      pb[j + 1] = pb[j]! + r.bytes;
    }
    const s = newSeries(labels, steps.n);
    let a = 0;
    let b = 0;
    let any = false;
    for (let i = 0; i < steps.n; i++) {
      const lo = i * stepBuckets;
      const hi = lo + rangeBuckets;
      while (a < m && bk[a]! < lo) a++;
      if (b < a) b = a;
      while (b < m && bk[b]! < hi) b++;
      if (a === b) continue;
      const entries = pe[b]! - pe[a]!;
      const bytes = pb[b]! - pb[a]!;
      let v: number;
      switch (expr.fn) {
        case 'count_over_time':
          v = entries;
          break;
        case 'rate':
          v = entries / seconds;
          break;
        case 'bytes_over_time':
          v = bytes;
          break;
        case 'bytes_rate':
          v = bytes / seconds;
          break;
        default:
          v = 1;
      }
      s.values[i] = v;
      s.present[i] = 1;
      any = true;
    }
    if (any) out.push(s);
  }
  return out;
}

interface WindowState {
  readonly out: StepSeries;
  ts: bigint[];
  vs: number[];
  head: number;
}

type Extract = (labels: Labels, line: string) => { labels: Labels; value: number } | undefined;

function unwrapExtractor(expr: RangeAggregation): Extract | undefined {
  const unwrap = expr.unwrap;
  if (!unwrap) return undefined;
  const convert =
    unwrap.conversion === 'bytes'
      ? convertBytes
      : unwrap.conversion === 'duration' || unwrap.conversion === 'duration_seconds'
        ? convertDuration
        : convertFloat;
  const post = compileLabelFilters(unwrap.postFilters);
  const name = unwrap.label;
  // As in Loki 3: an entry without the label gives no sample (grafana/loki#6713); a value that does
  // not convert gives a sample of 0 marked with __error__, which overrides an earlier error. The
  // unwrapped label itself leaves the series: see unwrapGrouping.
  return (labels) => {
    const text = labels[name];
    if (text === undefined || text === '') return undefined;
    let out = labels;
    let value = 0;
    try {
      value = convert(text);
    } catch (err) {
      out = { ...labels, __error__: 'SampleExtractionErr', __error_details__: (err as Error).message };
    }
    if (post) {
      const r = post(out);
      if (!r.keep) return undefined;
      out = r.labels;
    }
    return { labels: out, value };
  };
}

/**
 * The grouping of an unwrap's samples, as Loki's LabelExtractorWithStages sets it
 * (pkg/logql/log/metrics_extraction.go): no grouping, or `without (...)`, becomes
 * `without (..., <the unwrapped label>)`, so the unwrapped label never makes a series of its own;
 * `by (...)` keeps only the labels it names (`by ()`: none).
 */
export function unwrapGrouping(label: string, grouping: Grouping | undefined): Grouping {
  if (grouping && !grouping.without) return grouping;
  return { without: true, labels: [...(grouping?.labels ?? []), label] };
}

async function stream(
  ctx: EvalContext,
  expr: RangeAggregation,
  steps: Steps,
  plan: ReturnType<typeof planLog>,
  grouping: Grouping | undefined,
): Promise<StepSeries[]> {
  let pipeline: LogPipeline | undefined;
  if (plan.rest.length > 0) pipeline = ctx.compileLogPipeline(plan.rest);
  const unwrap = unwrapExtractor(expr);
  const bytesFn = expr.fn === 'bytes_over_time' || expr.fn === 'bytes_rate';
  const range = expr.range;
  const ends = windowEnds(expr, steps);
  const n = steps.n;
  const states = new Map<string, WindowState>();
  const active = new Set<WindowState>();
  const all: StepSeries[] = [];
  const unwrapped = expr.unwrap !== undefined;
  const unwrapGroups = expr.unwrap ? unwrapGrouping(expr.unwrap.label, grouping) : undefined;

  const finalize = (i: number): void => {
    const lo = ends[i]! - range;
    for (const st of active) {
      const { ts } = st;
      let h = st.head;
      while (h < ts.length && ts[h]! <= lo) h++;
      if (h === ts.length) {
        st.ts = [];
        st.vs = [];
        st.head = 0;
        active.delete(st);
        continue;
      }
      if (h > 1024 && h * 2 > ts.length) {
        st.ts = ts.slice(h);
        st.vs = st.vs.slice(h);
        h = 0;
      }
      st.head = h;
      st.out.values[i] = windowValue(expr.fn, st.ts, st.vs, h, range, unwrapped, expr.param);
      st.out.present[i] = 1;
    }
  };

  let cur = 0;
  const query = {
    tenant: ctx.tenant,
    start: ends[0]! - range + 1n,
    end: ends[n - 1]! + 1n,
    matchers: plan.matchers,
    lineFilters: plan.lineFilters,
    hints: plan.hints,
    direction: 'forward' as const,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  };
  outer: for await (const batch of ctx.store.entries(query)) {
    checkCancelled(ctx.signal);
    for (const e of batch) {
      const ts = e.timestamp;
      while (cur < n && ts > ends[cur]!) finalize(cur++);
      if (cur >= n) break outer;
      ctx.stats.linesProcessed++;
      ctx.stats.bytesProcessed += e.body.length;
      if (ts <= ends[cur]! - range) continue; // between windows (step > range)
      let labels: Labels;
      let key: string | undefined;
      let line = e.body;
      if (pipeline) {
        const out = pipeline.process({
          timestamp: ts,
          line: e.body,
          stream: e.stream.labels,
          metadata: e.attributes,
        });
        if (!out) continue;
        line = out.line;
        if (pipeline.linesOnly) {
          labels = streamLabels(e.stream.labels, e.attributes);
          if (labels === e.stream.labels) key = `#${e.stream.id}`;
        } else labels = allLabels(out);
      } else {
        labels = streamLabels(e.stream.labels, e.attributes);
        if (labels === e.stream.labels) key = `#${e.stream.id}`;
      }
      let value: number;
      if (unwrap) {
        const s = unwrap(labels, line);
        if (!s) continue;
        labels = s.labels;
        value = s.value;
        key = undefined;
      } else value = bytesFn ? Buffer.byteLength(line) : 1;
      if (labels.__error__ && labels.__preserve_error__ !== 'true') {
        throw new LogPipelineError(pipelineErrorMessage(labels));
      }
      // With an error (kept by __preserve_error__) the labels stay whole, as Loki's
      // LabelsBuilder.GroupedLabels leaves them.
      const groups = unwrapGroups ?? grouping;
      if (groups && !labels.__error__) {
        labels = groupLabels(labels, groups.without, groups.labels);
        key = undefined;
      }
      key ??= labelsKey(labels);
      let st = states.get(key);
      if (!st) {
        const out = newSeries(labels, n);
        all.push(out);
        st = { out, ts: [], vs: [], head: 0 };
        states.set(key, st);
      }
      st.ts.push(ts);
      st.vs.push(value);
      active.add(st);
    }
  }
  checkCancelled(ctx.signal);
  while (cur < n) {
    finalize(cur++);
    if ((cur & 255) === 0) checkCancelled(ctx.signal);
  }
  return all.filter((s) => s.present.includes(1));
}
