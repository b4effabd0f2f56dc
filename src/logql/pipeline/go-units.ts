/**
 * @module Go's number and unit parsers as Loki calls them: strconv.ParseFloat, time.ParseDuration and
 * go-humanize's ParseBytes, with their error messages. Each returns a value or an error string.
 */

import { goParseFloat } from '../../go/float.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** strconv.ParseFloat(s, 64), exactly as Go (src/go/float.ts). */
export function parseGoFloat(s: string): Parsed<number> {
  const r = goParseFloat(s);
  return r.ok ? { ok: true, value: r.value } : { ok: false, error: r.error };
}

const UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** time.ParseDuration: nanoseconds (as a float, exact below 2^53). */
export function parseGoDuration(orig: string): Parsed<number> {
  const invalid = { ok: false as const, error: `time: invalid duration ${goQuote(orig)}` };
  let s = orig;
  let neg = false;
  if (s !== '') {
    const c = s[0];
    if (c === '-' || c === '+') {
      neg = c === '-';
      s = s.slice(1);
    }
  }
  if (s === '0') return { ok: true, value: 0 };
  if (s === '') return invalid;
  let total = 0;
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (!(c === 46 || (c >= 48 && c <= 57))) return invalid;
    const start = i;
    while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    const intPart = s.slice(start, i);
    let fracPart = '';
    if (i < s.length && s[i] === '.') {
      i++;
      const fs = i;
      while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
      fracPart = s.slice(fs, i);
    }
    if (intPart === '' && fracPart === '') return invalid;
    const us = i;
    while (i < s.length) {
      const d = s.charCodeAt(i);
      if (d === 46 || (d >= 48 && d <= 57)) break;
      i++;
    }
    if (us === i) return { ok: false, error: `time: missing unit in duration ${goQuote(orig)}` };
    const unitName = s.slice(us, i);
    const unit = UNITS[unitName];
    if (unit === undefined) {
      return { ok: false, error: `time: unknown unit ${goQuote(unitName)} in duration ${goQuote(orig)}` };
    }
    total += Number(intPart || '0') * unit + (fracPart ? Math.trunc(Number(`0.${fracPart}`) * unit) : 0);
    if (total > 2 ** 63) return invalid;
  }
  return { ok: true, value: neg ? -total : total };
}

const BYTE_SIZES: Record<string, number> = {
  b: 1,
  kib: 1024,
  kb: 1000,
  mib: 1024 ** 2,
  mb: 1e6,
  gib: 1024 ** 3,
  gb: 1e9,
  tib: 1024 ** 4,
  tb: 1e12,
  pib: 1024 ** 5,
  pb: 1e15,
  eib: 1024 ** 6,
  eb: 1e18,
  '': 1,
  ki: 1024,
  k: 1000,
  mi: 1024 ** 2,
  m: 1e6,
  gi: 1024 ** 3,
  g: 1e9,
  ti: 1024 ** 4,
  t: 1e12,
  pi: 1024 ** 5,
  p: 1e15,
  ei: 1024 ** 6,
  e: 1e18,
};

/** go-humanize ParseBytes. */
export function parseHumanBytes(s: string): Parsed<number> {
  let last = 0;
  let hasComma = false;
  for (const ch of s) {
    if (!(/\p{Nd}/u.test(ch) || ch === '.' || ch === ',')) break;
    if (ch === ',') hasComma = true;
    last += ch.length;
  }
  let num = s.slice(0, last);
  if (hasComma) num = num.replaceAll(',', '');
  const f = parseGoFloat(num);
  if (!f.ok) return f;
  const extra = s.slice(last).trim().toLowerCase();
  const m = BYTE_SIZES[extra];
  if (m !== undefined && Object.hasOwn(BYTE_SIZES, extra)) {
    const v = f.value * m;
    if (v >= 2 ** 64) return { ok: false, error: `too large: ${s}` };
    return { ok: true, value: Math.trunc(v) };
  }
  return { ok: false, error: `unhandled size name: ${extra}` };
}

/** strconv.Quote, close enough for error messages. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}
