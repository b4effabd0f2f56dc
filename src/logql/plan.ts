/**
 * @module The planner: turns a LogQL log expression into what the store evaluates (stream matchers,
 * line filters, time range, order and limit) plus the stages left for TypeScript. Today every
 * supported stage pushes down; the parsers and formatters of the full language will run after the
 * store, streaming, on what it returns.
 */
import type { LabelMatcher, LineFilter } from '../store/store.js';
import type { LogExpr, PipelineStage } from './ast.js';

export interface LogPlan {
  readonly matchers: readonly LabelMatcher[];
  readonly lineFilters: readonly LineFilter[];
  /** Stages after the last one the store can take, evaluated in TypeScript. */
  readonly rest: readonly PipelineStage[];
}

export function planLog(expr: LogExpr): LogPlan {
  const lineFilters: LineFilter[] = [];
  let i = 0;
  for (; i < expr.pipeline.length; i++) {
    const stage = expr.pipeline[i]!;
    // Pattern and IP filters stay in TypeScript; substring and RE2 filters go to the store.
    if (stage.type !== 'lineFilter' || stage.ip || stage.op === '|>' || stage.op === '!>') break;
    const op = stage.op;
    lineFilters.push(stage.or.length ? { op, value: stage.value, or: stage.or } : { op, value: stage.value });
  }
  return { matchers: expr.matchers, lineFilters, rest: expr.pipeline.slice(i) };
}
