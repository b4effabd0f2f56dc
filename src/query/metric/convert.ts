/**
 * @module Unwrap conversions as Loki performs them with Go's library: strconv.ParseFloat (plain
 * `unwrap`), humanize.ParseBytes (`bytes()`) and time.ParseDuration (`duration()`,
 * `duration_seconds()`). Each returns the value or throws an Error worded as Go words it (the
 * text becomes `__error_details__`).
 */
import { goParseFloat } from '../../go/float.js';

/** strconv.ParseFloat(s, 64), exactly as Go (src/go/float.ts); throws Go's error. */
export function parseGoFloat(s: string): number {
  const r = goParseFloat(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  ki: 2 ** 10,
  kib: 2 ** 10,
  m: 1e6,
  mb: 1e6,
  mi: 2 ** 20,
  mib: 2 ** 20,
  g: 1e9,
  gb: 1e9,
  gi: 2 ** 30,
  gib: 2 ** 30,
  t: 1e12,
  tb: 1e12,
  ti: 2 ** 40,
  tib: 2 ** 40,
  p: 1e15,
  pb: 1e15,
  pi: 2 ** 50,
  pib: 2 ** 50,
  e: 1e18,
  eb: 1e18,
  ei: 2 ** 60,
  eib: 2 ** 60,
};

/** humanize.ParseBytes: `42`, `1.5 KB` (1,500), `1KiB` (1,024), case-insensitive; whole bytes. */
export function parseHumanBytes(s: string): number {
  let i = 0;
  while (i < s.length && /[\d.,]/.test(s[i]!)) i++;
  const num = s.slice(0, i).replaceAll(',', '');
  const f = Number(num);
  if (num === '' || !DECIMAL.test(num) || Number.isNaN(f)) {
    throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(num)}: invalid syntax`);
  }
  const extra = s.slice(i).trim().toLowerCase();
  const m = BYTE_UNITS[extra];
  if (m === undefined) throw new Error(`unhandled size name: ${extra}`);
  const v = f * m;
  if (v >= 2 ** 64) throw new Error(`too large: ${s}`);
  return Math.trunc(v);
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** time.ParseDuration, in seconds: `1h30m`, `250ms`, `-1.5h`, `0`. */
export function parseGoDurationSeconds(s: string): number {
  const quoted = JSON.stringify(s);
  let rest = s;
  let neg = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    neg = rest[0] === '-';
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw new Error(`time: invalid duration ${quoted}`);
  let ns = 0;
  while (rest !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(rest)!;
    if (m[0] === '' || m[0] === '.') throw new Error(`time: invalid duration ${quoted}`);
    rest = rest.slice(m[0].length);
    const u = /^[^\d.]*/.exec(rest)![0];
    if (u === '') throw new Error(`time: missing unit in duration ${quoted}`);
    const scale = DURATION_UNITS[u];
    if (scale === undefined) throw new Error(`time: unknown unit ${JSON.stringify(u)} in duration ${quoted}`);
    rest = rest.slice(u.length);
    ns += Number(`${m[1] || '0'}.${m[2] || '0'}`) * scale;
  }
  if (ns > 2 ** 63) throw new Error(`time: invalid duration ${quoted}`);
  // Go keeps integer nanoseconds; Duration.Seconds() splits whole and fractional seconds.
  const whole = Math.trunc(ns);
  const secs = Math.trunc(whole / 1e9) + (whole % 1e9) / 1e9;
  return neg ? -secs : secs;
}
