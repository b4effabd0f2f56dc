/**
 * @module Metric results in Loki's JSON `data` shapes: `vector` for instant queries, `scalar` for an
 * instant literal, `matrix` for range queries. Times print as Unix seconds with milliseconds and
 * values as Go prints them (results.ts).
 */
import { formatSampleValue, type QueryData, unixSeconds } from '../results.js';
import type { InstantResult, RangeResult } from './types.js';

export function instantData(r: InstantResult, time: bigint): QueryData {
  const t = unixSeconds(time);
  if (r.type === 'scalar') return { resultType: 'scalar', result: [t, formatSampleValue(r.value)] };
  return {
    resultType: 'vector',
    result: r.samples.map((s) => ({ metric: s.labels, value: [t, formatSampleValue(s.value)] })),
  };
}

export function rangeData(r: RangeResult): QueryData {
  return {
    resultType: 'matrix',
    result: r.series.map((s) => ({
      metric: s.labels,
      values: s.points.map(([t, v]): [number, string] => [unixSeconds(t), formatSampleValue(v)]),
    })),
  };
}
