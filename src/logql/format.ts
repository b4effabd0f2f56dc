/**
 * @module Prints a LogQL syntax tree back as LogQL: `parseLogql(formatExpr(e))` deep-equals `e` for
 * any tree the parser builds. Used to rewrite queries (inject a matcher, split a query).
 * Parentheses appear only where precedence needs them.
 */
import type { LabelMatcher } from '../store/store.js';
import {
  BINARY_PRECEDENCE,
  type Expr,
  type Grouping,
  type LabelFilter,
  type LogExpr,
  type MetricExpr,
  type PipelineStage,
  type Unwrap,
  type VectorMatching,
} from './ast.js';

/** A Go string literal: raw (back-quoted) when that reads better and is exact, else double-quoted. */
export function quote(s: string): string {
  if (s.includes('\\') && !/[`\r]/.test(s) && !/[\uD800-\uDFFF]/.test(s)) return `\`${s}\``;
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

const UNITS: readonly [string, bigint][] = [
  ['d', 86_400_000_000_000n],
  ['h', 3_600_000_000_000n],
  ['m', 60_000_000_000n],
  ['s', 1_000_000_000n],
  ['ms', 1_000_000n],
  ['us', 1_000n],
  ['ns', 1n],
];

/** Nanoseconds as a LogQL duration: `1h30m`, `250ms`, `0s`. */
export function formatDuration(ns: bigint): string {
  if (ns < 0n) return `-${formatDuration(-ns)}`;
  if (ns === 0n) return '0s';
  let rest = ns;
  let out = '';
  for (const [unit, size] of UNITS) {
    if (rest >= size) {
      out += `${rest / size}${unit}`;
      rest %= size;
    }
  }
  return out;
}

function formatNumber(n: number): string {
  return Object.is(n, -0) ? '-0' : String(n);
}

function formatMatcher(m: LabelMatcher): string {
  return `${m.name}${m.op}${quote(m.value)}`;
}

/** Matchers as they stand inside a selector's braces: `a="b", c=~"d"`. */
export function formatMatchers(matchers: readonly LabelMatcher[]): string {
  return matchers.map(formatMatcher).join(', ');
}

function formatSelector(matchers: readonly LabelMatcher[]): string {
  return `{${formatMatchers(matchers)}}`;
}

function filterPrec(f: LabelFilter): number {
  return f.kind === 'or' ? 1 : f.kind === 'and' ? 2 : 3;
}

/** and/or are left-associative, and binds tighter: the right side of either is parenthesised if binary. */
export function formatLabelFilter(f: LabelFilter): string {
  switch (f.kind) {
    case 'and':
    case 'or': {
      const p = filterPrec(f);
      const l = formatLabelFilter(f.left);
      const r = formatLabelFilter(f.right);
      const left = filterPrec(f.left) < p ? `(${l})` : l;
      const right = filterPrec(f.right) <= p ? `(${r})` : r;
      return `${left} ${f.kind} ${right}`;
    }
    case 'string':
      return `${f.name}${f.op}${quote(f.value)}`;
    case 'ip':
      return `${f.name}${f.op}ip(${quote(f.value)})`;
    case 'number':
      return `${f.name} ${f.op} ${formatNumber(f.value)}`;
    case 'duration':
      return `${f.name} ${f.op} ${formatDuration(BigInt(Math.round(f.value)))}`;
    case 'bytes':
      return `${f.name} ${f.op} ${f.value}B`;
  }
}

function extraction(label: string, from: string): string {
  return label === from ? label : `${label}=${quote(from)}`;
}

export function formatStage(s: PipelineStage): string {
  switch (s.type) {
    case 'lineFilter': {
      const alt = (v: string, ip: boolean | undefined): string => (ip ? `ip(${quote(v)})` : quote(v));
      return [`${s.op} ${alt(s.value, s.ip)}`, ...s.or.map((o, k) => `or ${alt(o, s.orIp?.[k])}`)].join(' ');
    }
    case 'decolorize':
      return '| decolorize';
    case 'json':
      return ['| json', s.params.map((p) => extraction(p.label, p.path)).join(', ')]
        .filter(Boolean)
        .join(' ');
    case 'logfmt':
      return [
        '| logfmt',
        s.strict ? '--strict' : '',
        s.keepEmpty ? '--keep-empty' : '',
        s.params.map((p) => extraction(p.label, p.key)).join(', '),
      ]
        .filter(Boolean)
        .join(' ');
    case 'regexp':
      return `| regexp ${quote(s.regex)}`;
    case 'pattern':
      return `| pattern ${quote(s.pattern)}`;
    case 'unpack':
      return '| unpack';
    case 'labelFilter':
      return `| ${formatLabelFilter(s.filter)}`;
    case 'lineFormat':
      return `| line_format ${quote(s.template)}`;
    case 'labelFormat':
      return `| label_format ${s.ops.map((o) => `${o.label}=${o.kind === 'rename' ? o.value : quote(o.value)}`).join(', ')}`;
    case 'drop':
    case 'keep':
      return `| ${s.type} ${s.labels
        .map((l) => (l.matcher ? formatMatcher({ name: l.name, ...l.matcher }) : l.name))
        .join(', ')}`;
  }
}

export function formatLogExpr(e: LogExpr): string {
  return [formatSelector(e.matchers), ...e.pipeline.map(formatStage)].join(' ');
}

function formatUnwrap(u: Unwrap): string {
  const label = u.conversion === 'none' ? u.label : `${u.conversion}(${u.label})`;
  return [`| unwrap ${label}`, ...u.postFilters.map((f) => `| ${formatLabelFilter(f)}`)].join(' ');
}

function formatGrouping(g: Grouping): string {
  return `${g.without ? 'without' : 'by'} (${g.labels.join(', ')})`;
}

function formatMatching(m: VectorMatching): string {
  let out = `${m.on ? 'on' : 'ignoring'} (${m.labels.join(', ')})`;
  if (m.group) out += ` group_${m.group.side} (${m.group.include.join(', ')})`;
  return out;
}

function precOf(e: MetricExpr): number {
  return e.type === 'binary' ? BINARY_PRECEDENCE[e.op] : 99;
}

export function formatMetricExpr(e: MetricExpr): string {
  switch (e.type) {
    case 'number':
      return formatNumber(e.value);
    case 'vectorLiteral':
      return `vector(${formatNumber(e.value)})`;
    case 'labelReplace':
      return `label_replace(${formatMetricExpr(e.expr)}, ${[e.dst, e.replacement, e.src, e.regex].map(quote).join(', ')})`;
    case 'vector': {
      const param = e.param === undefined ? '' : `${formatNumber(e.param)}, `;
      const grouping = e.grouping ? ` ${formatGrouping(e.grouping)}` : '';
      return `${e.op}${grouping} (${param}${formatMetricExpr(e.expr)})`;
    }
    case 'range': {
      const param = e.param === undefined ? '' : `${formatNumber(e.param)}, `;
      const parts = [formatLogExpr(e.log)];
      if (e.unwrap) parts.push(formatUnwrap(e.unwrap));
      const range = `[${formatDuration(e.range)}]`;
      if (parts.length === 1 && e.log.pipeline.length === 0) parts[0] += range;
      else parts.push(range);
      if (e.offset !== 0n) parts.push(`offset ${formatDuration(e.offset)}`);
      const grouping = e.grouping ? ` ${formatGrouping(e.grouping)}` : '';
      return `${e.fn}(${param}${parts.join(' ')})${grouping}`;
    }
    case 'binary': {
      const p = BINARY_PRECEDENCE[e.op];
      const rightAssoc = e.op === '^';
      const l = formatMetricExpr(e.left);
      const r = formatMetricExpr(e.right);
      const lp = precOf(e.left);
      const rp = precOf(e.right);
      const left = lp < p || (lp === p && rightAssoc) ? `(${l})` : l;
      const right = rp < p || (rp === p && !rightAssoc) ? `(${r})` : r;
      const mods = [e.op, e.returnBool ? 'bool' : '', e.matching ? formatMatching(e.matching) : '']
        .filter(Boolean)
        .join(' ');
      return `${left} ${mods} ${right}`;
    }
  }
}

export function formatExpr(e: Expr): string {
  return e.type === 'log' ? formatLogExpr(e) : formatMetricExpr(e);
}
