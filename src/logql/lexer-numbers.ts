/**
 * @module Numbers, durations and sizes as Loki's lexer reads them (pkg/logql/syntax/lex.go over its
 * copy of Go's text/scanner, query_scanner.go):
 * - a number is scanned as Go scans one: decimal with `_` between digits, `0x` hexadecimal (with
 *   a `p` exponent when it has a fraction), `0o`, `0b`, a leading `0` (octal, so `09` is an
 *   error), `.5`, `5.`, exponents; the scanner's own errors are parse errors;
 * - right after it, the runes that could continue a duration (digits, `.`, n u µ m s h d w y) make
 *   a DURATION when Prometheus' model.ParseDuration or else Go's time.ParseDuration accepts the
 *   whole (`5m`, `1h30m`, `1.5h`; not `1.5d`), else the runes of a size (digits, `.`, B i k K M G T
 *   P) make a BYTES when go-humanize accepts it; otherwise the number stands alone;
 * - `-` followed by a duration is a negative DURATION (`offset -5m`);
 * - a range `[...]` is its raw text up to `]`, read by model.ParseDuration alone: `[1.5m]`,
 *   `[5m ]` and `[30m1h]` are errors there.
 * The number's text goes to the parser, which converts it with strconv.ParseFloat (src/go/float.ts).
 */
import { parseHumanBytes } from '../go/bytes.js';
import { parseDuration } from '../go/duration.js';

/** The end of a number starting at `i`, and the scanner's first error if any. */
export function scanGoNumber(input: string, start: number): { end: number; error?: string } {
  let i = start;
  let error: string | undefined;
  const err = (msg: string): void => {
    error ??= msg;
  };
  const isDec = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
  const isHex = (c: string | undefined): boolean => c !== undefined && /[0-9a-fA-F]/.test(c);
  let base = 10;
  let prefix = '';
  let digsep = 0;
  let invalid = '';
  let float = false;
  const digits = (b: number): void => {
    if (b <= 10) {
      const max = String.fromCharCode(48 + b);
      while (isDec(input[i]) || input[i] === '_') {
        const c = input[i]!;
        if (c === '_') digsep |= 2;
        else {
          digsep |= 1;
          if (c >= max && invalid === '') invalid = c;
        }
        i++;
      }
    } else {
      while (isHex(input[i]) || input[i] === '_') {
        digsep |= input[i] === '_' ? 2 : 1;
        i++;
      }
    }
  };
  const litname = (): string =>
    prefix === 'x'
      ? 'hexadecimal literal'
      : prefix === 'o' || prefix === '0'
        ? 'octal literal'
        : prefix === 'b'
          ? 'binary literal'
          : 'decimal literal';
  if (input[i] !== '.') {
    if (input[i] === '0') {
      i++;
      const p = input[i]?.toLowerCase();
      if (p === 'x' || p === 'o' || p === 'b') {
        i++;
        prefix = p;
        base = p === 'x' ? 16 : p === 'o' ? 8 : 2;
      } else {
        prefix = '0';
        base = 8;
        digsep = 1; // the leading 0
      }
    }
    digits(base);
    if (input[i] === '.') {
      i++;
      float = true;
    }
  } else {
    i++;
    float = true;
  }
  if (float) {
    if (prefix === 'o' || prefix === 'b') err(`invalid radix point in ${litname()}`);
    digits(base);
  }
  if ((digsep & 1) === 0) err(`${litname()} has no digits`);
  const e = input[i]?.toLowerCase();
  if (e === 'e' || e === 'p') {
    if (e === 'e' && prefix !== '' && prefix !== '0') err(`'${input[i]}' exponent requires decimal mantissa`);
    else if (e === 'p' && prefix !== 'x') err(`'${input[i]}' exponent requires hexadecimal mantissa`);
    i++;
    float = true;
    if (input[i] === '+' || input[i] === '-') i++;
    const before = digsep;
    digsep = 0;
    digits(10);
    if ((digsep & 1) === 0) err('exponent has no digits');
    digsep |= before;
  } else if (prefix === 'x' && float) err("hexadecimal mantissa requires a 'p' exponent");
  if (!float && invalid !== '') err(`invalid digit '${invalid}' in ${litname()}`);
  if (digsep & 2 && invalidSeparator(input.slice(start, i))) err("'_' must separate successive digits");
  return error === undefined ? { end: i } : { end: i, error };
}

/** Go's invalidSep: whether a `_` does not sit between two digits (a base prefix counts as one). */
function invalidSeparator(x: string): boolean {
  let x1 = ' ';
  let d = '.';
  let i = 0;
  if (x.length >= 2 && x[0] === '0') {
    x1 = x[1]!.toLowerCase();
    if (x1 === 'x' || x1 === 'o' || x1 === 'b') {
      d = '0';
      i = 2;
    }
  }
  for (; i < x.length; i++) {
    const p = d;
    d = x[i]!;
    if (d === '_') {
      if (p !== '0') return true;
    } else if ((d >= '0' && d <= '9') || (x1 === 'x' && /[0-9a-fA-F]/.test(d))) {
      d = '0';
    } else {
      if (p === '_') return true;
      d = '.';
    }
  }
  return d === '_';
}

const DURATION_RUNE = /[\p{N}.nuµmshdwy]/u;
const BYTES_RUNE = /[\p{N}.BikKMGTP]/u;

/** The runes after `end` that Loki's tryScanDuration / tryScanBytes would take: up to a space or a rune not in `set`. */
function runesOf(input: string, end: number, set: RegExp): string {
  let j = end;
  for (const ch of input.slice(end, end + 64)) {
    if (/\s/u.test(ch) || !set.test(ch)) break;
    j += ch.length;
  }
  return input.slice(end, j);
}

/** A duration continuing `text` (which ends at `end`): its full text and nanoseconds. */
export function tryDuration(
  input: string,
  text: string,
  end: number,
): { text: string; ns: bigint } | undefined {
  const more = runesOf(input, end, DURATION_RUNE);
  if (more === '') return undefined;
  const ns = parseDuration(text + more);
  return ns === undefined ? undefined : { text: text + more, ns };
}

/** A size continuing `text` (which ends at `end`): its full text and bytes (go-humanize). */
export function tryBytes(
  input: string,
  text: string,
  end: number,
): { text: string; bytes: number } | undefined {
  const more = runesOf(input, end, BYTES_RUNE);
  if (more === '') return undefined;
  const b = parseHumanBytes(text + more);
  return b.ok ? { text: text + more, bytes: b.value } : undefined;
}
