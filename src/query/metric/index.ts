/**
 * @module The LogQL metric engine: instant and range evaluation with Loki's semantics and limits.
 */
export { evaluateInstant, evaluateRange, rangeSteps } from './engine.js';
export { instantData, rangeData } from './loki-json.js';
export {
  DEFAULT_LIMITS,
  type InstantResult,
  LogPipelineError,
  type MetricContext,
  MetricEvalError,
  MetricLimitError,
  type MetricLimits,
  type MetricStats,
  QueryCancelledError,
  type RangeResult,
  type Sample,
  type Series,
} from './types.js';
