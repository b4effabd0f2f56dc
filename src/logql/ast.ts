/**
 * @module The LogQL syntax tree, covering the language as Loki's documentation defines it. Nodes are
 * immutable and tagged by `type`. The parser builds it, the planner splits it between the store
 * (stream matchers, leading line filters, time range, order, limit, counts per step) and the
 * TypeScript evaluators (every other pipeline stage, range functions over unwrapped values,
 * aggregations and binary operators).
 */
import type { LabelMatcher, LineFilterOp, MatchOp } from '../store/store.js';

/** A selector's stream matcher (the store evaluates it, with Loki's semantics). */
export type { LabelMatcher };

// ---------------------------------------------------------------------------------------------
// Log pipeline stages

/** `|=` `!=` `|~` `!~` on a string, `|>` `!>` on a pattern, or `|= ip("...")`. */
export interface LineFilterStage {
  readonly type: 'lineFilter';
  readonly op: LineFilterOp | '|>' | '!>';
  readonly value: string;
  /** `|= "a" or "b"`: alternatives, OR-ed for positive filters, all absent for negative ones. */
  readonly or: readonly string[];
  /** `|= ip("192.168.0.0/16")`: `value` is an IP, range or CIDR matched against IPs in the line. */
  readonly ip?: boolean;
  /** `|= "a" or ip("10.0.0.0/8")`: which `or` alternatives are ip() (absent: none). */
  readonly orIp?: readonly boolean[];
}

/** Whether a line filter has an ip() anywhere in its `or` chain. */
export function lineFilterHasIp(s: LineFilterStage): boolean {
  return s.ip === true || (s.orIp?.includes(true) ?? false);
}

export interface DecolorizeStage {
  readonly type: 'decolorize';
}

/** `| json` or `| json label="path.to[0].field", other`: a label and the JSON path it takes. */
export interface JsonParserStage {
  readonly type: 'json';
  readonly params: readonly { readonly label: string; readonly path: string }[];
}

export interface LogfmtParserStage {
  readonly type: 'logfmt';
  readonly strict: boolean;
  readonly keepEmpty: boolean;
  /** `| logfmt label="key", other`. */
  readonly params: readonly { readonly label: string; readonly key: string }[];
}

export interface RegexpParserStage {
  readonly type: 'regexp';
  readonly regex: string;
}

export interface PatternParserStage {
  readonly type: 'pattern';
  readonly pattern: string;
}

export interface UnpackParserStage {
  readonly type: 'unpack';
}

export type CompareOp = '==' | '!=' | '>' | '>=' | '<' | '<=';

/** A label filter expression: `status >= 400 and (method="GET" or duration > 1s), path!~"/health"`. */
export type LabelFilter =
  | { readonly kind: 'and' | 'or'; readonly left: LabelFilter; readonly right: LabelFilter }
  | { readonly kind: 'string'; readonly name: string; readonly op: MatchOp; readonly value: string }
  | { readonly kind: 'number'; readonly name: string; readonly op: CompareOp; readonly value: number }
  /** Nanoseconds. */
  | { readonly kind: 'duration'; readonly name: string; readonly op: CompareOp; readonly value: number }
  /** Bytes. */
  | { readonly kind: 'bytes'; readonly name: string; readonly op: CompareOp; readonly value: number }
  | { readonly kind: 'ip'; readonly name: string; readonly op: '=' | '!='; readonly value: string };

export interface LabelFilterStage {
  readonly type: 'labelFilter';
  readonly filter: LabelFilter;
}

/** `| line_format "{{.level}} {{.msg}}"`: a Go text/template with Loki's functions. */
export interface LineFormatStage {
  readonly type: 'lineFormat';
  readonly template: string;
}

/** `| label_format new=old, msg="{{.level}}"`: renames (`rename`) and templates (`template`). */
export interface LabelFormatStage {
  readonly type: 'labelFormat';
  readonly ops: readonly {
    readonly label: string;
    readonly kind: 'rename' | 'template';
    readonly value: string;
  }[];
}

/** A name, optionally with a matcher: `drop level, method="GET"` drops `method` only when it is GET. */
export interface LabelSelector {
  readonly name: string;
  readonly matcher?: { readonly op: MatchOp; readonly value: string };
}

export interface DropStage {
  readonly type: 'drop';
  readonly labels: readonly LabelSelector[];
}

export interface KeepStage {
  readonly type: 'keep';
  readonly labels: readonly LabelSelector[];
}

export type PipelineStage =
  | LineFilterStage
  | DecolorizeStage
  | JsonParserStage
  | LogfmtParserStage
  | RegexpParserStage
  | PatternParserStage
  | UnpackParserStage
  | LabelFilterStage
  | LineFormatStage
  | LabelFormatStage
  | DropStage
  | KeepStage;

export interface LogExpr {
  readonly type: 'log';
  readonly matchers: readonly LabelMatcher[];
  readonly pipeline: readonly PipelineStage[];
}

// ---------------------------------------------------------------------------------------------
// Metric expressions

/** Range functions over log lines. */
export const LOG_RANGE_FUNCTIONS = [
  'count_over_time',
  'rate',
  'bytes_over_time',
  'bytes_rate',
  'absent_over_time',
] as const;

/** Range functions over unwrapped label values. */
export const UNWRAP_RANGE_FUNCTIONS = [
  'rate',
  'rate_counter',
  'sum_over_time',
  'avg_over_time',
  'min_over_time',
  'max_over_time',
  'stdvar_over_time',
  'stddev_over_time',
  'quantile_over_time',
  'first_over_time',
  'last_over_time',
  'absent_over_time',
] as const;

export const RANGE_FUNCTIONS = [
  'count_over_time',
  'rate',
  'bytes_over_time',
  'bytes_rate',
  'absent_over_time',
  'rate_counter',
  'sum_over_time',
  'avg_over_time',
  'min_over_time',
  'max_over_time',
  'stdvar_over_time',
  'stddev_over_time',
  'quantile_over_time',
  'first_over_time',
  'last_over_time',
] as const;
export type RangeFunction = (typeof RANGE_FUNCTIONS)[number];

/** `| unwrap latency`, `| unwrap duration(took)`, `| unwrap bytes(size)`, then optional post-filters. */
export interface Unwrap {
  readonly label: string;
  readonly conversion: 'none' | 'bytes' | 'duration' | 'duration_seconds';
  /** Label filters after the unwrap, typically `| __error__=""`. */
  readonly postFilters: readonly LabelFilter[];
}

export interface Grouping {
  readonly without: boolean;
  readonly labels: readonly string[];
}

export interface RangeAggregation {
  readonly type: 'range';
  readonly fn: RangeFunction;
  readonly log: LogExpr;
  /** Range in nanoseconds. */
  readonly range: bigint;
  /** Offset in nanoseconds (0 when absent). */
  readonly offset: bigint;
  readonly unwrap?: Unwrap;
  /** The φ of quantile_over_time. */
  readonly param?: number;
  /** `quantile_over_time(0.99, ...) by (x)`: range aggregations over unwrapped values may group. */
  readonly grouping?: Grouping;
}

export const VECTOR_OPERATORS = [
  'sum',
  'avg',
  'min',
  'max',
  'count',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'sort',
  'sort_desc',
] as const;
export type VectorOperator = (typeof VECTOR_OPERATORS)[number];

export interface VectorAggregation {
  readonly type: 'vector';
  readonly op: VectorOperator;
  readonly grouping: Grouping | undefined;
  /** k of topk/bottomk. */
  readonly param?: number;
  readonly expr: MetricExpr;
}

export const BINARY_OPERATORS = [
  'or',
  'and',
  'unless',
  '==',
  '!=',
  '>',
  '>=',
  '<',
  '<=',
  '+',
  '-',
  '*',
  '/',
  '%',
  '^',
] as const;
export type BinaryOperator = (typeof BINARY_OPERATORS)[number];

/** Binary operators by precedence, lowest first (Loki's `%left` lines in expr.y); `^` is right-associative. */
export const BINARY_PRECEDENCE: Readonly<Record<BinaryOperator, number>> = {
  or: 1,
  and: 2,
  unless: 2,
  '==': 3,
  '!=': 3,
  '>': 3,
  '>=': 3,
  '<': 3,
  '<=': 3,
  '+': 4,
  '-': 4,
  '*': 5,
  '/': 5,
  '%': 5,
  '^': 6,
};

/** `on (a) group_left (b)`, `ignoring (c)`. */
export interface VectorMatching {
  readonly on: boolean;
  readonly labels: readonly string[];
  readonly group?: { readonly side: 'left' | 'right'; readonly include: readonly string[] };
}

export interface BinaryExpr {
  readonly type: 'binary';
  readonly op: BinaryOperator;
  /** `bool` after a comparison: return 0/1 instead of filtering. */
  readonly returnBool: boolean;
  readonly matching?: VectorMatching;
  readonly left: MetricExpr;
  readonly right: MetricExpr;
}

/** A number, possibly negative: `2`, `-1.5`, `0x1f`. */
export interface NumberLiteral {
  readonly type: 'number';
  readonly value: number;
}

/** `vector(1)`. */
export interface VectorLiteral {
  readonly type: 'vectorLiteral';
  readonly value: number;
}

/** `label_replace(expr, "dst", "$1", "src", "(.*)")`. */
export interface LabelReplace {
  readonly type: 'labelReplace';
  readonly expr: MetricExpr;
  readonly dst: string;
  readonly replacement: string;
  readonly src: string;
  readonly regex: string;
}

export type MetricExpr =
  | RangeAggregation
  | VectorAggregation
  | BinaryExpr
  | NumberLiteral
  | VectorLiteral
  | LabelReplace;
export type Expr = LogExpr | MetricExpr;

export function isLogExpr(e: Expr): e is LogExpr {
  return e.type === 'log';
}
