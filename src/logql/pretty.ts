/**
 * @module LogQL pretty-printed as Loki's `format_query` prints it (pkg/logql/syntax/prettier.go,
 * itself after PromQL's): an expression whose one-line form (format.ts) fits in 100 characters
 * stays on one line; a longer one is split: a pipeline's stages each on their own line under the
 * selector, an aggregation's arguments on their own lines inside `op(` ... `)`, a binary operation
 * as its two sides around the operator; each level indented by two spaces.
 *
 * The one-line forms are kjournal's (format.ts), which differ from Loki's String() in spacing and
 * parentheses (`sum by (a) (...)` where Loki writes `sum by (a)(...)`): the text differs from
 * Loki's where those do, the layout does not. Loki drops the parentheses of a split binary
 * operation's sides; here a side keeps them where precedence needs them, so the text parses back
 * to the same query.
 */

import type {
  BinaryExpr,
  Expr,
  Grouping,
  LineFilterStage,
  LogExpr,
  MetricExpr,
  PipelineStage,
  Unwrap,
} from './ast.js';
import { BINARY_PRECEDENCE } from './ast.js';
import {
  formatDuration,
  formatLabelFilter,
  formatLogExpr,
  formatMetricExpr,
  formatStage,
  quote,
} from './format.js';

/** Loki's maxCharsPerLine. */
const MAX_CHARS_PER_LINE = 100;

function indent(level: number): string {
  return '  '.repeat(level);
}

export function prettify(e: Expr): string {
  return e.type === 'log' ? prettyLog(e, 0) : prettyMetric(e, 0);
}

/** Consecutive line filters are one stage in Loki's syntax tree, printed on one line if it fits. */
function stageGroups(pipeline: readonly PipelineStage[]): PipelineStage[][] {
  const groups: PipelineStage[][] = [];
  for (const s of pipeline) {
    const last = groups[groups.length - 1];
    if (s.type === 'lineFilter' && last?.[0]?.type === 'lineFilter') last.push(s);
    else groups.push([s]);
  }
  return groups;
}

function prettyLog(e: LogExpr, level: number): string {
  const line = formatLogExpr(e);
  if (line.length <= MAX_CHARS_PER_LINE) return indent(level) + line;
  let out = indent(level) + formatLogExpr({ ...e, pipeline: [] });
  for (const group of stageGroups(e.pipeline)) {
    const text = group.map(formatStage).join(' ');
    const lineFilters = group[0]!.type === 'lineFilter' && text.length > MAX_CHARS_PER_LINE;
    out += `\n${
      lineFilters
        ? (group as LineFilterStage[]).map((f) => indent(level + 1) + formatStage(f)).join('\n')
        : indent(level + 1) + text
    }`;
  }
  return out;
}

function grouping(g: Grouping | undefined): string {
  if (!g) return '';
  if (!g.without && g.labels.length === 0) return '';
  return ` ${g.without ? 'without' : 'by'} (${g.labels.join(', ')})`;
}

function prettyUnwrap(u: Unwrap, level: number): string {
  const label = u.conversion === 'none' ? u.label : `${u.conversion}(${u.label})`;
  let out = `${indent(level)}| unwrap ${label}`;
  for (const f of u.postFilters) out += `\n${indent(level)}| ${formatLabelFilter(f)}`;
  return out;
}

function number(n: number): string {
  return Object.is(n, -0) ? '-0' : String(n);
}

/** `op(\n args,\n ...\n)`: each argument on its own line, one level deeper. */
function call(head: string, args: readonly string[], level: number): string {
  return `${indent(level)}${head}(\n${args.join(',\n')}\n${indent(level)})`;
}

function binaryOperator(e: BinaryExpr): string {
  let op: string = e.op;
  if (e.returnBool) op += ' bool';
  const m = e.matching;
  if (m) {
    op += ` ${m.on ? 'on' : 'ignoring'} (${m.labels.join(', ')})`;
    if (m.group) op += ` group_${m.group.side} (${m.group.include.join(', ')})`;
  }
  return op;
}

/** A side of a binary operation, parenthesised where the operator's precedence needs it. */
function side(e: BinaryExpr, child: MetricExpr, right: boolean, level: number): string {
  if (child.type === 'binary') {
    const p = BINARY_PRECEDENCE[e.op];
    const cp = BINARY_PRECEDENCE[child.op];
    const rightAssoc = e.op === '^';
    const parens = cp < p || (cp === p && (right ? !rightAssoc : rightAssoc));
    if (parens) return `${indent(level)}(${formatMetricExpr(child)})`;
  }
  return prettyMetric(child, level);
}

function prettyMetric(e: MetricExpr, level: number): string {
  const line = formatMetricExpr(e);
  if (line.length <= MAX_CHARS_PER_LINE) return indent(level) + line;
  switch (e.type) {
    case 'number':
    case 'vectorLiteral':
      return indent(level) + line;
    case 'range': {
      let range = prettyLog(e.log, level + 1);
      if (e.unwrap) range += `\n${prettyUnwrap(e.unwrap, level + 2)}`;
      range += ` [${formatDuration(e.range)}]`;
      if (e.offset !== 0n) range += ` offset ${formatDuration(e.offset)}`;
      const args = e.param === undefined ? [range] : [indent(level + 1) + number(e.param), range];
      return call(e.fn, args, level) + grouping(e.grouping);
    }
    case 'vector': {
      const inner = prettyMetric(e.expr, level + 1);
      const args = e.param === undefined ? [inner] : [indent(level + 1) + number(e.param), inner];
      return call(e.op + grouping(e.grouping), args, level);
    }
    case 'binary':
      return `${side(e, e.left, false, level + 1)}\n${indent(level)}${binaryOperator(e)}\n${side(e, e.right, true, level + 1)}`;
    case 'labelReplace':
      return call(
        'label_replace',
        [
          prettyMetric(e.expr, level + 1),
          ...[e.dst, e.replacement, e.src, e.regex].map((s) => indent(level + 1) + quote(s)),
        ],
        level,
      );
  }
}
