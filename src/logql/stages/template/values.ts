/**
 * @module Go values as the template engine sees them: string, int64 (bigint), float64 (number), bool,
 * nil (null), no value (undefined), time.Time (GoTime), slices (arrays) and maps (objects); printed as
 * Go's fmt prints them with %v.
 */
import { goParseFloat } from '../../../go/float.js';
import { formatGoTime, GoTime } from './time.js';

export type GoValue = string | bigint | number | boolean | null | undefined | GoTime | GoValue[] | GoMap;
export interface GoMap {
  [key: string]: GoValue;
}

export class TemplateError extends Error {}

/** strconv.FormatFloat(f, 'g', -1, 64) with %v's exponent rule. */
export function formatGoFloat(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const e = f.toExponential(); // shortest digits, d.ddde±x
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(e);
  if (!m) return String(f);
  const exp = Number(m[4]);
  if (exp < -4 || exp >= 6) {
    const digits = (m[2] as string) + (m[3] ?? '');
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const ae = Math.abs(exp);
    return `${m[1]}${mant}e${exp < 0 ? '-' : '+'}${ae < 10 ? `0${ae}` : ae}`;
  }
  return String(f);
}

export function isMap(v: GoValue): v is GoMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof GoTime);
}

export function goString(v: GoValue): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'bigint':
      return v.toString();
    case 'number':
      return formatGoFloat(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      return '<no value>';
  }
  if (v === null) return '<nil>';
  if (v instanceof GoTime) return formatGoTime(v, '2006-01-02 15:04:05.999999999 -0700 MST');
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  const keys = Object.keys(v).sort();
  return `map[${keys.map((k) => `${k}:${goString(v[k])}`).join(' ')}]`;
}

/** Go's template truth. */
export function truth(v: GoValue): boolean {
  switch (typeof v) {
    case 'string':
      return v.length > 0;
    case 'bigint':
      return v !== 0n;
    case 'number':
      return v !== 0;
    case 'boolean':
      return v;
    case 'undefined':
      return false;
  }
  if (v === null) return false;
  if (v instanceof GoTime) return true;
  if (Array.isArray(v)) return v.length > 0;
  return Object.keys(v).length > 0;
}

export function typeName(v: GoValue): string {
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'bigint':
      return 'int';
    case 'number':
      return 'float64';
    case 'boolean':
      return 'bool';
    case 'undefined':
      return 'invalid';
  }
  if (v === null) return '<nil>';
  if (v instanceof GoTime) return 'time.Time';
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]interface {}';
}

const INT_RE = /^[+-]?(?:0[xX][0-9a-fA-F_]+|0[oO]?[0-7_]+|0[bB][01_]+|\d[\d_]*)$/;

/** spf13/cast ToInt64 (errors give 0). */
export function toInt64(v: GoValue): bigint {
  switch (typeof v) {
    case 'bigint':
      return v;
    case 'number':
      return Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
    case 'boolean':
      return v ? 1n : 0n;
    case 'string': {
      let s = v;
      // cast's trimZeroDecimal: `12.00` is 12; `12.` keeps its point (and is not an integer).
      const dot = /^([+-]?\d+)\.0+$/.exec(s);
      if (dot) s = dot[1] as string;
      if (!INT_RE.test(s)) return 0n;
      try {
        const neg = s.startsWith('-');
        let body = s.replace(/^[+-]/, '').replaceAll('_', '');
        if (/^0[0-7]+$/.test(body)) body = `0o${body.slice(1)}`;
        else if (/^0[oO]/.test(body)) body = `0o${body.slice(2)}`;
        const n = BigInt(body);
        return neg ? -n : n;
      } catch {
        return 0n;
      }
    }
    default:
      return 0n;
  }
}

/** spf13/cast ToFloat64 (errors give 0). */
export function toFloat64(v: GoValue): number {
  switch (typeof v) {
    case 'bigint':
      return Number(v);
    case 'number':
      return v;
    case 'boolean':
      return v ? 1 : 0;
    case 'string': {
      // spf13/cast's ToFloat64: strconv.ParseFloat, 0 when it fails (no trimming; `0x1p3`, `1_000`,
      // `inf` and `nan` are numbers to it).
      const r = goParseFloat(v);
      return r.ok ? r.value : 0;
    }
    default:
      return 0;
  }
}

/** Converts JSON.parse output into Go values (numbers are float64, as encoding/json does). */
export function fromJs(v: unknown): GoValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return v;
  if (Array.isArray(v)) return v.map(fromJs);
  if (typeof v === 'object') {
    const out: GoMap = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (k === '__proto__')
        Object.defineProperty(out, k, { value: fromJs(x), enumerable: true, writable: true });
      else out[k] = fromJs(x);
    }
    return out;
  }
  return null;
}
