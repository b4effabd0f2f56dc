/**
 * @module Durations in the two grammars Loki reads them in, and printed as their types print them:
 * - Go's time.ParseDuration (`1h30m`, `1.5h`, `-250ms`, `.5s`, units in any order, `µs`/`us`, no
 *   days): Loki's `| duration` and `duration_seconds()` unwraps, label filters on durations, the
 *   `duration` template function, and the second try of LogQL duration tokens;
 * - Prometheus' model.ParseDuration (`30d`, `1w2d`, `5m`: integers only, units from the largest
 *   down, days, weeks and years): LogQL `[range]` and `offset`, and the `step`/`since` query
 *   parameters (pkg/loghttp/params.go);
 * - both, as Loki's own parseDuration (pkg/logql/syntax/lex.go) tries them: Prometheus' first, then
 *   Go's (`30d`, `1h30m`, `1.5h`, `250ms`; not `1.5d`): LogQL duration tokens, and every duration
 *   kjournal reads from flags, configuration and query parameters;
 * - time.Duration.String() (`1h0m1.5s`) and model.Duration.String() (`30d1h`), for messages.
 * The parsers answer nanoseconds as bigint (a time.Duration is an int64) or Go's error text.
 */
import { goQuote } from './quote.js';

export type ParsedDuration =
  | { readonly ok: true; readonly value: bigint }
  | { readonly ok: false; readonly error: string };

const GO_UNITS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n, // U+00B5 micro sign
  μs: 1_000n, // U+03BC Greek small letter mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const TWO_63 = 1n << 63n;
const HEX = '0123456789abcdef';

/**
 * The time package's own quote (it may not import strconv): `"` and `\` escaped, every byte of a
 * non-ASCII or control rune as `\xNN`.
 */
function timeQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x80 || c < 0x20) {
      for (const b of Buffer.from(ch, 'utf8')) out += `\\x${HEX[b >> 4]}${HEX[b & 15]}`;
    } else {
      if (ch === '"' || ch === '\\') out += '\\';
      out += ch;
    }
  }
  return `${out}"`;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** Go's time.ParseDuration, step for step (leadingInt, leadingFraction, the overflow checks). */
export function parseGoDuration(orig: string): ParsedDuration {
  const invalid: ParsedDuration = { ok: false, error: `time: invalid duration ${timeQuote(orig)}` };
  let s = orig;
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return { ok: true, value: 0n };
  if (s === '') return invalid;
  let d = 0n;
  let i = 0;
  while (i < s.length) {
    const c0 = s.charCodeAt(i);
    if (!(c0 === 46 || isDigit(c0))) return invalid;
    // leadingInt: [0-9]*, an error past 1<<63.
    const pre = i;
    let v = 0n;
    for (; i < s.length && isDigit(s.charCodeAt(i)); i++) {
      if (v > TWO_63 / 10n) return invalid;
      v = v * 10n + BigInt(s.charCodeAt(i) - 48);
      if (v > TWO_63) return invalid;
    }
    const hasInt = i > pre;
    // leadingFraction: (\.[0-9]*)?, digits past what fits are dropped.
    let f = 0n;
    let scale = 1;
    let hasFrac = false;
    if (i < s.length && s[i] === '.') {
      i++;
      const start = i;
      let overflow = false;
      for (; i < s.length && isDigit(s.charCodeAt(i)); i++) {
        if (overflow) continue;
        if (f > (TWO_63 - 1n) / 10n) {
          overflow = true;
          continue;
        }
        const y = f * 10n + BigInt(s.charCodeAt(i) - 48);
        if (y > TWO_63) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      hasFrac = i > start;
    }
    if (!hasInt && !hasFrac) return invalid;
    const u0 = i;
    while (i < s.length && !(s.charCodeAt(i) === 46 || isDigit(s.charCodeAt(i)))) i++;
    if (i === u0) return { ok: false, error: `time: missing unit in duration ${timeQuote(orig)}` };
    const name = s.slice(u0, i);
    const unit = Object.hasOwn(GO_UNITS, name) ? GO_UNITS[name] : undefined;
    if (unit === undefined) {
      return { ok: false, error: `time: unknown unit ${timeQuote(name)} in duration ${timeQuote(orig)}` };
    }
    if (v > TWO_63 / unit) return invalid;
    v *= unit;
    if (f > 0n) {
      // As Go: float64 is nanosecond-accurate for fractions of hours.
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > TWO_63) return invalid;
    }
    d += v;
    if (d > TWO_63) return invalid;
  }
  if (neg) return { ok: true, value: -d };
  if (d > TWO_63 - 1n) return invalid;
  return { ok: true, value: d };
}

/** time.Duration.Seconds(): whole seconds plus the nanoseconds left, as Go splits them. */
export function goDurationSeconds(ns: bigint): number {
  const sec = ns / 1_000_000_000n;
  const nsec = ns % 1_000_000_000n;
  return Number(sec) + Number(nsec) / 1e9;
}

const PROM_UNITS: Readonly<Record<string, { pos: number; mult: bigint }>> = {
  ms: { pos: 7, mult: 1_000_000n },
  s: { pos: 6, mult: 1_000_000_000n },
  m: { pos: 5, mult: 60_000_000_000n },
  h: { pos: 4, mult: 3_600_000_000_000n },
  d: { pos: 3, mult: 86_400_000_000_000n },
  w: { pos: 2, mult: 604_800_000_000_000n },
  y: { pos: 1, mult: 31_536_000_000_000_000n },
};

/** Prometheus' model.ParseDuration (prometheus/common), with its error texts. */
export function parsePromDuration(s: string): ParsedDuration {
  if (s === '0') return { ok: true, value: 0n };
  if (s === '') return { ok: false, error: 'empty duration string' };
  const invalid: ParsedDuration = { ok: false, error: `not a valid duration string: ${goQuote(s)}` };
  let rest = s;
  let total = 0n;
  let last = 0;
  while (rest !== '') {
    const num = /^[0-9]*/.exec(rest)![0];
    if (num === '') return invalid;
    rest = rest.slice(num.length);
    // A unit runs to the next digit (a `.` is part of it: `1.5h` has the unit ".").
    const unit = /^[^0-9]*/.exec(rest)![0];
    if (unit === '') return invalid;
    rest = rest.slice(unit.length);
    const u = Object.hasOwn(PROM_UNITS, unit) ? PROM_UNITS[unit] : undefined;
    if (!u) return { ok: false, error: `unknown unit ${goQuote(unit)} in duration ${goQuote(s)}` };
    // Units must go from the largest down.
    if (u.pos <= last) return invalid;
    last = u.pos;
    const v = BigInt(num);
    if (v >= 1n << 64n) return invalid; // strconv.ParseUint
    if (v > TWO_63 / u.mult) return { ok: false, error: 'duration out of range' };
    total += v * u.mult;
    if (total > TWO_63 - 1n) return { ok: false, error: 'duration out of range' };
  }
  return { ok: true, value: total };
}

/**
 * Loki's parseDuration: Prometheus' grammar first, then Go's; nanoseconds, or undefined. Go's
 * grammar takes a sign (`-5m`): callers that want a length refuse a negative one.
 */
export function parseDuration(s: string): bigint | undefined {
  const p = parsePromDuration(s);
  if (p.ok) return p.value;
  const g = parseGoDuration(s);
  return g.ok ? g.value : undefined;
}

/** Prometheus' model.Duration.String(): `30d1h`, `5m`, `1s500ms`, `0s` (milliseconds precision). */
export function formatPromDuration(ns: bigint): string {
  let ms = ns / 1_000_000n;
  if (ms === 0n) return '0s';
  let out = '';
  const unit = (name: string, mult: bigint, exact: boolean): void => {
    // Years and weeks only when exact: 90d reads better than 12w6d.
    if (exact && ms % mult !== 0n) return;
    const v = ms / mult;
    if (v > 0n) {
      out += `${v}${name}`;
      ms -= v * mult;
    }
  };
  const day = 86_400_000n;
  unit('y', 365n * day, true);
  unit('w', 7n * day, true);
  unit('d', day, false);
  unit('h', 3_600_000n, false);
  unit('m', 60_000n, false);
  unit('s', 1000n, false);
  unit('ms', 1n, false);
  return out;
}

/** Go's time.Duration.String(): `721h0m1s`, `1m30s`, `1.5s`, `250ms`, `0s`. */
export function formatGoDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  let out: string;
  if (u < 1_000_000_000n) {
    const [name, scale] = u < 1000n ? ['ns', 1n] : u < 1_000_000n ? ['µs', 1000n] : ['ms', 1_000_000n];
    out = `${fraction(u, scale)}${name}`;
  } else {
    const h = u / 3_600_000_000_000n;
    u -= h * 3_600_000_000_000n;
    const m = u / 60_000_000_000n;
    u -= m * 60_000_000_000n;
    out = `${fraction(u, 1_000_000_000n)}s`;
    if (h > 0n) out = `${h}h${m}m${out}`;
    else if (m > 0n) out = `${m}m${out}`;
  }
  return neg ? `-${out}` : out;
}

function fraction(v: bigint, scale: bigint): string {
  const whole = v / scale;
  const frac = v % scale;
  if (frac === 0n) return whole.toString();
  const digits = scale.toString().length - 1;
  return `${whole}.${frac.toString().padStart(digits, '0').replace(/0+$/, '')}`;
}
