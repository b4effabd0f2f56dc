/**
 * @module The LogQL parser: recursive descent over the lexer's tokens, with Loki's error wording.
 * Covers the language of Loki's `syntax.y`: log queries (parser-log.ts), range and vector
 * aggregations, binary operators with Prometheus precedence (`^` right-associative), `bool`,
 * `on`/`ignoring`, `group_left`/`group_right`, literals, `vector()` and `label_replace()`. Loki's
 * parse-time validations are applied with its messages, at the position of the offending token.
 * `variants(...)`, `approx_topk` and `or ip(...)` alternatives in line filters are not represented
 * and raise LogqlUnsupportedError. Literal-only operations are kept as written (Loki folds them).
 */

import { goParseFloat } from '../go/float.js';
import {
  BINARY_PRECEDENCE,
  type BinaryOperator,
  type Expr,
  type Grouping,
  type LabelReplace,
  LOG_RANGE_FUNCTIONS,
  type LogExpr,
  type MetricExpr,
  RANGE_FUNCTIONS,
  type RangeAggregation,
  type RangeFunction,
  UNWRAP_RANGE_FUNCTIONS,
  type Unwrap,
  VECTOR_OPERATORS,
  type VectorAggregation,
  type VectorMatching,
  type VectorOperator,
} from './ast.js';
import { LogqlUnsupportedError } from './errors.js';
import type { Token } from './lexer.js';
import { Cursor } from './parser-base.js';
import { maybeUnwrap, parseLogExpr, parsePipeline, parseSelector } from './parser-log.js';

const SET_OPERATORS: readonly string[] = ['or', 'and', 'unless'];

/**
 * Range functions that group (`... by (x)`), as Loki 3's RangeAggregationExpr.validate allows (older
 * Loki also let rate and rate_counter group).
 */
const GROUPING_RANGE: readonly string[] = [
  'avg_over_time',
  'stddev_over_time',
  'stdvar_over_time',
  'quantile_over_time',
  'max_over_time',
  'min_over_time',
  'first_over_time',
  'last_over_time',
];
const UNWRAP_ALLOWED: readonly string[] = UNWRAP_RANGE_FUNCTIONS;
const NO_UNWRAP_ALLOWED: readonly string[] = LOG_RANGE_FUNCTIONS;

type Parsed = { expr: Expr; at: Token };

class Parser {
  private readonly c: Cursor;

  constructor(input: string) {
    this.c = new Cursor(input);
  }

  parseQuery(): Expr {
    const c: Cursor = this.c;
    if (c.peek().type === 'eof') c.fail(c.peek(), 'syntax error: unexpected end of input');
    const { expr } = this.parseExpr(0);
    const end = c.peek();
    if (end.type !== 'eof') c.unexpected(end, 'end of input');
    return expr;
  }

  /** Precedence climbing over binary operators; operands of minPrec and above. */
  private parseExpr(minPrec: number): Parsed {
    return this.c.nested(this.c.peek(), () => this.parseOperations(minPrec));
  }

  private parseOperations(minPrec: number): Parsed {
    const c: Cursor = this.c;
    let left = this.parsePrimary();
    for (;;) {
      const t = c.peek();
      const op = t.type === 'op' ? t.text : t.type === 'ident' ? t.text.toLowerCase() : '';
      const prec = BINARY_PRECEDENCE[op as BinaryOperator];
      if (prec === undefined || prec < minPrec || (t.type === 'ident' && !SET_OPERATORS.includes(op))) break;
      c.operation(c.next());
      const { returnBool, matching } = this.parseModifiers();
      const right = this.parseExpr(op === '^' ? prec : prec + 1);
      left = { expr: this.binary(t, op as BinaryOperator, returnBool, matching, left, right), at: left.at };
    }
    return left;
  }

  private parseModifiers(): { returnBool: boolean; matching?: VectorMatching } {
    const c: Cursor = this.c;
    // Loki's grammar takes `bool` and group_left/right after any operator and validates neither
    // (PromQL does); they only matter for comparisons and non-set operators when evaluated.
    const returnBool = c.isKw('bool');
    if (returnBool) c.next();
    if (!c.isKw('on') && !c.isKw('ignoring')) return { returnBool };
    const on = c.next().text.toLowerCase() === 'on';
    const labels = c.labelList();
    let group: VectorMatching['group'];
    if (c.isKw('group_left') || c.isKw('group_right')) {
      const g = c.next();
      const include = c.isOp('(') ? c.labelList() : [];
      group = { side: g.text.toLowerCase() === 'group_left' ? 'left' : 'right', include };
    }
    return { returnBool, matching: group ? { on, labels, group } : { on, labels } };
  }

  private binary(
    opTok: Token,
    op: BinaryOperator,
    returnBool: boolean,
    matching: VectorMatching | undefined,
    left: Parsed,
    right: Parsed,
  ): MetricExpr {
    const c: Cursor = this.c;
    const l = this.metric(
      left,
      `unexpected type for left leg of binary operation (${op}): ${goType(left.expr)}`,
    );
    const r = this.metric(
      right,
      `unexpected type for right leg of binary operation (${op}): ${goType(right.expr)}`,
    );
    // Loki folds literal-only operations (`1 > 2` is 0); the tree keeps them as written.
    for (const [leg, e] of [
      ['left', l],
      ['right', r],
    ] as const) {
      if (SET_OPERATORS.includes(op) && e.type === 'number') {
        c.fail(
          opTok,
          `unexpected literal for ${leg} leg of logical/set binary operation (${op}): ${e.value.toFixed(6)}`,
        );
      }
    }
    const out: { -readonly [K in keyof import('./ast.js').BinaryExpr]: import('./ast.js').BinaryExpr[K] } = {
      type: 'binary',
      op,
      returnBool,
      left: l,
      right: r,
    };
    if (matching) out.matching = matching;
    return out;
  }

  private metric(p: Parsed, detail: string): MetricExpr {
    if (p.expr.type === 'log') this.c.fail(p.at, detail);
    return p.expr;
  }

  private parsePrimary(): Parsed {
    const c: Cursor = this.c;
    const t = c.peek();
    if (c.isOp('{')) return { expr: parseLogExpr(c), at: t };
    if (c.isOp('(')) {
      c.next();
      const inner = this.parseExpr(0);
      c.expectOp(')');
      return { expr: inner.expr, at: t };
    }
    const n = c.maybeNumber();
    if (n !== undefined) return { expr: { type: 'number', value: n }, at: t };
    if (t.type !== 'ident') c.unexpected(t);
    const kw = t.text.toLowerCase();
    if ((RANGE_FUNCTIONS as readonly string[]).includes(kw))
      return { expr: this.parseRangeAggregation(), at: t };
    if ((VECTOR_OPERATORS as readonly string[]).includes(kw))
      return { expr: this.parseVectorAggregation(), at: t };
    if (kw === 'vector' && c.isOp('(', 1)) {
      c.next();
      c.next();
      // Loki's grammar takes a bare NUMBER here (no sign).
      if (c.peek().type !== 'number') c.unexpected(c.peek(), 'NUMBER');
      const v = c.maybeNumber((_, e) => c.failUnpositioned(`unable to parse vectorExpr as a float: ${e}`))!;
      c.expectOp(')');
      return { expr: { type: 'vectorLiteral', value: v }, at: t };
    }
    if (kw === 'label_replace') return { expr: this.parseLabelReplace(), at: t };
    if (kw === 'variants' || kw === 'approx_topk') {
      throw new LogqlUnsupportedError(`${kw} is not supported`);
    }
    c.unexpected(t);
  }

  private parseRangeAggregation(): RangeAggregation {
    const c: Cursor = this.c;
    const fnTok = c.next();
    const fn = fnTok.text.toLowerCase() as RangeFunction;
    c.expectOp('(');
    let param: number | undefined;
    if (c.peek().type === 'number' && c.isOp(',', 1)) {
      const p = c.next();
      c.next();
      if (fn !== 'quantile_over_time') c.fail(p, `parameter ${p.text} not supported for operation ${fn}`);
      const q = goParseFloat(p.text);
      if (!q.ok) c.failUnpositioned(`invalid parameter for operation ${fn}: ${q.error}`);
      param = q.value;
    } else if (fn === 'quantile_over_time') {
      c.fail(c.peek(), `parameter required for operation ${fn}`);
    }
    const range = this.parseLogRange();
    c.expectOp(')');
    const grouping = c.isKw('by') || c.isKw('without') ? this.parseGrouping() : undefined;
    if (grouping && !GROUPING_RANGE.includes(fn)) c.fail(fnTok, `grouping not allowed for ${fn} aggregation`);
    if (range.unwrap && !UNWRAP_ALLOWED.includes(fn)) c.fail(fnTok, `invalid aggregation ${fn} with unwrap`);
    if (!range.unwrap && !NO_UNWRAP_ALLOWED.includes(fn))
      c.fail(fnTok, `invalid aggregation ${fn} without unwrap`);
    const out: { -readonly [K in keyof RangeAggregation]: RangeAggregation[K] } = {
      type: 'range',
      fn,
      log: range.log,
      range: range.range,
      offset: range.offset,
    };
    if (range.unwrap) out.unwrap = range.unwrap;
    if (param !== undefined) out.param = param;
    if (grouping) out.grouping = grouping;
    return out;
  }

  /** The many orders Loki's `logRangeExpr` allows, parenthesised or not. */
  private parseLogRange(): { log: LogExpr; range: bigint; offset: bigint; unwrap?: Unwrap } {
    const c: Cursor = this.c;
    if (c.isOp('(')) {
      c.next();
      if (!c.isOp('{')) {
        const inner = c.nested(c.peek(), () => this.parseLogRange());
        c.expectOp(')');
        return inner;
      }
      const matchers = parseSelector(c);
      const pipeline = parsePipeline(c);
      const unwrap = maybeUnwrap(c);
      if (c.isOp(')') && c.isOp('[', 1)) {
        c.next();
        const range = c.expectRange();
        const offset = this.maybeOffset();
        return withUnwrap({ log: { type: 'log', matchers, pipeline }, range, offset }, unwrap);
      }
      const inner = this.finishLogRange(matchers, pipeline, unwrap);
      c.expectOp(')');
      return inner;
    }
    const matchers = parseSelector(c);
    const pipeline = parsePipeline(c);
    return this.finishLogRange(matchers, pipeline, maybeUnwrap(c));
  }

  private finishLogRange(
    matchers: LogExpr['matchers'],
    before: LogExpr['pipeline'],
    unwrapBefore: Unwrap | undefined,
  ): { log: LogExpr; range: bigint; offset: bigint; unwrap?: Unwrap } {
    const c: Cursor = this.c;
    const range = c.expectRange();
    const offset = this.maybeOffset();
    let pipeline = before;
    let unwrap = unwrapBefore;
    if (before.length === 0 && !unwrapBefore) {
      pipeline = parsePipeline(c);
      unwrap = maybeUnwrap(c);
    }
    return withUnwrap({ log: { type: 'log', matchers, pipeline }, range, offset }, unwrap);
  }

  private maybeOffset(): bigint {
    if (!this.c.isKw('offset')) return 0n;
    this.c.next();
    // A negative offset (`-1h`) is one DURATION token, as in Loki's lexer.
    return this.c.expectDuration();
  }

  private parseGrouping(): Grouping {
    const t = this.c.next();
    return { without: t.text.toLowerCase() === 'without', labels: this.c.labelList() };
  }

  private parseVectorAggregation(): VectorAggregation {
    const c: Cursor = this.c;
    const opTok = c.next();
    const op = opTok.text.toLowerCase() as VectorOperator;
    let grouping = c.isKw('by') || c.isKw('without') ? this.parseGrouping() : undefined;
    c.expectOp('(');
    let param: number | undefined;
    if (c.peek().type === 'number' && c.isOp(',', 1)) {
      const p = c.next();
      c.next();
      if (op !== 'topk' && op !== 'bottomk')
        c.fail(p, `unsupported parameter for operation ${op}(${p.text},`);
      if (!/^[0-9]+$/.test(p.text)) c.fail(p, `invalid parameter ${op}(${p.text},`);
      param = Number(p.text);
      if (param <= 0) c.fail(p, `invalid parameter (must be greater than 0) ${op}(${p.text}`);
    } else if (op === 'topk' || op === 'bottomk') {
      c.fail(c.peek(), `parameter required for operation ${op}`);
    }
    const inner = this.parseExpr(0);
    const expr = this.metric(inner, 'syntax error: unexpected log query, expecting a metric expression');
    c.expectOp(')');
    if (!grouping && (c.isKw('by') || c.isKw('without'))) grouping = this.parseGrouping();
    const out: { -readonly [K in keyof VectorAggregation]: VectorAggregation[K] } = {
      type: 'vector',
      op,
      grouping,
      expr,
    };
    if (param !== undefined) out.param = param;
    return out;
  }

  private parseLabelReplace(): LabelReplace {
    const c: Cursor = this.c;
    c.next();
    c.expectOp('(');
    const expr = this.metric(
      this.parseExpr(0),
      'syntax error: unexpected log query, expecting a metric expression',
    );
    const strings: Token[] = [];
    for (let k = 0; k < 4; k++) {
      c.expectOp(',');
      strings.push(c.expectString());
    }
    c.expectOp(')');
    const [dst, replacement, src, regex] = strings as [Token, Token, Token, Token];
    c.checkRegex(regex, true, 'invalid regex in label_replace: error parsing regexp: ');
    return {
      type: 'labelReplace',
      expr,
      dst: dst.value,
      replacement: replacement.value,
      src: src.value,
      regex: regex.value,
    };
  }
}

/** The Go type Loki names when a log query stands where a metric is needed. */
function goType(e: Expr): string {
  return e.type === 'log' && e.pipeline.length === 0 ? '*syntax.MatchersExpr' : '*syntax.PipelineExpr';
}

function withUnwrap<T extends object>(r: T, unwrap: Unwrap | undefined): T & { unwrap?: Unwrap } {
  return unwrap ? { ...r, unwrap } : r;
}

export function parseLogql(input: string): Expr {
  return new Parser(input).parseQuery();
}
