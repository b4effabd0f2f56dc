/**
 * @module The metric engine's values, options and errors. Times are bigint nanoseconds; Loki prints
 * them in milliseconds (results.ts truncates).
 */

import type { CompileLogPipeline } from '../../logql/stages/types.js';
import type { Labels } from '../../model/record.js';
import type { Store } from '../../store/store.js';

/** The steps of an evaluation: start, start + step, ... (n of them). An instant query has n = 1. */
export interface Steps {
  readonly start: bigint;
  readonly step: bigint;
  readonly n: number;
}

/** One series over the steps: `present[i]` says whether `values[i]` exists. */
export interface StepSeries {
  readonly labels: Labels;
  readonly values: Float64Array;
  readonly present: Uint8Array;
}

/** What an expression evaluates to over the steps. */
export type StepValue =
  | { readonly kind: 'scalar'; readonly value: number }
  | { readonly kind: 'matrix'; readonly series: StepSeries[] };

export interface Sample {
  readonly labels: Labels;
  readonly value: number;
}

export interface Series {
  readonly labels: Labels;
  /** [time in nanoseconds, value], time ascending. */
  readonly points: [bigint, number][];
}

export interface MetricStats {
  /** Entries read from the store and run through the pipeline (streaming path). */
  linesProcessed: number;
  bytesProcessed: number;
  /** Entries counted by the store without being read (push-down path). */
  linesCounted: number;
}

export type InstantResult =
  | { readonly type: 'vector'; readonly samples: Sample[]; readonly stats: MetricStats }
  | { readonly type: 'scalar'; readonly value: number; readonly stats: MetricStats };

/** A range query over a scalar is a matrix of one unlabelled series, as Loki answers it. */
export interface RangeResult {
  readonly type: 'matrix';
  readonly series: Series[];
  readonly stats: MetricStats;
}

/** Loki's limits that apply to metric queries. */
export interface MetricLimits {
  /** Loki `max_query_series` (default 500). */
  readonly maxSeries: number;
  /** Points per series of a range query (Loki: 11,000). */
  readonly maxPointsPerSeries: number;
  /** Loki `max_query_length`, nanoseconds (default 721h); 0 turns it off. */
  readonly maxQueryLength: bigint;
  /** Loki `max_query_range`: longest `[range]`, nanoseconds; 0 (Loki's default) turns it off. */
  readonly maxQueryRange: bigint;
}

export const DEFAULT_LIMITS: MetricLimits = {
  maxSeries: 500,
  maxPointsPerSeries: 11_000,
  maxQueryLength: 721n * 3_600_000_000_000n,
  maxQueryRange: 0n,
};

export interface MetricContext {
  readonly store: Store;
  readonly tenant: string;
  /** Cancels the query (a deadline: AbortSignal.timeout(ms)); checked while streaming. */
  readonly signal?: AbortSignal;
  readonly limits?: Partial<MetricLimits>;
  /**
   * Compiles pipeline stages the store cannot evaluate. Defaults to `compileLogPipeline` of
   * src/logql/stages/index.ts.
   */
  readonly compileLogPipeline?: CompileLogPipeline;
  /** Most time buckets one push-down count may use before streaming instead (default 100,000). */
  readonly maxBuckets?: number;
  /** 'auto' (default) pushes counts down to the store when it can; 'stream' never does (tests). */
  readonly path?: 'auto' | 'stream';
}

/** A limit was hit: Loki answers 400 with this message. */
export class MetricLimitError extends Error {
  override readonly name = 'MetricLimitError';
}

/** A series kept `__error__` to the end of a range aggregation: Loki answers 400 with this message. */
export class LogPipelineError extends Error {
  override readonly name = 'LogPipelineError';
}

/** The query ran past its deadline or was cancelled. */
export class QueryCancelledError extends Error {
  override readonly name = 'QueryCancelledError';
}

/** A query Loki refuses while evaluating (duplicate series in vector matching, ...): 400. */
export class MetricEvalError extends Error {
  override readonly name = 'MetricEvalError';
}
