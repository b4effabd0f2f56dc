/**
 * @module The query operations bound to one store: what the HTTP layer (src/api/) holds and calls,
 * so that it never reads a store itself. Each operation is the function of its module (scan.ts,
 * log-query.ts, metric/, metadata.ts, detected-*.ts, patterns/) with the store filled in; the
 * server builds this once (`queriesOn(store)`) and hands it to every read handler.
 */
import type { MetricExpr } from '../logql/ast.js';
import type { Store } from '../store/store.js';
import { detectFields } from './detected-fields.js';
import { detectedLabels } from './detected-labels.js';
import { runLogQuery } from './log-query.js';
import {
  indexStats,
  labelNames,
  labelValues,
  series,
  streamLabels,
  volume,
  volumeRange,
} from './metadata.js';
import { evaluateInstant, evaluateRange } from './metric/index.js';
import type { MetricContext } from './metric/types.js';
import { minePatterns } from './patterns/mine.js';
import { type Keep, type ScanRequest, type ScanStats, scan } from './scan.js';

/** An operation with its store argument filled in. */
// biome-ignore lint/suspicious/noExplicitAny: the arguments of any operation on a store
type Operation = (store: Store, ...args: any[]) => unknown;
type Bound<F> = F extends (store: Store, ...args: infer A) => infer R ? (...args: A) => R : never;

function bind<F extends Operation>(store: Store, f: F): Bound<F> {
  return ((...args: unknown[]) => f(store, ...args)) as Bound<F>;
}

/** A metric query's context without its store (see MetricContext). */
export type MetricQueryContext = Omit<MetricContext, 'store'>;

export function queriesOn(store: Store) {
  return {
    scan: <T>(req: ScanRequest, keep: Keep<T>, stats?: ScanStats) => scan(store, req, keep, stats),
    logQuery: bind(store, runLogQuery),
    metricRange: (ctx: MetricQueryContext, expr: MetricExpr, start: bigint, end: bigint, step: bigint) =>
      evaluateRange({ ...ctx, store }, expr, start, end, step),
    metricInstant: (ctx: MetricQueryContext, expr: MetricExpr, time: bigint) =>
      evaluateInstant({ ...ctx, store }, expr, time),
    labelNames: bind(store, labelNames),
    labelValues: bind(store, labelValues),
    series: bind(store, series),
    streamLabels: bind(store, streamLabels),
    indexStats: bind(store, indexStats),
    volume: bind(store, volume),
    volumeRange: bind(store, volumeRange),
    detectFields: bind(store, detectFields),
    detectedLabels: bind(store, detectedLabels),
    patterns: bind(store, minePatterns),
    /** What a retention policy would remove from a tenant now, per rule (nothing is removed). */
    retentionReport: (...args: Parameters<Store['retentionReport']>) => store.retentionReport(...args),
  };
}

/** The query operations on one store (see queriesOn). */
export type Queries = ReturnType<typeof queriesOn>;
