/**
 * @module Instant metric queries, kept for src/api/loki/query.ts: a thin wrapper over the metric
 * engine (src/query/metric/). New callers use `evaluateInstant` / `evaluateRange` from there, which
 * also return scalars and statistics.
 */
import type { MetricExpr } from '../logql/ast.js';
import type { Labels } from '../model/record.js';
import type { Store } from '../store/store.js';
import { evaluateInstant } from './metric/index.js';

export interface Sample {
  readonly labels: Labels;
  readonly value: number;
}

export interface InstantContext {
  readonly store: Store;
  readonly tenant: string;
  /** Evaluation time, nanoseconds. */
  readonly time: bigint;
}

/** The vector of an instant query; a scalar comes back as one unlabelled sample. */
export async function evalInstant(ctx: InstantContext, expr: MetricExpr): Promise<Sample[]> {
  const r = await evaluateInstant({ store: ctx.store, tenant: ctx.tenant }, expr, ctx.time);
  return r.type === 'scalar' ? [{ labels: {}, value: r.value }] : r.samples;
}
