/**
 * @module GET|POST /loki/api/v1/query_range and /loki/api/v1/query, answering in Loki's JSON.
 */

import type { Histogram } from 'prom-client';
import { isLogExpr, type MetricExpr } from '../../logql/ast.js';
import { parseLogql } from '../../logql/parser.js';
import { nowNs } from '../../model/time.js';
import {
  DEFAULT_LIMITS,
  instantData,
  type MetricLimits,
  type MetricStats,
  rangeData,
} from '../../query/metric/index.js';
import type { Queries } from '../../query/queries.js';
import { lokiStats, type QueryData } from '../../query/results.js';
import { badRequest } from '../http/errors.js';
import { type Handler, json } from '../http/router.js';
import { tenantOf } from '../http/tenant.js';
import { parseDirection, parseLimit, parseLokiTimestamp, parseRange, parseStep } from './params.js';

/** What the query handlers count (the server's registry has it: server/metrics.ts). */
export interface QueryMetrics {
  readonly queryDuration: Histogram<'endpoint'>;
}

export interface QueryOptions {
  /** The query operations on the store (src/query/queries.ts). */
  readonly queries: Queries;
  readonly metrics: QueryMetrics;
  /** Loki's max_entries_limit_per_query. */
  readonly maxEntriesLimit: number;
  /** Loki's query_timeout: a query still running after this is cancelled (504). */
  readonly queryTimeoutMs?: number;
  readonly metricLimits?: Partial<MetricLimits>;
  readonly now?: () => bigint;
}

const DEFAULT_QUERY_TIMEOUT_MS = 60_000;

/** The query's deadline: admission's, which counts the time queued, or one from now. */
function deadline(opts: QueryOptions, signal: AbortSignal | undefined): AbortSignal {
  return signal ?? AbortSignal.timeout(opts.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS);
}

function metricContext(opts: QueryOptions, tenant: string, signal: AbortSignal) {
  return {
    tenant,
    signal,
    limits: { ...DEFAULT_LIMITS, ...opts.metricLimits },
  };
}

function metricStats(s: MetricStats) {
  return {
    entriesReturned: 0,
    linesProcessed: s.linesProcessed + s.linesCounted,
    bytesProcessed: s.bytesProcessed,
  };
}

/** Loki's `X-Loki-Response-Encoding-Flags` header: `categorize-labels` is the one flag there is. */
function categorizeLabels(header: string | string[] | undefined): boolean {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  return text
    .split(',')
    .map((f) => f.trim())
    .includes('categorize-labels');
}

function requireQuery(params: URLSearchParams): string {
  const q = params.get('query');
  if (q === null || q.trim() === '') throw badRequest('query must not be empty');
  return q;
}

function success(
  data: QueryData,
  execTimeSeconds: number,
  stats: { entriesReturned: number; linesProcessed: number; bytesProcessed: number },
  categorize = false,
) {
  const flags = categorize ? { encodingFlags: ['categorize-labels'] } : {};
  return json(200, {
    status: 'success',
    data: {
      resultType: data.resultType,
      ...flags,
      result: data.result,
      stats: lokiStats({ execTimeSeconds, ...stats }),
    },
  });
}

export function queryRangeHandler(opts: QueryOptions): Handler {
  const now = opts.now ?? nowNs;
  return async ({ req, params, signal: given }) => {
    const started = performance.now();
    const signal = deadline(opts, given);
    const tenant = tenantOf(req.headers['x-scope-orgid']);
    const expr = parseLogql(requireQuery(params));
    const { start, end } = parseRange(params, now());
    const limit = parseLimit(params.get('limit'), 100, opts.maxEntriesLimit);
    const direction = parseDirection(params.get('direction'), 'backward');
    if (!isLogExpr(expr)) {
      const step = parseStep(params, start, end);
      const r = await opts.queries.metricRange(metricContext(opts, tenant, signal), expr, start, end, step);
      const seconds = (performance.now() - started) / 1000;
      opts.metrics.queryDuration.observe({ endpoint: 'query_range' }, seconds);
      return success(rangeData(r), seconds, metricStats(r.stats));
    }
    // Loki's query_range includes `end`; the store's ranges are half-open.
    const categorize = categorizeLabels(req.headers['x-loki-response-encoding-flags']);
    const { result, stats } = await opts.queries.logQuery({
      tenant,
      expr,
      start,
      end: end + 1n,
      limit,
      direction,
      categorize,
      signal,
    });
    const seconds = (performance.now() - started) / 1000;
    opts.metrics.queryDuration.observe({ endpoint: 'query_range' }, seconds);
    return success({ resultType: 'streams', result }, seconds, stats, categorize);
  };
}

export function queryHandler(opts: QueryOptions): Handler {
  const now = opts.now ?? nowNs;
  return async ({ req, params, signal: given }) => {
    const started = performance.now();
    const signal = deadline(opts, given);
    const tenant = tenantOf(req.headers['x-scope-orgid']);
    const expr = parseLogql(requireQuery(params));
    let time: bigint;
    try {
      time = parseLokiTimestamp(params.get('time'), now());
    } catch (err) {
      throw badRequest(`could not parse 'time' parameter: ${(err as Error).message}`);
    }
    const limit = parseLimit(params.get('limit'), 100, opts.maxEntriesLimit);
    const direction = parseDirection(params.get('direction'), 'backward');
    let data: QueryData;
    let stats = { entriesReturned: 0, linesProcessed: 0, bytesProcessed: 0 };
    const categorize = categorizeLabels(req.headers['x-loki-response-encoding-flags']);
    if (isLogExpr(expr)) {
      // An instant log query reads the hour before `time`, as Loki's default.
      const out = await opts.queries.logQuery({
        tenant,
        expr,
        start: time - 3_600_000_000_000n,
        end: time + 1n,
        limit,
        direction,
        categorize,
        signal,
      });
      data = { resultType: 'streams', result: out.result };
      stats = out.stats;
    } else {
      const r = await opts.queries.metricInstant(
        metricContext(opts, tenant, signal),
        expr as MetricExpr,
        time,
      );
      data = instantData(r, time);
      stats = metricStats(r.stats);
    }
    const seconds = (performance.now() - started) / 1000;
    opts.metrics.queryDuration.observe({ endpoint: 'query' }, seconds);
    return success(data, seconds, stats, categorize);
  };
}
