/**
 * @module Loki's metadata endpoints: labels, label values, series, index stats and volume, build
 * info. Answers in Loki's JSON (pkg/util/marshal, pkg/loghttp). Label names are the stored stream
 * labels; a label's values may be asked for under any spelling of Kubernetes metadata (plain, Viaq,
 * OTEL). On LokiStack paths every selection is restricted to the path's class.
 */
import { isLogExpr } from '../../logql/ast.js';
import { parseLogql } from '../../logql/parser.js';
import { restrictSelector } from '../../logql/restrict.js';
import { labelValue } from '../../model/kube-meta.js';
import { NS_PER_SECOND, nowNs } from '../../model/time.js';
import { unixSeconds } from '../../query/results.js';
import type { LabelMatcher, Store, StreamCount, StreamRef } from '../../store/store.js';
import { badRequest } from '../http/errors.js';
import { type Handler, json, type RequestContext } from '../http/router.js';
import { tenantOf } from '../http/tenant.js';
import { parseRange, parseSecondsOrDuration } from './params.js';

export interface MetadataOptions {
  readonly store: Store;
  readonly now?: () => bigint;
}

/** The version kjournal reports on /status/buildinfo: the Loki API level it answers as. */
export const LOKI_COMPATIBLE_VERSION = '3.4.0';

/** The stream matchers of a selector-only query parameter; none when the parameter is absent. */
export function selectorMatchers(query: string | null, what = 'query'): LabelMatcher[] | undefined {
  if (query === null || query.trim() === '') return undefined;
  const expr = parseLogql(query);
  if (!isLogExpr(expr)) throw badRequest(`${what} must be a log stream selector: ${query}`);
  return [...expr.matchers];
}

function restricted(ctx: RequestContext, matchers: readonly LabelMatcher[]): readonly LabelMatcher[] {
  return ctx.restriction === undefined ? matchers : restrictSelector(matchers, ctx.restriction);
}

async function selectStreams(
  store: Store,
  ctx: RequestContext,
  matchers: readonly LabelMatcher[],
  now: bigint,
): Promise<StreamRef[]> {
  const tenant = tenantOf(ctx.req.headers['x-scope-orgid']);
  const { start, end } = parseRange(ctx.params, now);
  // Loki's metadata ranges include `end`; the store's are half-open.
  return store.streams(tenant, restricted(ctx, matchers), start, end + 1n);
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Loki omits `data` when there are no values (`json:"data,omitempty"`). */
function labelResponse(values: Iterable<string>) {
  const data = [...values].sort(byName);
  return json(200, data.length > 0 ? { status: 'success', data } : { status: 'success' });
}

/** GET|POST /loki/api/v1/labels: `start`, `end`, `since`, `query`. */
export function labelsHandler(opts: MetadataOptions): Handler {
  const now = opts.now ?? nowNs;
  return async (ctx) => {
    const matchers = selectorMatchers(ctx.params.get('query')) ?? [];
    const streams = await selectStreams(opts.store, ctx, matchers, now());
    const names = new Set<string>();
    for (const s of streams) for (const k of Object.keys(s.labels)) names.add(k);
    return labelResponse(names);
  };
}

/** GET|POST /loki/api/v1/label/{name}/values: `start`, `end`, `since`, `query`. */
export function labelValuesHandler(opts: MetadataOptions): Handler {
  const now = opts.now ?? nowNs;
  return async (ctx) => {
    const name = ctx.pathParams?.name;
    if (name === undefined || name === '') throw badRequest('label name is required');
    const matchers = selectorMatchers(ctx.params.get('query')) ?? [];
    const streams = await selectStreams(opts.store, ctx, matchers, now());
    const values = new Set<string>();
    for (const s of streams) {
      const v = labelValue(s.labels, name);
      if (v !== undefined && v !== '') values.add(v);
    }
    return labelResponse(values);
  };
}

/** `match[]` (or `match`), repeated; Loki answers every stream when none is given. */
function matchGroups(params: URLSearchParams): (readonly LabelMatcher[])[] {
  const groups = [...params.getAll('match[]'), ...params.getAll('match')];
  if (groups.length === 0) return [[]];
  return groups.map((g) => selectorMatchers(g, 'match[]') ?? []);
}

/** GET|POST /loki/api/v1/series: `match[]`, `start`, `end`, `since`. */
export function seriesHandler(opts: MetadataOptions): Handler {
  const now = opts.now ?? nowNs;
  return async (ctx) => {
    const seen = new Map<bigint, StreamRef>();
    const t = now();
    for (const matchers of matchGroups(ctx.params)) {
      for (const s of await selectStreams(opts.store, ctx, matchers, t)) seen.set(s.id, s);
    }
    const data = [...seen.values()].map((s) => s.labels).sort((a, b) => byName(labelsText(a), labelsText(b)));
    return json(200, { status: 'success', data });
  };
}

function labelsText(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels)
    .sort(byName)
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',');
}

function requiredSelector(params: URLSearchParams): LabelMatcher[] {
  const m = selectorMatchers(params.get('query'));
  if (m === undefined) throw badRequest('query must not be empty');
  return m;
}

async function countStreams(opts: MetadataOptions, ctx: RequestContext, now: bigint) {
  const tenant = tenantOf(ctx.req.headers['x-scope-orgid']);
  const matchers = requiredSelector(ctx.params);
  const { start, end } = parseRange(ctx.params, now);
  const counts = await opts.store.countByStream({
    tenant,
    start,
    end: end + 1n,
    matchers: restricted(ctx, matchers),
    lineFilters: [],
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  return { counts, matchers, end };
}

/**
 * GET|POST /loki/api/v1/index/stats: `{streams, chunks, bytes, entries}`. kjournal has no chunks;
 * it counts one per stream with entries in the range, as a Loki head chunk would.
 */
export function indexStatsHandler(opts: MetadataOptions): Handler {
  const now = opts.now ?? nowNs;
  return async (ctx) => {
    const { counts } = await countStreams(opts, ctx, now());
    let bytes = 0;
    let entries = 0;
    for (const c of counts) {
      bytes += c.bytes;
      entries += c.entries;
    }
    return json(200, { streams: counts.length, chunks: counts.length, bytes, entries });
  };
}

interface VolumeSpec {
  readonly limit: number;
  readonly aggregateBy: 'series' | 'labels';
  /** Given targetLabels, else the selector's label names. */
  readonly targets: readonly string[];
  readonly explicitTargets: boolean;
}

function volumeSpec(params: URLSearchParams, matchers: readonly LabelMatcher[]): VolumeSpec {
  const limitText = params.get('limit');
  const limit = limitText ? Number(limitText) : 100;
  if (!Number.isInteger(limit) || limit <= 0) throw badRequest(`invalid limit '${limitText}'`);
  const aggregateBy = params.get('aggregateBy') ?? 'series';
  if (aggregateBy !== 'series' && aggregateBy !== 'labels')
    throw badRequest(`invalid aggregateBy '${aggregateBy}': must be series or labels`);
  const targetText = params.get('targetLabels');
  const targets = targetText
    ? targetText
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
    : [...new Set(matchers.map((m) => m.name))];
  return { limit, aggregateBy, targets, explicitTargets: Boolean(targetText) };
}

/** The volume groups a stream belongs to. */
function volumeMetrics(labels: Readonly<Record<string, string>>, spec: VolumeSpec): Record<string, string>[] {
  if (spec.aggregateBy === 'labels') {
    const names = spec.explicitTargets ? spec.targets : Object.keys(labels);
    return names.filter((n) => labelValue(labels, n) !== undefined).map((n) => ({ [n]: '' }));
  }
  const metric: Record<string, string> = {};
  for (const n of spec.targets) {
    const v = labelValue(labels, n);
    if (v !== undefined) metric[n] = v;
  }
  return [metric];
}

function groupVolumes(
  counts: readonly StreamCount[],
  spec: VolumeSpec,
): Map<string, { metric: Record<string, string>; bytes: number }> {
  const groups = new Map<string, { metric: Record<string, string>; bytes: number }>();
  for (const c of counts) {
    for (const metric of volumeMetrics(c.stream.labels, spec)) {
      const key = labelsText(metric);
      const g = groups.get(key);
      if (g) g.bytes += c.bytes;
      else groups.set(key, { metric, bytes: c.bytes });
    }
  }
  return groups;
}

const largestFirst = (
  a: { metric: Record<string, string>; bytes: number },
  b: { metric: Record<string, string>; bytes: number },
) => b.bytes - a.bytes || byName(labelsText(a.metric), labelsText(b.metric));

/**
 * GET|POST /loki/api/v1/index/volume: bytes per group of streams as a Prometheus vector at `end`.
 * Groups are `targetLabels` (comma separated) when given, else the selector's label names
 * (`aggregateBy=series`, the default); `aggregateBy=labels` answers one series per label name.
 */
export function indexVolumeHandler(opts: MetadataOptions): Handler {
  const now = opts.now ?? nowNs;
  return async (ctx) => {
    const { counts, matchers, end } = await countStreams(opts, ctx, now());
    const spec = volumeSpec(ctx.params, matchers);
    const t = unixSeconds(end);
    const result = [...groupVolumes(counts, spec).values()]
      .sort(largestFirst)
      .slice(0, spec.limit)
      .map((g) => ({ metric: g.metric, value: [t, String(g.bytes)] }));
    return json(200, { status: 'success', data: { resultType: 'vector', result } });
  };
}

const MAX_POINTS = 11_000;

/**
 * GET|POST /loki/api/v1/index/volume_range: the same groups as a matrix, one point per `step`
 * (default as query_range: the range / 250, at least 1s), each the bytes in (t - step, t]; the
 * `limit` largest groups over the whole range. Steps without bytes are left out.
 */
export function indexVolumeRangeHandler(opts: MetadataOptions): Handler {
  const now = opts.now ?? nowNs;
  return async (ctx) => {
    const tenant = tenantOf(ctx.req.headers['x-scope-orgid']);
    const matchers = requiredSelector(ctx.params);
    const spec = volumeSpec(ctx.params, matchers);
    const { start, end } = parseRange(ctx.params, now());
    let step: bigint;
    const stepText = ctx.params.get('step');
    if (stepText) {
      try {
        step = parseSecondsOrDuration(stepText);
      } catch (err) {
        throw badRequest(`invalid step: ${(err as Error).message}`);
      }
      if (step <= 0n)
        throw badRequest(
          'zero or negative query resolution step widths are not accepted. Try a positive integer',
        );
    } else {
      const seconds = (end - start) / 250n / NS_PER_SECOND;
      step = (seconds > 1n ? seconds : 1n) * NS_PER_SECOND;
    }
    if ((end - start) / step > BigInt(MAX_POINTS))
      throw badRequest(
        'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
      );
    const selected = restricted(ctx, matchers);
    const series = new Map<
      string,
      { metric: Record<string, string>; bytes: number; values: [number, string][] }
    >();
    for (let t = start; t <= end; t += step) {
      const counts = await opts.store.countByStream({
        tenant,
        start: t - step + 1n,
        end: t + 1n,
        matchers: selected,
        lineFilters: [],
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      for (const [key, g] of groupVolumes(counts, spec)) {
        if (g.bytes === 0) continue;
        let s = series.get(key);
        if (!s) {
          s = { metric: g.metric, bytes: 0, values: [] };
          series.set(key, s);
        }
        s.bytes += g.bytes;
        s.values.push([unixSeconds(t), String(g.bytes)]);
      }
    }
    const result = [...series.values()]
      .sort(largestFirst)
      .slice(0, spec.limit)
      .map((s) => ({ metric: s.metric, values: s.values }));
    return json(200, { status: 'success', data: { resultType: 'matrix', result } });
  };
}

/** GET /loki/api/v1/status/buildinfo, in Prometheus' `version` shape. */
export function buildInfoHandler(version: string): Handler {
  return async () =>
    json(200, {
      version: LOKI_COMPATIBLE_VERSION,
      revision: `kjournal-${version}`,
      branch: 'kjournal',
      buildUser: 'kjournal',
      buildDate: '',
      goVersion: '',
    });
}
