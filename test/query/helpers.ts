/**
 * @module Helpers for metric-engine tests: hand-built LogQL syntax trees (until the parser covers the
 * metric grammar) and a fresh store of a backend (test/store/factories.ts).
 */
import type {
  BinaryExpr,
  BinaryOperator,
  Grouping,
  LabelFilter,
  LogExpr,
  MetricExpr,
  NumberLiteral,
  PipelineStage,
  RangeAggregation,
  RangeFunction,
  Unwrap,
  VectorAggregation,
  VectorMatching,
  VectorOperator,
} from '../../src/logql/ast.js';
import { labelsKey } from '../../src/model/labels-key.js';
import { normalizeLabels } from '../../src/model/normalize.js';
import type { Labels, LogRecord } from '../../src/model/record.js';
import type { LabelMatcher, MatchOp, Store } from '../../src/store/store.js';
import type { TestStoreFactory } from '../store/factories.js';

export const SEC = 1_000_000_000n;
export const MIN = 60n * SEC;

export function m(name: string, value: string, op: MatchOp = '='): LabelMatcher {
  return { name, op, value };
}

export function sel(matchers: LabelMatcher[], pipeline: PipelineStage[] = []): LogExpr {
  return { type: 'log', matchers, pipeline };
}

export function rng(
  fn: RangeFunction,
  log: LogExpr,
  range: bigint,
  extra: { offset?: bigint; unwrap?: Unwrap; param?: number; grouping?: Grouping } = {},
): RangeAggregation {
  return { type: 'range', fn, log, range, offset: 0n, ...extra };
}

export function unwrap(
  label: string,
  conversion: Unwrap['conversion'] = 'none',
  postFilters: LabelFilter[] = [],
): Unwrap {
  return { label, conversion, postFilters };
}

export function agg(
  op: VectorOperator,
  expr: MetricExpr,
  grouping?: Grouping,
  param?: number,
): VectorAggregation {
  return { type: 'vector', op, grouping, expr, ...(param === undefined ? {} : { param }) };
}

export const by = (...labels: string[]): Grouping => ({ without: false, labels });
export const without = (...labels: string[]): Grouping => ({ without: true, labels });

export function bin(
  op: BinaryOperator,
  left: MetricExpr,
  right: MetricExpr,
  extra: { returnBool?: boolean; matching?: VectorMatching } = {},
): BinaryExpr {
  return {
    type: 'binary',
    op,
    returnBool: extra.returnBool ?? false,
    left,
    right,
    ...(extra.matching ? { matching: extra.matching } : {}),
  };
}

export const num = (value: number): NumberLiteral => ({ type: 'number', value });

export function rec(labels: Labels, ts: bigint, body: string, attributes: Labels = {}): LogRecord {
  return { timestamp: ts, observedTimestamp: ts, labels: normalizeLabels(labels), attributes, body };
}

/** The text of a label set as stored (kind and class added). */
export function L(labels: Labels): string {
  return labelsKey(normalizeLabels(labels));
}

/** A fresh store of `factory`'s backend, opened; background work only when `settle` is called. */
export async function tempStore(factory: TestStoreFactory): Promise<{
  store: Store;
  settle: () => Promise<void>;
  cleanup: () => Promise<void>;
}> {
  const t = await factory.create();
  return { store: t.store, settle: () => t.settle(), cleanup: () => t.cleanup() };
}
