/**
 * @module The LogQL lexer. Strings are Go strings: double-quoted with escapes, or back-quoted raw.
 * `#` starts a comment that runs to the end of the line. Numbers, durations, sizes and ranges are
 * read as Loki's lexer reads them (lexer-numbers.ts), and `--strict` / `--keep-empty` are parser
 * flags. Keywords are plain identifiers here;
 * the parser compares them case-insensitively, as Loki does.
 */
import { parsePromDuration } from '../go/duration.js';
import { unquoteGo } from '../go/quote.js';
import { LogqlParseError } from './errors.js';
import { scanGoNumber, tryBytes, tryDuration } from './lexer-numbers.js';

export type TokenType = 'ident' | 'string' | 'number' | 'duration' | 'bytes' | 'flag' | 'op' | 'eof';

export interface Token {
  readonly type: TokenType;
  readonly text: string;
  /** For strings: the unquoted value; for bytes: the number of bytes; for durations: nanoseconds (decimal). */
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

const IDENT = /^[A-Za-z_][A-Za-z0-9_:.]*/;

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

/** A number, or the DURATION or BYTES it starts (lexer-numbers.ts); returns the position after it. */
function scanNumberToken(input: string, i: number, tokens: Token[]): number {
  const { end, error } = scanGoNumber(input, i);
  if (error !== undefined) throw errorAt(input, i, error);
  const text = input.slice(i, end);
  const d = tryDuration(input, text, end);
  if (d) {
    tokens.push({ type: 'duration', text: d.text, value: String(d.ns), pos: i });
    return i + d.text.length;
  }
  const b = tryBytes(input, text, end);
  if (b) {
    tokens.push({ type: 'bytes', text: b.text, value: String(b.bytes), pos: i });
    return i + b.text.length;
  }
  tokens.push({ type: 'number', text, value: text, pos: i });
  return end;
}

/**
 * `[range]`: as Loki's lexer, the raw text up to `]`, read by Prometheus' ParseDuration alone
 * (no fractions, no spaces, units in order); the tokens `[`, a DURATION and `]`.
 */
function scanRange(input: string, i: number, tokens: Token[]): number {
  const close = input.indexOf(']', i + 1);
  if (close < 0) throw errorAt(input, i, "missing closing ']' in duration");
  const raw = input.slice(i + 1, close);
  const d = parsePromDuration(raw);
  if (!d.ok) throw errorAt(input, i, d.error);
  tokens.push({ type: 'op', text: '[', value: '[', pos: i });
  tokens.push({ type: 'duration', text: raw, value: String(d.value), pos: i + 1 });
  tokens.push({ type: 'op', text: ']', value: ']', pos: close });
  return close + 1;
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
    if ((c >= '0' && c <= '9') || (c === '.' && /[0-9]/.test(input[i + 1] ?? ''))) {
      i = scanNumberToken(input, i, tokens);
      continue;
    }
    if (c === '[') {
      i = scanRange(input, i, tokens);
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
    if (c === '-') {
      // Loki's lexer reads `-` and a duration as one negative DURATION (`offset -5m`).
      const d = tryDuration(input, '-', i + 1);
      if (d) {
        tokens.push({ type: 'duration', text: d.text, value: String(d.ns), pos: i });
        i += d.text.length;
        continue;
      }
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
