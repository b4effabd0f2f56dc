/**
 * @module The template functions: Go's builtins and Loki's list (its own functions and the Sprig ones
 * it enables), with Go's argument type checks and Sprig's conversions.
 */
import { Buffer } from 'node:buffer';
import type RE2 from 're2';
import { parseHumanBytes } from '../../../go/bytes.js';
import { goDurationSeconds, parseGoDuration } from '../../../go/duration.js';
import { expandTemplate } from '../../../go/regexp-expand.js';
import { compileRe2 } from '../line-filter.js';
import { sprintf } from './printf.js';
import { formatGoTime, GoTime, parseGoTime, timeInZone, ZERO_TIME, zoneOffset } from './time.js';
import {
  fromJs,
  type GoValue,
  goString,
  isMap,
  TemplateError,
  toFloat64,
  toInt64,
  truth,
  typeName,
} from './values.js';

export interface FnCtx {
  line: string;
  ts: bigint;
}

export type Fn = (ctx: FnCtx, args: GoValue[]) => GoValue;

/** Argument types: s string, i int, f float64, t time.Time, a any. */
type Sig = string;

function check(name: string, sig: Sig, variadic: string | undefined, args: GoValue[]): void {
  const fixed = sig.length;
  if (variadic === undefined ? args.length !== fixed : args.length < fixed) {
    throw new TemplateError(
      `wrong number of args for ${name}: want ${variadic === undefined ? '' : 'at least '}${fixed} got ${args.length}`,
    );
  }
  for (let i = 0; i < args.length; i++) {
    const want = i < fixed ? sig[i] : variadic;
    const v = args[i] as GoValue;
    switch (want) {
      case 's':
        if (typeof v !== 'string')
          throw new TemplateError(`wrong type for value; expected string; got ${typeName(v)}`);
        break;
      case 'i':
        if (typeof v === 'number' && Number.isInteger(v)) args[i] = BigInt(v);
        else if (typeof v !== 'bigint')
          throw new TemplateError(`wrong type for value; expected int; got ${typeName(v)}`);
        break;
      case 'f':
        if (typeof v === 'bigint') args[i] = Number(v);
        else if (typeof v !== 'number')
          throw new TemplateError(`wrong type for value; expected float64; got ${typeName(v)}`);
        break;
      case 't':
        if (!(v instanceof GoTime))
          throw new TemplateError(`wrong type for value; expected time.Time; got ${typeName(v)}`);
        break;
    }
  }
}

function def(sig: Sig, fn: (ctx: FnCtx, a: GoValue[]) => GoValue, variadic?: string): (name: string) => Fn {
  return (name) => (ctx, args) => {
    check(name, sig, variadic, args);
    return fn(ctx, args);
  };
}

const s = (v: GoValue) => v as string;
const n = (v: GoValue) => Number(v as bigint);

// --- regexes compiled once per source

const reCache = new Map<string, RE2>();
function regex(src: string, global: boolean): RE2 {
  const key = (global ? 'g' : '-') + src;
  let re = reCache.get(key);
  if (!re) {
    try {
      re = compileRe2(src);
    } catch (err) {
      throw new TemplateError(`error parsing regexp: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (global) re = new (re.constructor as new (r: RE2, f: string) => RE2)(re, 'gu');
    if (reCache.size > 500) reCache.clear();
    reCache.set(key, re);
  }
  re.lastIndex = 0;
  return re;
}

function replaceAll(src: string, text: string, repl: string, literal: boolean): string {
  const re = regex(src, true);
  return re.replace(text, (...args: unknown[]) => {
    let end = args.length;
    let named: Record<string, string> | undefined;
    if (typeof args[end - 1] === 'object' && args[end - 1] !== null) {
      named = args[end - 1] as Record<string, string>;
      end--;
    }
    end -= 2; // offset, string
    if (literal) return repl;
    return expandTemplate(repl, { numbered: args.slice(0, end) as (string | undefined)[], named });
  });
}

// --- Sprig helpers

function empty(v: GoValue): boolean {
  return !truth(v);
}

/**
 * shopspring/decimal's NewFromFloat: the shortest decimal that reads back as `x` (JavaScript's
 * String(x) gives the same digits); NaN and ±Inf panic there, an error here.
 */
function parseDec(x: number): { int: bigint; scale: number } {
  if (!Number.isFinite(x)) {
    throw new TemplateError(
      `Cannot create a Decimal from ${Number.isNaN(x) ? 'NaN' : x > 0 ? '+Inf' : '-Inf'}`,
    );
  }
  const str = String(x);
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(str);
  if (!m) return { int: 0n, scale: 0 };
  const frac = m[3] ?? '';
  let int = BigInt((m[2] as string) + frac);
  let scale = frac.length - Number(m[4] ?? 0);
  if (scale < 0) {
    int *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { int: m[1] ? -int : int, scale };
}

/** decimal.Float64(): the nearest float64 to the exact decimal. */
function decToNumber(d: { int: bigint; scale: number }): number {
  if (d.scale === 0) return Number(d.int);
  const neg = d.int < 0n;
  const digits = (neg ? -d.int : d.int).toString().padStart(d.scale + 1, '0');
  return Number(`${neg ? '-' : ''}${digits.slice(0, -d.scale)}.${digits.slice(-d.scale)}`);
}

/** shopspring/decimal's DivisionPrecision, the digits Div keeps after the point. */
const DIVISION_PRECISION = 16;

/**
 * Sprig's execDecimalOp step (addf, subf, mulf, divf): both sides through decimal.NewFromFloat,
 * exact addition, subtraction and multiplication; division as decimal.Div, that is DivRound to 16
 * digits after the point, half away from zero.
 */
function decOp(op: '+' | '-' | '*' | '/', a: number, b: number): number {
  const x = parseDec(a);
  const y = parseDec(b);
  if (op === '*') return decToNumber({ int: x.int * y.int, scale: x.scale + y.scale });
  if (op === '/') {
    if (y.int === 0n) throw new TemplateError('decimal division by 0');
    const num = x.int * 10n ** BigInt(y.scale + DIVISION_PRECISION);
    const den = y.int * 10n ** BigInt(x.scale);
    let q = num / den;
    const r = num % den;
    const abs = (v: bigint): bigint => (v < 0n ? -v : v);
    if (2n * abs(r) >= abs(den)) q += num < 0n !== den < 0n ? -1n : 1n;
    return decToNumber({ int: q, scale: DIVISION_PRECISION });
  }
  const scale = Math.max(x.scale, y.scale);
  const xi = x.int * 10n ** BigInt(scale - x.scale);
  const yi = y.int * 10n ** BigInt(scale - y.scale);
  return decToNumber({ int: op === '+' ? xi + yi : xi - yi, scale });
}

function goTitle(str: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of str) {
    const sep = !/[\p{L}\p{Nd}_]/u.test(prev);
    out += sep ? ch.toUpperCase() : ch;
    prev = ch;
  }
  return out;
}

function goTrim(str: string, cutset: string, left: boolean, right: boolean): string {
  const set = new Set([...cutset]);
  const chars = [...str];
  let a = 0;
  let b = chars.length;
  if (left) while (a < b && set.has(chars[a] as string)) a++;
  if (right) while (b > a && set.has(chars[b - 1] as string)) b--;
  return chars.slice(a, b).join('');
}

const goSpace = /^[\s\u0085]+|[\s\u0085]+$/gu;

function queryEscape(str: string): string {
  let out = '';
  for (const byte of Buffer.from(str, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function queryUnescape(str: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < str.length; i++) {
    const c = str[i] as string;
    if (c === '%') {
      const h = str.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(h)) {
        throw new TemplateError(`invalid URL escape ${JSON.stringify(str.slice(i, i + 3))}`);
      }
      bytes.push(Number.parseInt(h, 16));
      i += 2;
    } else if (c === '+') bytes.push(32);
    else bytes.push(...Buffer.from(c, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_VALUE = new Map([...B64].map((c, k) => [c.charCodeAt(0), k]));

/**
 * Sprig's b64dec: Go's base64.StdEncoding.DecodeString, its error text in place of the result.
 * As Go decodes: padding is required (`aGk` is an error), `\r` and `\n` anywhere are skipped,
 * and an error names the byte offset where Go's decodeQuantum stops.
 */
function b64dec(str: string): string {
  const src = Buffer.from(str, 'utf8');
  const out: number[] = [];
  const corrupt = (at: number): string => `illegal base64 data at input byte ${at}`;
  const isNl = (b: number | undefined): boolean => b === 0x0a || b === 0x0d;
  let si = 0;
  while (si < src.length) {
    const q = [0, 0, 0, 0];
    let dlen = 4;
    let trailing: number | undefined;
    for (let j = 0; j < 4; j++) {
      if (si === src.length) {
        if (j === 0) return Buffer.from(out).toString('utf8');
        return corrupt(si - j);
      }
      const c = src[si]!;
      si++;
      const v = B64_VALUE.get(c);
      if (v !== undefined) {
        q[j] = v;
        continue;
      }
      if (isNl(c)) {
        j--;
        continue;
      }
      if (c !== 0x3d) return corrupt(si - 1);
      // Padding: only in the third or fourth place, "==" in the third.
      if (j < 2) return corrupt(si - 1);
      if (j === 2) {
        while (si < src.length && isNl(src[si])) si++;
        if (si === src.length) return corrupt(src.length);
        if (src[si] !== 0x3d) return corrupt(si - 1);
        si++;
      }
      while (si < src.length && isNl(src[si])) si++;
      if (si < src.length) trailing = si;
      dlen = j;
      break;
    }
    if (trailing !== undefined) return corrupt(trailing);
    const val = (q[0]! << 18) | (q[1]! << 12) | (q[2]! << 6) | q[3]!;
    out.push((val >> 16) & 0xff);
    if (dlen >= 3) out.push((val >> 8) & 0xff);
    if (dlen === 4) out.push(val & 0xff);
  }
  return Buffer.from(out).toString('utf8');
}

function cmpKind(v: GoValue): string {
  switch (typeof v) {
    case 'bigint':
      return 'int';
    case 'number':
      return 'float';
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
  }
  return 'other';
}

function eq(a: GoValue, b: GoValue): boolean {
  if (a === null || b === null || a === undefined || b === undefined)
    return a === b || (a == null && b == null);
  const ka = cmpKind(a);
  const kb = cmpKind(b);
  if (ka === 'other' || kb === 'other') {
    if (a instanceof GoTime && b instanceof GoTime) return a.ns === b.ns;
    throw new TemplateError('non-comparable type');
  }
  if (ka !== kb) throw new TemplateError('incompatible types for comparison');
  return a === b;
}

function lt(a: GoValue, b: GoValue): boolean {
  const ka = cmpKind(a);
  const kb = cmpKind(b);
  if (ka === 'other' || ka === 'bool' || kb === 'other' || kb === 'bool')
    throw new TemplateError('invalid type for comparison');
  if (ka !== kb) throw new TemplateError('incompatible types for comparison');
  return (a as string) < (b as string);
}

function dateArg(v: GoValue): GoTime {
  if (v instanceof GoTime) return v;
  if (typeof v === 'bigint') return timeInZone(v * 1_000_000_000n, 'Local');
  if (typeof v === 'number') return timeInZone(BigInt(Math.trunc(v)) * 1_000_000_000n, 'Local');
  return timeInZone(BigInt(Date.now()) * 1_000_000n, 'Local');
}

function unixToTime(epoch: string): GoTime {
  const parse = () => {
    if (!/^[+-]?\d+$/.test(epoch))
      throw new TemplateError(
        `unable to parse time '${epoch}': strconv.ParseInt: parsing ${JSON.stringify(epoch)}: invalid syntax`,
      );
    return BigInt(epoch);
  };
  switch (epoch.length) {
    case 5:
      return new GoTime(parse() * 86400n * 1_000_000_000n);
    case 10:
      return new GoTime(parse() * 1_000_000_000n);
    case 13:
      return new GoTime(parse() * 1_000_000n);
    case 16:
      return new GoTime(parse() * 1_000n);
    case 19:
      return new GoTime(parse());
    default:
      throw new TemplateError(`unable to parse time '${epoch}': unsupported epoch length: ${epoch.length}`);
  }
}

function runes(str: string): string[] {
  return [...str];
}

const TABLE: Record<string, (name: string) => Fn> = {
  // Go builtins
  not: def('a', (_, a) => !truth(a[0])),
  eq: def(
    'a',
    (_, a) =>
      a.slice(1).length === 0
        ? (() => {
            throw new TemplateError('missing argument for comparison');
          })()
        : a.slice(1).some((b) => eq(a[0], b)),
    'a',
  ),
  ne: def('aa', (_, a) => !eq(a[0], a[1])),
  lt: def('aa', (_, a) => lt(a[0], a[1])),
  le: def('aa', (_, a) => lt(a[0], a[1]) || eq(a[0], a[1])),
  gt: def('aa', (_, a) => !lt(a[0], a[1]) && !eq(a[0], a[1])),
  ge: def('aa', (_, a) => !lt(a[0], a[1])),
  len: def('a', (_, a) => {
    const v = a[0];
    if (typeof v === 'string') return BigInt(Buffer.byteLength(v));
    if (Array.isArray(v)) return BigInt(v.length);
    if (isMap(v)) return BigInt(Object.keys(v).length);
    throw new TemplateError(`len of type ${typeName(v)}`);
  }),
  index: def(
    'a',
    (_, a) => {
      let cur = a[0];
      for (const k of a.slice(1)) {
        if (Array.isArray(cur) && typeof k === 'bigint') {
          if (k < 0n || k >= BigInt(cur.length)) throw new TemplateError(`index out of range: ${k}`);
          cur = cur[Number(k)];
        } else if (isMap(cur) && typeof k === 'string') cur = Object.hasOwn(cur, k) ? cur[k] : null;
        else if (typeof cur === 'string' && typeof k === 'bigint') {
          const b = Buffer.from(cur, 'utf8');
          if (k < 0n || k >= BigInt(b.length)) throw new TemplateError(`index out of range: ${k}`);
          cur = BigInt(b[Number(k)] as number);
        } else throw new TemplateError(`can't index item of type ${typeName(cur)}`);
      }
      return cur;
    },
    'a',
  ),
  print: def('', (_, a) => goPrint(a), 'a'),
  println: def('', (_, a) => `${a.map(goString).join(' ')}\n`, 'a'),
  printf: def('s', (_, a) => sprintf(s(a[0]), a.slice(1)), 'a'),
  html: def(
    '',
    (_, a) =>
      goPrint(a).replace(
        /[<>&'"\0]/g,
        (c) =>
          ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&#39;', '"': '&#34;', '\0': '\uFFFD' })[
            c
          ] as string,
      ),
    'a',
  ),
  js: def(
    '',
    (_, a) =>
      goPrint(a)
        .replace(
          /[\\'"<>&=\n\r\t]/g,
          (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`,
        )
        .replace(/\\u005C/g, '\\\\')
        .replace(/\\u0027/g, "\\'")
        .replace(/\\u0022/g, '\\"'),
    'a',
  ),
  urlquery: def('', (_, a) => queryEscape(goPrint(a)), 'a'),

  // Loki's own
  ToLower: def('s', (_, a) => s(a[0]).toLowerCase()),
  ToUpper: def('s', (_, a) => s(a[0]).toUpperCase()),
  Replace: def('sssi', (_, a) => {
    const count = n(a[3]);
    if (count < 0) return s(a[0]).replaceAll(s(a[1]), s(a[2]));
    let out = s(a[0]);
    let from = 0;
    for (let k = 0; k < count; k++) {
      const at = out.indexOf(s(a[1]), from);
      if (at === -1) break;
      out = out.slice(0, at) + s(a[2]) + out.slice(at + s(a[1]).length);
      from = at + s(a[2]).length + (s(a[1]) === '' ? 1 : 0);
    }
    return out;
  }),
  Trim: def('ss', (_, a) => goTrim(s(a[0]), s(a[1]), true, true)),
  TrimLeft: def('ss', (_, a) => goTrim(s(a[0]), s(a[1]), true, false)),
  TrimRight: def('ss', (_, a) => goTrim(s(a[0]), s(a[1]), false, true)),
  TrimPrefix: def('ss', (_, a) => (s(a[0]).startsWith(s(a[1])) ? s(a[0]).slice(s(a[1]).length) : s(a[0]))),
  TrimSuffix: def('ss', (_, a) =>
    s(a[1]) !== '' && s(a[0]).endsWith(s(a[1])) ? s(a[0]).slice(0, -s(a[1]).length) : s(a[0]),
  ),
  TrimSpace: def('s', (_, a) => s(a[0]).replace(goSpace, '')),
  regexReplaceAll: def('sss', (_, a) => replaceAll(s(a[0]), s(a[1]), s(a[2]), false)),
  regexReplaceAllLiteral: def('sss', (_, a) => replaceAll(s(a[0]), s(a[1]), s(a[2]), true)),
  count: def('ss', (_, a) => BigInt(s(a[1]).match(regex(s(a[0]), true))?.length ?? 0)),
  urldecode: def('s', (_, a) => queryUnescape(s(a[0]))),
  urlencode: def('s', (_, a) => queryEscape(s(a[0]))),
  bytes: def('s', (_, a) => {
    const p = parseHumanBytes(s(a[0]).replaceAll(' ', ''));
    if (!p.ok) throw new TemplateError(p.error);
    return p.value;
  }),
  duration: def('s', (_, a) => {
    const p = parseGoDuration(s(a[0]));
    if (!p.ok) throw new TemplateError(p.error);
    return goDurationSeconds(p.value);
  }),
  unixEpochMillis: def('t', (_, a) => ((a[0] as GoTime).ns / 1_000_000n).toString()),
  unixEpochNanos: def('t', (_, a) => (a[0] as GoTime).ns.toString()),
  toDateInZone: def('sss', (_, a) => {
    const zone = zoneOffset(s(a[1]), 0) ? s(a[1]) : 'UTC';
    return parseGoTime(s(a[0]), s(a[2]), zone) ?? ZERO_TIME;
  }),
  unixToTime: def('s', (_, a) => unixToTime(s(a[0]))),
  alignLeft: def('is', (_, a) => {
    const count = n(a[0]);
    const r = runes(s(a[1]));
    if (count < 0 || count === r.length) return s(a[1]);
    if (count > r.length) return s(a[1]) + ' '.repeat(count - r.length);
    return r.slice(0, count).join('');
  }),
  alignRight: def('is', (_, a) => {
    const count = n(a[0]);
    const r = runes(s(a[1]));
    if (count < 0 || count === r.length) return s(a[1]);
    if (count > r.length) return ' '.repeat(count - r.length) + s(a[1]);
    return r.slice(r.length - count).join('');
  }),
  __line__: def('', (ctx) => ctx.line),
  __timestamp__: def('', (ctx) => timeInZone(ctx.ts, 'Local')),

  // Sprig, as Loki enables them
  b64enc: def('s', (_, a) => Buffer.from(s(a[0]), 'utf8').toString('base64')),
  b64dec: def('s', (_, a) => b64dec(s(a[0]))),
  lower: def('s', (_, a) => s(a[0]).toLowerCase()),
  upper: def('s', (_, a) => s(a[0]).toUpperCase()),
  title: def('s', (_, a) => goTitle(s(a[0]))),
  trunc: def('is', (_, a) => {
    const c = n(a[0]);
    const r = runes(s(a[1]));
    if (c < 0 && r.length + c > 0) return r.slice(r.length + c).join('');
    if (c >= 0 && r.length > c) return r.slice(0, c).join('');
    return s(a[1]);
  }),
  substr: def('iis', (_, a) => {
    const r = runes(s(a[2]));
    let start = n(a[0]);
    let end = n(a[1]);
    if (end > r.length) end = r.length;
    if (start > r.length) start = r.length;
    if (start < 0) return end < 0 ? '' : r.slice(0, end).join('');
    if (end < 0) return r.slice(start).join('');
    if (start > end) return '';
    return r.slice(start, end).join('');
  }),
  contains: def('ss', (_, a) => s(a[1]).includes(s(a[0]))),
  hasPrefix: def('ss', (_, a) => s(a[1]).startsWith(s(a[0]))),
  hasSuffix: def('ss', (_, a) => s(a[1]).endsWith(s(a[0]))),
  indent: def('is', (_, a) => {
    const pad = ' '.repeat(Math.max(0, n(a[0])));
    return pad + s(a[1]).replaceAll('\n', `\n${pad}`);
  }),
  nindent: def('is', (_, a) => {
    const pad = ' '.repeat(Math.max(0, n(a[0])));
    return `\n${pad}${s(a[1]).replaceAll('\n', `\n${pad}`)}`;
  }),
  replace: def('sss', (_, a) => s(a[2]).replaceAll(s(a[0]), s(a[1]))),
  repeat: def('is', (_, a) => {
    if (n(a[0]) < 0) throw new TemplateError('strings: negative Repeat count');
    return s(a[1]).repeat(n(a[0]));
  }),
  trim: def('s', (_, a) => s(a[0]).replace(goSpace, '')),
  trimAll: def('ss', (_, a) => goTrim(s(a[1]), s(a[0]), true, true)),
  trimSuffix: def('ss', (_, a) =>
    s(a[0]) !== '' && s(a[1]).endsWith(s(a[0])) ? s(a[1]).slice(0, -s(a[0]).length) : s(a[1]),
  ),
  trimPrefix: def('ss', (_, a) => (s(a[1]).startsWith(s(a[0])) ? s(a[1]).slice(s(a[0]).length) : s(a[1]))),
  int: def('a', (_, a) => toInt64(a[0])),
  float64: def('a', (_, a) => toFloat64(a[0])),
  add: def('', (_, a) => a.reduce<bigint>((acc, v) => acc + toInt64(v), 0n), 'a'),
  sub: def('aa', (_, a) => toInt64(a[0]) - toInt64(a[1])),
  mul: def('a', (_, a) => a.slice(1).reduce<bigint>((acc, v) => acc * toInt64(v), toInt64(a[0])), 'a'),
  div: def('aa', (_, a) => {
    const d = toInt64(a[1]);
    if (d === 0n) throw new TemplateError('runtime error: integer divide by zero');
    return toInt64(a[0]) / d;
  }),
  mod: def('aa', (_, a) => {
    const d = toInt64(a[1]);
    if (d === 0n) throw new TemplateError('runtime error: integer divide by zero');
    return toInt64(a[0]) % d;
  }),
  addf: def('', (_, a) => a.reduce<number>((acc, v) => decOp('+', acc, toFloat64(v)), 0), 'a'),
  subf: def(
    'a',
    (_, a) => a.slice(1).reduce<number>((acc, v) => decOp('-', acc, toFloat64(v)), toFloat64(a[0])),
    'a',
  ),
  mulf: def(
    'a',
    (_, a) => a.slice(1).reduce<number>((acc, v) => decOp('*', acc, toFloat64(v)), toFloat64(a[0])),
    'a',
  ),
  divf: def(
    'a',
    (_, a) => a.slice(1).reduce<number>((acc, v) => decOp('/', acc, toFloat64(v)), toFloat64(a[0])),
    'a',
  ),
  max: def(
    'a',
    (_, a) =>
      a.slice(1).reduce<bigint>((m, v) => {
        const x = toInt64(v);
        // biome-ignore lint/complexity/useMathMinMax: bigints
        return x > m ? x : m;
      }, toInt64(a[0])),
    'a',
  ),
  min: def(
    'a',
    (_, a) =>
      a.slice(1).reduce<bigint>((m, v) => {
        const x = toInt64(v);
        // biome-ignore lint/complexity/useMathMinMax: bigints
        return x < m ? x : m;
      }, toInt64(a[0])),
    'a',
  ),
  maxf: def('a', (_, a) => Math.max(...a.map(toFloat64)), 'a'),
  minf: def('a', (_, a) => Math.min(...a.map(toFloat64)), 'a'),
  ceil: def('a', (_, a) => Math.ceil(toFloat64(a[0]))),
  floor: def('a', (_, a) => Math.floor(toFloat64(a[0]))),
  round: def(
    'ai',
    (_, a) => {
      const roundOn = a.length > 2 ? (a[2] as number) : 0.5;
      const val = toFloat64(a[0]);
      const pow = 10 ** n(a[1]);
      const digit = pow * val;
      const frac = digit - Math.trunc(digit);
      const r = frac >= roundOn ? Math.ceil(digit) : Math.floor(digit);
      return r / pow;
    },
    'f',
  ),
  fromJson: def('s', (_, a) => {
    try {
      return fromJs(JSON.parse(s(a[0])));
    } catch {
      return null;
    }
  }),
  date: def('sa', (_, a) => formatTime(s(a[0]), dateArg(a[1]))),
  toDate: def('ss', (_, a) => parseGoTime(s(a[0]), s(a[1]), 'Local') ?? ZERO_TIME),
  now: def('', () => timeInZone(BigInt(Date.now()) * 1_000_000n, 'Local')),
  unixEpoch: def('t', (_, a) => (a[0] as GoTime).unixSeconds().toString()),
  default: def(
    'a',
    (_, a) => {
      const given = a.slice(1);
      if (given.length === 0 || empty(given[0])) return a[0];
      return given[0];
    },
    'a',
  ),
};
TABLE.duration_seconds = TABLE.duration as (name: string) => Fn;

function formatTime(layout: string, t: GoTime): string {
  return formatGoTime(t, layout);
}

/** fmt.Sprint: spaces between operands when neither is a string. */
function goPrint(a: readonly GoValue[]): string {
  let out = '';
  for (let i = 0; i < a.length; i++) {
    if (i > 0 && typeof a[i] !== 'string' && typeof a[i - 1] !== 'string') out += ' ';
    out += goString(a[i]);
  }
  return out;
}

export const FUNCS: Record<string, Fn> = Object.create(null) as Record<string, Fn>;
for (const [name, make] of Object.entries(TABLE)) FUNCS[name] = make(name);

export function isTemplateFunc(name: string): boolean {
  return name === 'and' || name === 'or' || Object.hasOwn(FUNCS, name);
}
