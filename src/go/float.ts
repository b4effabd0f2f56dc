/**
 * @module Go's strconv.ParseFloat(s, 64), exactly, for the places Loki calls it: LogQL number
 * literals, label filter values compared as numbers, `unwrap` values. Go accepts decimal and
 * hexadecimal forms (`0x1.8p3` is 12; a hexadecimal mantissa needs its `p` exponent, so `0x1A` is
 * refused), `_` between digits (`1_000`), and `inf`, `infinity`, `nan` in any case (nan unsigned);
 * it refuses `0o17` and `0b1`, reads `017` as seventeen, rounds hexadecimal mantissas to nearest
 * even, and answers ±Inf with "value out of range" past the largest double (an underflow is a
 * silent 0). JavaScript's Number() differs on nearly each of these.
 */

export type GoFloat =
  | { readonly ok: true; readonly value: number }
  /** `value` is what Go returns beside the error: 0, or ±Inf out of range. */
  | { readonly ok: false; readonly value: number; readonly error: string };

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const HEX = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/;
const SPECIAL = /^([+-]?)(?:(inf|infinity)|(nan))$/i;

function fail(s: string, why: 'invalid syntax' | 'value out of range', value = 0): GoFloat {
  return { ok: false, value, error: `strconv.ParseFloat: parsing ${JSON.stringify(s)}: ${why}` };
}

/** Go's underscoreOK: `_` only between digits, or between a base prefix and a digit. */
function underscoresOk(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s[0] === '+' || s[0] === '-') i = 1;
  let hex = false;
  if (s.length - i >= 2 && s[i] === '0' && /[bBoOxX]/.test(s[i + 1]!)) {
    hex = s[i + 1] === 'x' || s[i + 1] === 'X';
    i += 2;
    saw = '0';
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/** mantissa × 2^exp as the nearest double (ties to even), or undefined past the largest one. */
function hexToDouble(mantissa: bigint, exp: number): number | undefined {
  if (mantissa === 0n) return 0;
  let bits = mantissa.toString(2).length;
  // The exponent of the leading bit; below -1022 fewer bits are left (subnormals).
  const top = exp + bits - 1;
  const precision = Math.min(53, 1075 + top);
  // Below half the smallest subnormal (2^-1075): zero.
  if (precision < 0) return 0;
  if (bits > precision) {
    const shift = BigInt(bits - precision);
    let m = mantissa >> shift;
    const rest = mantissa - (m << shift);
    const half = 1n << (shift - 1n);
    if (rest > half || (rest === half && (m & 1n) === 1n)) m += 1n;
    if (m === 0n) return 0;
    mantissa = m;
    exp += Number(shift);
    bits = mantissa.toString(2).length;
  }
  if (exp + bits - 1 > 1023) return undefined;
  // Exact in two steps: the mantissa fits 53 bits, each power of two is a normal double.
  const first = Math.max(exp, -1022);
  return Number(mantissa) * 2 ** first * 2 ** (exp - first);
}

export function goParseFloat(s: string): GoFloat {
  const special = SPECIAL.exec(s);
  if (special) {
    if (special[3] !== undefined)
      return special[1] === '' ? { ok: true, value: Number.NaN } : fail(s, 'invalid syntax');
    return { ok: true, value: special[1] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY };
  }
  let text = s;
  if (s.includes('_')) {
    if (!underscoresOk(s)) return fail(s, 'invalid syntax');
    text = s.replaceAll('_', '');
  }
  if (DECIMAL.test(text)) {
    const value = Number(text);
    if (!Number.isFinite(value)) return fail(s, 'value out of range', value);
    return { ok: true, value };
  }
  const hex = HEX.exec(text);
  if (!hex) return fail(s, 'invalid syntax');
  const [, sign, whole = '', frac = ''] = hex;
  if (whole === '' && frac === '') return fail(s, 'invalid syntax');
  const exp = Number(hex[4]) - 4 * frac.length;
  const magnitude =
    Number.isFinite(exp) && Math.abs(exp) < 1e6 ? hexToDouble(BigInt(`0x${whole}${frac}`), exp) : undefined;
  const negative = sign === '-';
  if (magnitude === undefined) {
    // A huge exponent: out of range upwards, or a silent zero downwards (as Go answers).
    if (exp < 0 || BigInt(`0x${whole}${frac}`) === 0n) return { ok: true, value: negative ? -0 : 0 };
    return fail(s, 'value out of range', negative ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY);
  }
  return { ok: true, value: negative ? -magnitude : magnitude };
}
