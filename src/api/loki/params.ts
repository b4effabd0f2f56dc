/**
 * @module Loki's query parameters, parsed as Loki parses them (pkg/loghttp/params.go):
 * timestamps as RFC 3339, float seconds, integer seconds (up to 10 digits) or integer nanoseconds;
 * durations as Prometheus durations or float seconds.
 */

import { parseDuration } from '../../go/duration.js';
import { goParseFloat } from '../../go/float.js';
import { NS_PER_SECOND, parseRfc3339Nano } from '../../model/time.js';
import type { Direction } from '../../query/log-query.js';
import { badRequest } from '../http/errors.js';

/** Parses a Loki timestamp to nanoseconds; `def` when empty; throws Error when unparseable. */
export function parseLokiTimestamp(value: string | null | undefined, def: bigint): bigint {
  if (value === null || value === undefined || value === '') return def;
  const rfc = parseRfc3339Nano(value);
  if (rfc !== undefined) return rfc;
  if (value.includes('.')) {
    const t = Number(value);
    if (!Number.isFinite(t)) throw new Error(`cannot parse "${value}" as a timestamp`);
    const high = Math.trunc(t);
    if (Math.abs(high) > 9.2e18) throw new Error('floating point timestamp exceeds integer range');
    if (Math.abs(high) <= 1e10) {
      // Loki rounds the fraction to milliseconds.
      const frac = Math.round((t - high) * 1000) / 1000;
      return BigInt(high) * NS_PER_SECOND + BigInt(Math.round(frac * 1e9));
    }
    return BigInt(Math.trunc(high));
  }
  if (!/^[+-]?\d+$/.test(value)) throw new Error(`cannot parse "${value}" as a timestamp`);
  const n = BigInt(value);
  if (n > 9_223_372_036_854_775_807n || n < -9_223_372_036_854_775_808n) {
    throw new Error(`cannot parse "${value}" as a timestamp: value out of range`);
  }
  return n <= 10_000_000_000n ? n * NS_PER_SECOND : n;
}

/**
 * Parses `step`/`since`-style durations: float seconds or a Prometheus duration. As Loki's
 * parseSecondsOrDuration: strconv.ParseFloat, times 1e9 in floating point, truncated by Go's
 * time.Duration conversion (`1.001` is 1000999999 ns, so steps land a nanosecond short).
 */
export function parseSecondsOrDuration(value: string): bigint {
  const f = goParseFloat(value);
  if (f.ok && !Number.isNaN(f.value)) {
    const ns = f.value * 1e9;
    if (ns > 2 ** 63 || ns < -(2 ** 63)) {
      throw new Error(`cannot parse ${JSON.stringify(value)} to a valid duration. It overflows int64`);
    }
    return BigInt(Math.trunc(ns));
  }
  const d = parseDuration(value);
  if (d === undefined || d < 0n) throw new Error(`cannot parse "${value}" to a valid duration`);
  return d;
}

/** Loki's `step`: given in seconds or as a duration; by default (end - start) / 250, at least 1 s. */
export function parseStep(params: URLSearchParams, start: bigint, end: bigint): bigint {
  const text = params.get('step');
  if (text === null || text === '') {
    const seconds = (end - start) / 250n / NS_PER_SECOND;
    return (seconds > 1n ? seconds : 1n) * NS_PER_SECOND;
  }
  let step: bigint;
  try {
    step = parseSecondsOrDuration(text);
  } catch (err) {
    throw badRequest(`invalid step: ${(err as Error).message}`);
  }
  if (step <= 0n)
    throw badRequest(
      'zero or negative query resolution step widths are not accepted. Try a positive integer',
    );
  return step;
}

/** Loki's bound on the points of one series (11,000) for the endpoints that check it themselves. */
export function checkResolution(start: bigint, end: bigint, step: bigint): void {
  if ((end - start) / step > 11_000n)
    throw badRequest(
      'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
    );
}

export function parseDirection(value: string | null, def: Direction): Direction {
  if (value === null || value === '') return def;
  const v = value.toLowerCase();
  if (v === 'forward' || v === 'backward') return v;
  throw badRequest(`invalid direction '${value}'`);
}

export function parseLimit(value: string | null, def: number, max: number): number {
  if (value === null || value === '') return def;
  if (!/^\d+$/.test(value)) throw badRequest(`invalid limit '${value}': must be a positive integer`);
  const n = Number(value);
  if (n <= 0) throw badRequest('limit must be a positive value');
  if (n > max)
    throw badRequest(`max entries limit per query exceeded, limit > max_entries_limit (${n} > ${max})`);
  return n;
}

export interface TimeRange {
  readonly start: bigint;
  readonly end: bigint;
}

/** `start`, `end` and `since` as Loki combines them: end defaults to now, start to end-or-now minus since (1h). */
export function parseRange(params: URLSearchParams, nowNs: bigint): TimeRange {
  let since = 3600n * NS_PER_SECOND;
  const sinceText = params.get('since');
  if (sinceText) {
    const d = parseDuration(sinceText);
    if (d === undefined || d < 0n)
      throw badRequest(`could not parse 'since' parameter: invalid duration "${sinceText}"`);
    since = d;
  }
  let end: bigint;
  try {
    end = parseLokiTimestamp(params.get('end'), nowNs);
  } catch (err) {
    throw badRequest(`could not parse 'end' parameter: ${(err as Error).message}`);
  }
  const endOrNow = end > nowNs ? nowNs : end;
  let start: bigint;
  try {
    start = parseLokiTimestamp(params.get('start'), endOrNow - since);
  } catch (err) {
    throw badRequest(`could not parse 'start' parameter: ${(err as Error).message}`);
  }
  if (end < start) throw badRequest('end timestamp must not be before or equal to start time');
  return { start, end };
}
