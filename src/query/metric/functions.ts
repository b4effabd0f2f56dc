/**
 * @module Range functions over the samples of one window, as Loki computes them
 * (pkg/logql/range_vector.go): same formulas, same order of floating-point operations.
 */
import type { RangeFunction } from '../../logql/ast.js';

/** Loki's extrapolatedRate as rate_counter calls it: sample times in nanoseconds, as Loki passes them. */
export function extrapolatedRate(
  ts: readonly bigint[],
  vs: readonly number[],
  from: number,
  rangeNs: bigint,
): number {
  const n = vs.length - from;
  if (n < 2) return 0;
  const first = vs[from]!;
  const last = vs[vs.length - 1]!;
  const t0 = ts[from]!;
  const t1 = ts[ts.length - 1]!;
  const rangeMs = rangeNs / 1_000_000n;
  // As in Loki, the range start is measured from the first sample and in milliseconds while sample
  // times are nanoseconds: durationToStart is the range in seconds and durationToEnd is 0.
  let resultValue = last - first;
  let lastValue = 0;
  for (let i = from; i < vs.length; i++) {
    const v = vs[i]!;
    if (v < lastValue) resultValue += lastValue;
    lastValue = v;
  }
  let durationToStart = Number(rangeMs) / 1000;
  const durationToEnd = 0;
  const sampledInterval = Number(t1 - t0) / 1000;
  const averageDurationBetweenSamples = sampledInterval / (n - 1);
  if (resultValue > 0 && first >= 0) {
    const durationToZero = sampledInterval * (first / resultValue);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  const extrapolationThreshold = averageDurationBetweenSamples * 1.1;
  let extrapolateToInterval = sampledInterval;
  if (durationToStart < extrapolationThreshold) extrapolateToInterval += durationToStart;
  else extrapolateToInterval += averageDurationBetweenSamples / 2;
  if (durationToEnd < extrapolationThreshold) extrapolateToInterval += durationToEnd;
  else extrapolateToInterval += averageDurationBetweenSamples / 2;
  resultValue = resultValue * (extrapolateToInterval / sampledInterval);
  return resultValue / (Number(rangeNs) / 1e9);
}

/** Loki's Quantile: weighted between neighbours; NaN without samples, ±Inf outside [0, 1]. */
export function quantile(q: number, values: number[]): number {
  if (values.length === 0) return Number.NaN;
  if (q < 0) return Number.NEGATIVE_INFINITY;
  if (q > 1) return Number.POSITIVE_INFINITY;
  // Ascending, NaN first, as Loki's HeapByMaxValue orders them.
  values.sort((a, b) => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : Number.isNaN(b) ? 1 : a - b));
  const n = values.length;
  const rank = q * (n - 1);
  const lowerIndex = Math.max(0, Math.floor(rank));
  const upperIndex = Math.min(n - 1, lowerIndex + 1);
  const weight = rank - Math.floor(rank);
  return values[lowerIndex]! * (1 - weight) + values[upperIndex]! * weight;
}

/**
 * The value of `fn` over samples vs[from..] (times ts[from..]) of a window of `rangeNs`;
 * `unwrapped` tells `rate` whether it sums values or counts lines.
 */
export function windowValue(
  fn: RangeFunction,
  ts: readonly bigint[],
  vs: readonly number[],
  from: number,
  rangeNs: bigint,
  unwrapped: boolean,
  param: number | undefined,
): number {
  const seconds = Number(rangeNs) / 1e9;
  const n = vs.length - from;
  switch (fn) {
    case 'count_over_time':
      return n;
    case 'absent_over_time':
      return 1;
    case 'rate':
      return unwrapped ? sum(vs, from) / seconds : n / seconds;
    case 'bytes_rate':
      return sum(vs, from) / seconds;
    case 'bytes_over_time':
    case 'sum_over_time':
      return sum(vs, from);
    case 'avg_over_time': {
      let mean = 0;
      let count = 0;
      for (let i = from; i < vs.length; i++) {
        const v = vs[i]!;
        count++;
        if (!Number.isFinite(mean) && !Number.isNaN(mean)) {
          if (!Number.isFinite(v) && !Number.isNaN(v) && mean > 0 === v > 0) continue;
          if (Number.isFinite(v)) continue;
        }
        mean += v / count - mean / count;
      }
      return mean;
    }
    case 'max_over_time': {
      let m = vs[from]!;
      for (let i = from; i < vs.length; i++) if (vs[i]! > m || Number.isNaN(m)) m = vs[i]!;
      return m;
    }
    case 'min_over_time': {
      let m = vs[from]!;
      for (let i = from; i < vs.length; i++) if (vs[i]! < m || Number.isNaN(m)) m = vs[i]!;
      return m;
    }
    case 'stdvar_over_time':
    case 'stddev_over_time': {
      let aux = 0;
      let count = 0;
      let mean = 0;
      for (let i = from; i < vs.length; i++) {
        const v = vs[i]!;
        count++;
        const delta = v - mean;
        mean += delta / count;
        aux += delta * (v - mean);
      }
      return fn === 'stdvar_over_time' ? aux / count : Math.sqrt(aux / count);
    }
    case 'quantile_over_time':
      return quantile(param ?? Number.NaN, vs.slice(from));
    case 'first_over_time':
      return vs[from]!;
    case 'last_over_time':
      return vs[vs.length - 1]!;
    case 'rate_counter':
      return extrapolatedRate(ts, vs, from, rangeNs);
  }
}

function sum(vs: readonly number[], from: number): number {
  let s = 0;
  for (let i = from; i < vs.length; i++) s += vs[i]!;
  return s;
}
