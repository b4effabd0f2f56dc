/**
 * @module Unwrap conversions as Loki performs them (pkg/logql/log/metrics_extraction.go
 * convertFloat, convertBytes, convertDuration), over Go's parsers in src/go/: strconv.ParseFloat
 * (plain `unwrap`), humanize.ParseBytes (`bytes()`) and time.ParseDuration (`duration()`,
 * `duration_seconds()`, in seconds). Each returns the value or throws an Error worded as Go words
 * it (the text becomes `__error_details__`).
 */
import { parseHumanBytes } from '../../go/bytes.js';
import { goDurationSeconds, parseGoDuration } from '../../go/duration.js';
import { goParseFloat } from '../../go/float.js';

/** convertFloat: strconv.ParseFloat(s, 64); throws Go's error. */
export function convertFloat(s: string): number {
  const r = goParseFloat(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

/** convertBytes: humanize.ParseBytes, whole bytes; throws go-humanize's error. */
export function convertBytes(s: string): number {
  const r = parseHumanBytes(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

/** convertDuration: time.ParseDuration, then Duration.Seconds(); throws Go's error. */
export function convertDuration(s: string): number {
  return goDurationSeconds(convertDurationNs(s));
}

/** time.ParseDuration in nanoseconds (a label filter compares durations as Duration values). */
export function convertDurationNs(s: string): bigint {
  const r = parseGoDuration(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}
