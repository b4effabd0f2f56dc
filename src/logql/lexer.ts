/**
 * @module The LogQL lexer. Strings are Go strings: double-quoted with escapes, or back-quoted raw.
 * `#` starts a comment that runs to the end of the line. As in Loki's lexer, a number directly
 * followed by a unit is a duration (`5m`, `1h30m`) or else a size (`20MB`, `1KiB`, go-humanize
 * units), and `--strict` / `--keep-empty` are parser flags. Keywords are plain identifiers here;
 * the parser compares them case-insensitively, as Loki does.
 */
import { unquoteGo } from '../util/go-string.js';
import { LogqlParseError } from './errors.js';

export type TokenType = 'ident' | 'string' | 'number' | 'duration' | 'bytes' | 'flag' | 'op' | 'eof';

export interface Token {
  readonly type: TokenType;
  readonly text: string;
  /** For strings: the unquoted value; for bytes: the number of bytes, in decimal. */
  readonly value: string;
  readonly pos: number;
}

// Longest first, so that `|=` wins over `|` and `!~` over `!`.
const OPERATORS = [
  '|=',
  '|~',
  '|>',
  '!=',
  '!~',
  '!>',
  '=~',
  '==',
  '>=',
  '<=',
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  ',',
  '|',
  '=',
  '>',
  '<',
  '+',
  '-',
  '*',
  '/',
  '%',
  '^',
];

const DURATION = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d|w|y))+/;
const NUMBER = /^(?:0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_:.]*/;
/** What Loki's lexer reads as a size after a number: digits, `.` and `B i k K M G T P`. */
const BYTES_SUFFIX = /^[0-9.BikKMGTP]+/;
/** go-humanize's ParseBytes units, lower-cased (Loki's lexer never passes E, Z or Y). */
const BYTE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  ki: 1024,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1e12,
  tb: 1e12,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
  p: 1e15,
  pb: 1e15,
  pi: 1024 ** 5,
  pib: 1024 ** 5,
};

/** go-humanize's ParseBytes: `20MB`, `1.5KiB`, `3K`; undefined when it is not a size. */
export function parseBytes(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([A-Za-z]*)$/.exec(text);
  if (!m) return undefined;
  const unit = BYTE_UNITS[m[2]!.toLowerCase()];
  return unit === undefined ? undefined : Math.floor(Number(m[1]) * unit);
}

const FLAGS: readonly string[] = ['--strict', '--keep-empty'];

export function position(input: string, pos: number): { line: number; col: number } {
  let line = 1;
  let col = 1;
  for (let i = 0; i < pos && i < input.length; i++) {
    if (input[i] === '\n') {
      line++;
      col = 1;
    } else {
      col++;
    }
  }
  return { line, col };
}

export function errorAt(input: string, pos: number, detail: string): LogqlParseError {
  const { line, col } = position(input, pos);
  return new LogqlParseError(detail, line, col);
}

/** Escapes Go accepts in a double-quoted string besides \x, \u, \U and octal. */
const SIMPLE_ESCAPES = new Set(['a', 'b', 'f', 'n', 'r', 't', 'v', '\\', '"']);

/**
 * Scans a double-quoted Go string starting at `start`, checking every escape as Go's
 * strconv.Unquote does (Loki's lexer uses it); the value comes from unquoteGo, so `\x` and octal
 * escapes are bytes, as in Go.
 */
function readQuoted(input: string, start: number): { value: string; end: number } {
  let i = start + 1;
  while (i < input.length) {
    const c = input[i]!;
    if (c === '"') return { value: unquoteGo(input.slice(start, i + 1)), end: i + 1 };
    if (c === '\n') break;
    if (c !== '\\') {
      i++;
      continue;
    }
    const e = input[i + 1];
    if (e === undefined) break;
    if (SIMPLE_ESCAPES.has(e)) {
      i += 2;
      continue;
    }
    const hex = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (hex) {
      const digits = input.slice(i + 2, i + 2 + hex);
      const cp = /^[0-9a-fA-F]+$/.test(digits) && digits.length === hex ? Number.parseInt(digits, 16) : -1;
      if (cp < 0 || (hex > 2 && (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)))) {
        throw errorAt(input, i, 'invalid syntax: bad escape sequence');
      }
      i += 2 + hex;
      continue;
    }
    if (/[0-7]/.test(e)) {
      const digits = input.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(digits) || Number.parseInt(digits, 8) > 255) {
        throw errorAt(input, i, 'invalid syntax: bad octal escape');
      }
      i += 4;
      continue;
    }
    throw errorAt(input, i, `invalid syntax: unknown escape sequence \\${e}`);
  }
  throw errorAt(input, start, 'literal not terminated');
}

export function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < input.length && input[i] !== '\n') i++;
      continue;
    }
    if (c === '"') {
      const { value, end } = readQuoted(input, i);
      tokens.push({ type: 'string', text: input.slice(i, end), value, pos: i });
      i = end;
      continue;
    }
    if (c === '`') {
      const end = input.indexOf('`', i + 1);
      if (end < 0) throw errorAt(input, i, 'literal not terminated');
      tokens.push({ type: 'string', text: input.slice(i, end + 1), value: input.slice(i + 1, end), pos: i });
      i = end + 1;
      continue;
    }
    const rest = input.slice(i, i + 64);
    const dur = DURATION.exec(rest);
    if (dur && !IDENT.test(input.slice(i + dur[0].length, i + dur[0].length + 1))) {
      tokens.push({ type: 'duration', text: dur[0], value: dur[0], pos: i });
      i += dur[0].length;
      continue;
    }
    const num = NUMBER.exec(rest);
    if (num) {
      const suffix = BYTES_SUFFIX.exec(input.slice(i + num[0].length, i + num[0].length + 32));
      const size = suffix ? parseBytes(num[0] + suffix[0]) : undefined;
      if (suffix && size !== undefined) {
        const text = num[0] + suffix[0];
        tokens.push({ type: 'bytes', text, value: String(size), pos: i });
        i += text.length;
        continue;
      }
      tokens.push({ type: 'number', text: num[0], value: num[0], pos: i });
      i += num[0].length;
      continue;
    }
    const id = IDENT.exec(input.slice(i, i + 1024));
    if (id) {
      tokens.push({ type: 'ident', text: id[0], value: id[0], pos: i });
      i += id[0].length;
      continue;
    }
    const flag =
      c === '-'
        ? FLAGS.find((f) => input.startsWith(f, i) && !/[A-Za-z-]/.test(input[i + f.length] ?? ''))
        : undefined;
    if (flag) {
      tokens.push({ type: 'flag', text: flag, value: flag, pos: i });
      i += flag.length;
      continue;
    }
    const op = OPERATORS.find((o) => input.startsWith(o, i));
    if (op) {
      tokens.push({ type: 'op', text: op, value: op, pos: i });
      i += op.length;
      continue;
    }
    throw errorAt(input, i, `syntax error: unexpected character ${JSON.stringify(c)}`);
  }
  tokens.push({ type: 'eof', text: '', value: '', pos: input.length });
  return tokens;
}
