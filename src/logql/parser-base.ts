/**
 * @module The token cursor the LogQL parser modules share: look-ahead, Loki-worded syntax errors,
 * and the small terminals (durations, numbers, strings, label lists, regex checks).
 */
import RE2 from 're2';
import { goParseFloat } from '../go/float.js';
import { anchoredRegex } from '../store/matchers.js';
import { LogqlParseError } from './errors.js';
import { errorAt, type Token, tokenize } from './lexer.js';

/**
 * How deep a query may nest: parentheses, aggregations, the right operands of `^`, label filter
 * groups and `,` chains. Loki has no such limit: its goyacc parser is table-driven, not recursive,
 * and Go stacks grow to a gigabyte. Here the parser, the planner, the formatter and the evaluator
 * recurse on the JavaScript stack (about 10,000 frames): 3,000 nested parentheses overflowed it and
 * the query answered 500 "Maximum call stack size exceeded". Real queries nest a handful of levels.
 */
export const MAX_QUERY_DEPTH = 256;
/**
 * How many binary operations (`+`, `or`, ...) and label filter conjunctions (`and`, `or`, `,`) one
 * query may hold: a left-associative chain builds a tree as deep as it is long (12,000 `+` terms
 * overflowed the stack after parsing), and each operand may be a scan of its own.
 */
export const MAX_QUERY_OPERATIONS = 1000;

export class Cursor {
  private i = 0;
  private readonly tokens: Token[];
  private depth = 0;
  private operations = 0;

  constructor(readonly input: string) {
    this.tokens = tokenize(input);
  }

  peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)]!;
  }

  next(): Token {
    const t = this.peek();
    if (this.i < this.tokens.length - 1) this.i++;
    return t;
  }

  /** Runs `parse` one level deeper; a parse error past MAX_QUERY_DEPTH (at `t`). */
  nested<T>(t: Token, parse: () => T): T {
    if (this.depth >= MAX_QUERY_DEPTH) {
      this.fail(
        t,
        `query too complex: it nests deeper than ${MAX_QUERY_DEPTH} levels (parentheses, aggregations, ^ or label filters)`,
      );
    }
    this.depth++;
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  /** Counts a binary operation or label filter conjunction at `t`; a parse error past the limit. */
  operation(t: Token): void {
    if (++this.operations > MAX_QUERY_OPERATIONS) {
      this.fail(
        t,
        `query too complex: more than ${MAX_QUERY_OPERATIONS} binary operations and label filter conjunctions`,
      );
    }
  }

  error(t: Token, detail: string): LogqlParseError {
    return errorAt(this.input, t.pos, detail);
  }

  fail(t: Token, detail: string): never {
    throw this.error(t, detail);
  }

  unexpected(t: Token, expecting?: string): never {
    const what =
      t.type === 'eof' ? 'end of input' : t.type === 'op' ? t.text : `${t.type.toUpperCase()} ${t.text}`;
    this.fail(t, `syntax error: unexpected ${what}${expecting ? `, expecting ${expecting}` : ''}`);
  }

  isOp(op: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.type === 'op' && t.text === op;
  }

  /** Keywords are case-insensitive in Loki: `SUM BY (x)` is `sum by (x)`. */
  isKw(kw: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.type === 'ident' && t.text.toLowerCase() === kw;
  }

  expectOp(op: string): Token {
    const t = this.next();
    if (t.type !== 'op' || t.text !== op) this.unexpected(t, op);
    return t;
  }

  expectKw(kw: string): Token {
    const t = this.next();
    if (t.type !== 'ident' || t.text.toLowerCase() !== kw) this.unexpected(t, kw);
    return t;
  }

  expectString(): Token {
    const t = this.next();
    if (t.type !== 'string') this.unexpected(t, 'STRING');
    return t;
  }

  /** A label name: an identifier without dots (dots are only for JSON paths and parsed names). */
  expectIdent(): Token {
    const t = this.next();
    if (t.type !== 'ident') this.unexpected(t, 'IDENTIFIER');
    return t;
  }

  expectDuration(): bigint {
    const t = this.next();
    if (t.type !== 'duration') this.unexpected(t, 'DURATION');
    return BigInt(t.value);
  }

  /** `[5m]`. */
  expectRange(): bigint {
    this.expectOp('[');
    const d = this.expectDuration();
    this.expectOp(']');
    return d;
  }

  /**
   * `NUMBER`, `+NUMBER` or `-NUMBER`, converted with Go's strconv.ParseFloat as Loki converts it;
   * undefined (nothing consumed) when there is none. When Go refuses the text (`0x1A`, `0o17`),
   * `invalid` decides: the default fails as a literal does in Loki; a label filter passes
   * `(value) => value` to keep Go's 0 as Loki's grammar does.
   */
  maybeNumber(invalid?: (goValue: number, goError: string) => number): number | undefined {
    const sign = this.isOp('-') ? -1 : this.isOp('+') ? 1 : 0;
    const t = this.peek(sign ? 1 : 0);
    if (t.type !== 'number') return undefined;
    if (sign) this.next();
    this.next();
    const r = goParseFloat(t.text);
    let v = r.value;
    if (!r.ok) {
      v = invalid
        ? invalid(r.value, r.error)
        : this.failUnpositioned(`unable to parse literal as a float: ${r.error}`);
    }
    return sign === -1 ? -v : v;
  }

  /** A parse error Loki reports without a position (`parse error : ...`, from its AST checks). */
  failUnpositioned(detail: string): never {
    throw new LogqlParseError(detail, 0, 0);
  }

  /** `(a, b)` after by/without/on/ignoring/group_left; empty lists are allowed. */
  labelList(): string[] {
    this.expectOp('(');
    const labels: string[] = [];
    while (!this.isOp(')')) {
      labels.push(this.expectIdent().text);
      if (!this.isOp(')')) this.expectOp(',');
    }
    this.next();
    return labels;
  }

  /** Checks a regular expression in the form it will run: anchored for matchers, as Loki runs them. */
  checkRegex(t: Token, anchored: boolean, prefix = 'error parsing regexp: '): RE2 {
    try {
      return anchored ? anchoredRegex(t.value) : new RE2(t.value);
    } catch (err) {
      this.fail(t, `${prefix}${(err as Error).message}`);
    }
  }
}

/** Prometheus label names: what `label_replace` and parsers may create. */
export const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
