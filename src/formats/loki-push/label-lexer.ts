/**
 * @module The lexer for Loki stream label strings: Prometheus's promql/parser/lex.go reduced to what
 * a metric (`name{label="value", ...}`) can hold, with its error texts, plus the unquoting of its
 * string tokens (Prometheus's strutil.Unquote) and the way its parser names tokens in messages.
 */
import { Buffer } from 'node:buffer';
import { goQuote, goQuoteRune, goQuoteTruncated, goUnicode, unquoteGo } from '../../go/quote.js';

/** The value of a STRING token the lexer accepted. */
export const unquote = unquoteGo;

// Token types, after Prometheus's lexer.
export const EOF = 0;
export const ERROR = 1;
export const IDENTIFIER = 2;
export const METRIC_IDENTIFIER = 3;
export const STRING = 4;
const NUMBER = 5;
export const LEFT_BRACE = 6;
export const RIGHT_BRACE = 7;
export const COMMA = 8;
export const EQL = 9;
const EQL_REGEX = 10;
const NEQ = 11;
const NEQ_REGEX = 12;
const OTHER = 13;

export interface Token {
  typ: number;
  /** Index (UTF-16) where the token, or for ERROR the item being scanned, starts. */
  pos: number;
  /** Source text of the token; for ERROR, the message. */
  val: string;
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isAlpha = (c: number): boolean => c === 0x5f || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

function digitVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return 16;
}

/** Prometheus's lexer, reduced to what a metric (`name{label="value", ...}`) can contain. */
export class Lexer {
  pos = 0;
  braceOpen = false;

  constructor(readonly input: string) {}

  private cp(at: number): number {
    return at < this.input.length ? (this.input.codePointAt(at) ?? -1) : -1;
  }

  private width(cp: number): number {
    return cp > 0xffff ? 2 : 1;
  }

  private error(start: number, message: string): Token {
    return { typ: ERROR, pos: start, val: message };
  }

  next(): Token {
    const s = this.input;
    for (;;) {
      // Spaces and `#` comments separate tokens in both states.
      while (this.pos < s.length && isSpace(s.charCodeAt(this.pos))) this.pos++;
      if (s.charCodeAt(this.pos) === 0x23) {
        while (this.pos < s.length && s.charCodeAt(this.pos) !== 0x0a && s.charCodeAt(this.pos) !== 0x0d) {
          this.pos++;
        }
        continue;
      }
      break;
    }
    const start = this.pos;
    if (start >= s.length) {
      if (this.braceOpen) return this.error(start, 'unexpected end of input inside braces');
      return { typ: EOF, pos: start, val: '' };
    }
    const c = this.cp(start);
    this.pos += this.width(c);
    if (c === 0x22 || c === 0x27) return this.lexString(start, c);
    if (c === 0x60) return this.lexRawString(start);
    if (c === 0x2c) return { typ: COMMA, pos: start, val: ',' };
    return this.braceOpen ? this.insideBraces(start, c) : this.statement(start, c);
  }

  private insideBraces(start: number, c: number): Token {
    const s = this.input;
    if (isAlpha(c)) {
      while (this.pos < s.length) {
        const d = s.charCodeAt(this.pos);
        if (!isAlpha(d) && !isDigit(d)) break;
        this.pos++;
      }
      return { typ: IDENTIFIER, pos: start, val: s.slice(start, this.pos) };
    }
    switch (c) {
      case 0x3d: // =
        if (s.charCodeAt(this.pos) === 0x7e) {
          this.pos++;
          return { typ: EQL_REGEX, pos: start, val: '=~' };
        }
        return { typ: EQL, pos: start, val: '=' };
      case 0x21: {
        // !
        const n = this.cp(this.pos);
        this.pos += n < 0 ? 0 : this.width(n);
        if (n === 0x7e) return { typ: NEQ_REGEX, pos: start, val: '!~' };
        if (n === 0x3d) return { typ: NEQ, pos: start, val: '!=' };
        // Go's %q of the EOF rune (-1) prints the replacement character.
        return this.error(
          start,
          `unexpected character after '!' inside braces: ${goQuoteRune(n < 0 ? 0xfffd : n)}`,
        );
      }
      case 0x7b:
        return this.error(start, "unexpected left brace '{'");
      case 0x7d:
        this.braceOpen = false;
        return { typ: RIGHT_BRACE, pos: start, val: '}' };
    }
    return this.error(start, `unexpected character inside braces: ${goQuoteRune(c)}`);
  }

  private statement(start: number, c: number): Token {
    const s = this.input;
    if (isAlpha(c) || c === 0x3a) {
      // A metric name may hold colons (recording rules); `name{...}` sets __name__.
      let colon = c === 0x3a;
      while (this.pos < s.length) {
        const d = s.charCodeAt(this.pos);
        if (d === 0x3a) colon = true;
        else if (!isAlpha(d) && !isDigit(d)) break;
        this.pos++;
      }
      return { typ: colon ? METRIC_IDENTIFIER : IDENTIFIER, pos: start, val: s.slice(start, this.pos) };
    }
    if (isDigit(c) || (c === 0x2e && isDigit(s.charCodeAt(this.pos)))) {
      while (this.pos < s.length && /[0-9a-zA-Z_.]/.test(s[this.pos]!)) this.pos++;
      return { typ: NUMBER, pos: start, val: s.slice(start, this.pos) };
    }
    switch (c) {
      case 0x7b:
        this.braceOpen = true;
        return { typ: LEFT_BRACE, pos: start, val: '{' };
      case 0x3d:
        if (s.charCodeAt(this.pos) === 0x7e) return this.error(start, "unexpected character after '=': '~'");
        if (s.charCodeAt(this.pos) === 0x3d) {
          this.pos++;
          return { typ: OTHER, pos: start, val: '==' };
        }
        return { typ: EQL, pos: start, val: '=' };
      case 0x28:
      case 0x29:
      case 0x5b:
      case 0x5d:
      case 0x2b:
      case 0x2d:
      case 0x2a:
      case 0x2f:
      case 0x25:
      case 0x5e:
      case 0x40:
      case 0x3c:
      case 0x3e:
        return { typ: OTHER, pos: start, val: String.fromCharCode(c) };
    }
    return this.error(start, `unexpected character: ${goQuoteRune(c)}`);
  }

  private lexString(start: number, quote: number): Token {
    const s = this.input;
    for (;;) {
      const c = this.cp(this.pos);
      if (c < 0 || c === 0x0a) return this.error(start, 'unterminated quoted string');
      this.pos += this.width(c);
      if (c === quote) return { typ: STRING, pos: start, val: s.slice(start, this.pos) };
      // Go decodes a literal U+FFFD as utf8.RuneError, which Prometheus's lexer rejects.
      if (c === 0xfffd) return this.error(start, 'invalid UTF-8 rune');
      if (c === 0x5c) {
        const problem = this.lexEscape(quote);
        if (problem !== undefined) return this.error(start, problem);
      }
    }
  }

  /** Prometheus's lexEscape (itself go/scanner's): checks an escape, returns what is wrong with it. */
  private lexEscape(quote: number): string | undefined {
    let ch = this.cp(this.pos);
    if (ch < 0) return 'escape sequence not terminated';
    this.pos += this.width(ch);
    let n: number;
    let base: number;
    let max: number;
    switch (ch) {
      case 0x61:
      case 0x62:
      case 0x66:
      case 0x6e:
      case 0x72:
      case 0x74:
      case 0x76:
      case 0x5c:
        return undefined;
      case 0x78: // x
        n = 2;
        base = 16;
        max = 255;
        ch = this.read();
        break;
      case 0x75: // u
        n = 4;
        base = 16;
        max = 0x10ffff;
        ch = this.read();
        break;
      case 0x55: // U
        n = 8;
        base = 16;
        max = 0x10ffff;
        ch = this.read();
        break;
      default:
        if (ch === quote) return undefined;
        if (ch >= 0x30 && ch <= 0x37) {
          n = 3;
          base = 8;
          max = 255;
          break;
        }
        return `unknown escape sequence ${goUnicode(ch)}`;
    }
    let x = 0;
    while (n > 0) {
      const d = digitVal(ch);
      if (d >= base) {
        if (ch < 0) return 'escape sequence not terminated';
        return `illegal character ${goUnicode(ch)} in escape sequence`;
      }
      x = x * base + d;
      n--;
      if (n > 0) ch = this.read();
    }
    if (x > max || (x >= 0xd800 && x < 0xe000)) return 'escape sequence is an invalid Unicode code point';
    return undefined;
  }

  private read(): number {
    const c = this.cp(this.pos);
    if (c >= 0) this.pos += this.width(c);
    return c;
  }

  private lexRawString(start: number): Token {
    const s = this.input;
    for (;;) {
      const c = this.cp(this.pos);
      if (c < 0) return this.error(start, 'unterminated raw string');
      this.pos += this.width(c);
      if (c === 0x60) return { typ: STRING, pos: start, val: s.slice(start, this.pos) };
      if (c === 0xfffd) return this.error(start, 'invalid UTF-8 rune');
    }
  }
}

/** How Prometheus's `Item.desc()` names a token in "unexpected ..." messages. */
export function describe(t: Token): string {
  switch (t.typ) {
    case EOF:
      return 'end of input';
    case IDENTIFIER:
      return `identifier ${goQuote(t.val)}`;
    case METRIC_IDENTIFIER:
      return `metric identifier ${goQuote(t.val)}`;
    case STRING:
      return `string ${quoteItem(t.val)}`;
    case NUMBER:
      return `number ${quoteItem(t.val)}`;
    case NEQ:
    case EQL_REGEX:
    case NEQ_REGEX:
      return `<op:${t.val}>`;
    default:
      return goQuote(t.val);
  }
}

/** `Item.String()` for values: `%q`, or `%.10q...` beyond ten bytes. */
function quoteItem(val: string): string {
  return Buffer.byteLength(val) > 10 ? `${goQuoteTruncated(val, 10)}...` : goQuote(val);
}
