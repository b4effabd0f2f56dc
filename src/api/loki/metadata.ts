/**
 * @module Loki's metadata endpoints: labels, label values, series, index stats and volume, build
 * info: the requests' parameters and Loki's JSON (pkg/util/marshal, pkg/loghttp); the queries are
 * src/query/metadata.ts. On LokiStack paths every selection is restricted to the path's class.
 */

import type { LabelMatcher } from '../../logql/ast.js';
import { isLogExpr } from '../../logql/ast.js';
import { parseLogql } from '../../logql/parser.js';
import { restrictSelector } from '../../logql/restrict.js';
import { nowNs } from '../../model/time.js';
import type { MetadataRequest, VolumeSpec } from '../../query/metadata.js';
import type { Queries } from '../../query/queries.js';
import { badRequest } from '../http/errors.js';
import { type Handler, json, type RequestContext } from '../http/router.js';
import { tenantOf } from '../http/tenant.js';
import { checkResolution, parseRange, parseStep } from './params.js';

export interface MetadataOptions {
  /** The query operations on the store (src/query/queries.ts). */
  readonly queries: Queries;
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

/** The request's tenant, selection (restricted) and range, half-open as the store's. */
function metadataRequest(
  ctx: RequestContext,
  matchers: readonly LabelMatcher[],
  now: bigint,
  tenant = tenantOf(ctx.req.headers['x-scope-orgid']),
): MetadataRequest {
  const { start, end } = parseRange(ctx.params, now);
  // Loki's metadata ranges include `end`; the store's are half-open.
  return {
    tenant,
    matchers: restricted(ctx, matchers),
    start,
    end: end + 1n,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  };
}

/** Loki omits `data` when there are no values (`json:"data,omitempty"`). */
function labelResponse(data: string[]) {
  return json(200, data.length > 0 ? { status: 'success', data } : { status: 'success' });
}

/** GET|POST /loki/api/v1/labels: `start`, `end`, `since`, `query`. */
export function labelsHandler(opts: MetadataOptions): Handler {
  const now = opts.now ?? nowNs;
  return async (ctx) => {
    const matchers = selectorMatchers(ctx.params.get('query')) ?? [];
    return labelResponse(await opts.queries.labelNames(metadataRequest(ctx, matchers, now())));
  };
}

/** GET|POST /loki/api/v1/label/{name}/values: `start`, `end`, `since`, `query`. */
export function labelValuesHandler(opts: MetadataOptions): Handler {
  const now = opts.now ?? nowNs;
  return async (ctx) => {
    const name = ctx.pathParams?.name;
    if (name === undefined || name === '') throw badRequest('label name is required');
    const matchers = selectorMatchers(ctx.params.get('query')) ?? [];
    return labelResponse(await opts.queries.labelValues(metadataRequest(ctx, matchers, now()), name));
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
    const groups = matchGroups(ctx.params).map((m) => restricted(ctx, m));
    const data = await opts.queries.series(metadataRequest(ctx, [], now()), groups);
    return json(200, { status: 'success', data });
  };
}

function requiredSelector(params: URLSearchParams): LabelMatcher[] {
  const m = selectorMatchers(params.get('query'));
  if (m === undefined) throw badRequest('query must not be empty');
  return m;
}

/**
 * GET|POST /loki/api/v1/index/stats: `{streams, chunks, bytes, entries}`. kjournal has no chunks;
 * it counts one per stream with entries in the range, as a Loki head chunk would.
 */
export function indexStatsHandler(opts: MetadataOptions): Handler {
  const now = opts.now ?? nowNs;
  return async (ctx) => {
    const tenant = tenantOf(ctx.req.headers['x-scope-orgid']);
    const req = metadataRequest(ctx, requiredSelector(ctx.params), now(), tenant);
    return json(200, await opts.queries.indexStats(req));
  };
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

/**
 * GET|POST /loki/api/v1/index/volume: bytes per group of streams as a Prometheus vector at `end`.
 * Groups are `targetLabels` (comma separated) when given, else the selector's label names
 * (`aggregateBy=series`, the default); `aggregateBy=labels` answers one series per label name.
 */
export function indexVolumeHandler(opts: MetadataOptions): Handler {
  const now = opts.now ?? nowNs;
  return async (ctx) => {
    const tenant = tenantOf(ctx.req.headers['x-scope-orgid']);
    const matchers = requiredSelector(ctx.params);
    const req = metadataRequest(ctx, matchers, now(), tenant);
    const spec = volumeSpec(ctx.params, matchers);
    const result = await opts.queries.volume(req, spec);
    return json(200, { status: 'success', data: { resultType: 'vector', result } });
  };
}

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
    const step = parseStep(ctx.params, start, end);
    checkResolution(start, end, step);
    const result = await opts.queries.volumeRange(
      {
        tenant,
        matchers: restricted(ctx, matchers),
        start,
        last: end,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      },
      step,
      spec,
    );
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
