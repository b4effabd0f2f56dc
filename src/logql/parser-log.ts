/**
 * @module LogQL log queries: stream selectors, pipeline stages, label filter expressions with Loki's
 * precedence, and `| unwrap` with its post-filters. Validates what Loki validates at parse time
 * (regular expressions, regexp and pattern parsers, label_format duplicates).
 */
import { anchoredRegex } from '../store/matchers.js';
import type { LabelMatcher, MatchOp } from '../store/store.js';
import type {
  CompareOp,
  LabelFilter,
  LabelFormatStage,
  LabelSelector,
  LineFilterStage,
  LogExpr,
  PipelineStage,
  Unwrap,
} from './ast.js';
import type { Token } from './lexer.js';
import { type Cursor, LABEL_NAME } from './parser-base.js';

const MATCH_OPS: readonly string[] = ['=', '!=', '=~', '!~'];
const LINE_FILTER_OPS: readonly string[] = ['|=', '!=', '|~', '!~', '|>', '!>'];
const COMPARE_OPS: readonly string[] = ['==', '=', '!=', '>', '>=', '<', '<='];
/** Words after `|` that start a stage other than a label filter. */
const STAGE_KEYWORDS: readonly string[] = [
  'json',
  'logfmt',
  'regexp',
  'pattern',
  'unpack',
  'line_format',
  'label_format',
  'decolorize',
  'drop',
  'keep',
  'unwrap',
];

export const EMPTY_COMPATIBLE =
  'queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will';

export function parseSelector(c: Cursor): LabelMatcher[] {
  const open = c.expectOp('{');
  const matchers: LabelMatcher[] = [];
  while (!c.isOp('}')) {
    matchers.push(parseMatcher(c));
    if (!c.isOp('}')) {
      const t = c.peek();
      if (!c.isOp(',')) c.unexpected(t, '} or ,');
      c.next();
    }
  }
  c.next();
  if (!matchers.some(notEmptyCompatible)) c.fail(open, EMPTY_COMPATIBLE);
  return matchers;
}

/** `name op "value"`, the regex checked anchored as Loki (Prometheus) runs it. */
function parseMatcher(c: Cursor): LabelMatcher {
  const name = c.next();
  if (name.type !== 'ident' || name.text.includes('.')) c.unexpected(name, 'IDENTIFIER');
  const op = c.next();
  if (op.type !== 'op' || !MATCH_OPS.includes(op.text)) c.unexpected(op, '=, !=, =~ or !~');
  const value = c.expectString();
  if (op.text === '=~' || op.text === '!~') c.checkRegex(value, true);
  return { name: name.text, op: op.text as MatchOp, value: value.value };
}

/** Loki refuses selectors whose every matcher also matches the empty value, e.g. `{a=~".*"}`. */
function notEmptyCompatible(m: LabelMatcher): boolean {
  switch (m.op) {
    case '=':
      return m.value !== '';
    case '!=':
      return m.value === '';
    case '=~':
      return !anchoredRegex(m.value).test('');
    case '!~':
      return anchoredRegex(m.value).test('');
  }
}

export function parseLogExpr(c: Cursor): LogExpr {
  const matchers = parseSelector(c);
  return { type: 'log', matchers, pipeline: parsePipeline(c) };
}

/** Stages up to the first token that cannot continue a pipeline (including `| unwrap`). */
export function parsePipeline(c: Cursor): PipelineStage[] {
  const stages: PipelineStage[] = [];
  for (;;) {
    const t = c.peek();
    if (t.type === 'op' && LINE_FILTER_OPS.includes(t.text)) {
      stages.push(parseLineFilter(c));
      continue;
    }
    if (!c.isOp('|') || c.isKw('unwrap', 1)) return stages;
    c.next();
    stages.push(parseStage(c));
  }
}

/**
 * A line filter and its `or` alternatives, as Loki's grammar takes them (lineFilter and orFilter in
 * pkg/logql/syntax/expr.y): each alternative a string or `ip("...")`; an ip() after the first
 * alternative ends the chain (orFilter has no `ip(...) or ...`); ip() only with |= and !=.
 */
function parseLineFilter(c: Cursor): LineFilterStage {
  const opTok = c.next();
  const op = opTok.text as LineFilterStage['op'];
  const regex = op === '|~' || op === '!~';
  const pattern = op === '|>' || op === '!>';
  const alternative = (): { value: string; ip: boolean } => {
    if (c.isKw('ip') && c.isOp('(', 1)) {
      c.next();
      c.next();
      const value = c.expectString();
      c.expectOp(')');
      if (op !== '|=' && op !== '!=')
        c.fail(opTok, `syntax error: ip() line filters take |= or !=, not ${op}`);
      return { value: value.value, ip: true };
    }
    const t = c.expectString();
    if (regex) c.checkRegex(t, false);
    if (pattern) {
      const problem = patternFilterProblem(t.value);
      if (problem) c.fail(t, problem);
    }
    return { value: t.value, ip: false };
  };
  const first = alternative();
  const or: string[] = [];
  const orIp: boolean[] = [];
  while (c.isKw('or')) {
    if (orIp.at(-1) === true) c.unexpected(c.peek());
    c.next();
    const alt = alternative();
    or.push(alt.value);
    orIp.push(alt.ip);
  }
  return {
    type: 'lineFilter',
    op,
    value: first.value,
    or,
    ...(first.ip ? { ip: true } : {}),
    ...(orIp.includes(true) ? { orIp } : {}),
  };
}

function parseStage(c: Cursor): PipelineStage {
  const t = c.peek();
  const kw = t.type === 'ident' ? t.text.toLowerCase() : '';
  if (!STAGE_KEYWORDS.includes(kw)) return { type: 'labelFilter', filter: parseLabelFilter(c) };
  c.next();
  switch (kw) {
    case 'json':
      return { type: 'json', params: extractionList(c).map(([label, path]) => ({ label, path })) };
    case 'logfmt': {
      let strict = false;
      let keepEmpty = false;
      while (c.peek().type === 'flag') {
        const f = c.next().text;
        if (f === '--strict') strict = true;
        else keepEmpty = true;
      }
      const params = extractionList(c).map(([label, key]) => ({ label, key }));
      return { type: 'logfmt', strict, keepEmpty, params };
    }
    case 'regexp': {
      const s = c.expectString();
      validateRegexpParser(c, s);
      return { type: 'regexp', regex: s.value };
    }
    case 'pattern': {
      const s = c.expectString();
      const problem = patternProblem(s.value);
      if (problem) c.fail(s, `invalid pattern parser: ${problem}`);
      return { type: 'pattern', pattern: s.value };
    }
    case 'unpack':
      return { type: 'unpack' };
    case 'decolorize':
      return { type: 'decolorize' };
    case 'line_format':
      return { type: 'lineFormat', template: c.expectString().value };
    case 'label_format':
      return parseLabelFormat(c);
    case 'drop':
    case 'keep':
      return { type: kw, labels: parseLabelSelectors(c) };
    default:
      c.unexpected(t);
  }
}

/** `a="path", b` after json or logfmt: a label and where it comes from (its own name by default). */
function extractionList(c: Cursor): [string, string][] {
  const out: [string, string][] = [];
  if (c.peek().type !== 'ident') return out;
  for (;;) {
    const name = c.expectIdent().text;
    if (c.isOp('=')) {
      c.next();
      out.push([name, c.expectString().value]);
    } else {
      out.push([name, name]);
    }
    if (!c.isOp(',')) return out;
    c.next();
  }
}

function parseLabelFormat(c: Cursor): LabelFormatStage {
  const ops: { label: string; kind: 'rename' | 'template'; value: string }[] = [];
  const seen = new Set<string>();
  for (;;) {
    const name = c.expectIdent();
    c.expectOp('=');
    const v = c.next();
    if (v.type !== 'ident' && v.type !== 'string') c.unexpected(v, 'IDENTIFIER or STRING');
    if (seen.has(name.text)) {
      c.fail(name, `multiple label name '${name.text}' not allowed in a single format operation`);
    }
    seen.add(name.text);
    ops.push({ label: name.text, kind: v.type === 'ident' ? 'rename' : 'template', value: v.value });
    if (!c.isOp(',')) return { type: 'labelFormat', ops };
    c.next();
  }
}

function parseLabelSelectors(c: Cursor): LabelSelector[] {
  const out: LabelSelector[] = [];
  for (;;) {
    if (c.peek(1).type === 'op' && MATCH_OPS.includes(c.peek(1).text)) {
      const m = parseMatcher(c);
      out.push({ name: m.name, matcher: { op: m.op, value: m.value } });
    } else {
      out.push({ name: c.expectIdent().text });
    }
    if (!c.isOp(',')) return out;
    c.next();
  }
}

// ---------------------------------------------------------------------------------------------
// Label filters. Loki's grammar gives `and` precedence over `or`, both left-associative; `,` and
// juxtaposition (`a="1" b="2"`) also mean `and` but have no precedence, so yacc shifts: the filter
// just before them becomes the left side and everything after it (to `)` or the end of the stage)
// the right side. `a and b, c or d` is `a and (b and (c or d))`.

export function parseLabelFilter(c: Cursor): LabelFilter {
  return filterOr(c);
}

function filterOr(c: Cursor): LabelFilter {
  return c.nested(c.peek(), () => {
    let left = filterAnd(c);
    while (c.isKw('or')) {
      c.operation(c.next());
      left = { kind: 'or', left, right: filterAnd(c) };
    }
    return left;
  });
}

function filterAnd(c: Cursor): LabelFilter {
  let left = filterComma(c);
  while (c.isKw('and')) {
    c.operation(c.next());
    left = { kind: 'and', left, right: filterComma(c) };
  }
  return left;
}

function startsFilter(c: Cursor): boolean {
  const t = c.peek();
  if (c.isOp('(')) return true;
  if (t.type !== 'ident') return false;
  const kw = t.text.toLowerCase();
  if (kw === 'and' || kw === 'or') return false;
  const op = c.peek(1);
  return op.type === 'op' && COMPARE_OPS.concat(MATCH_OPS).includes(op.text);
}

function filterComma(c: Cursor): LabelFilter {
  const left = filterPrimary(c);
  if (c.isOp(',')) {
    c.operation(c.next());
    return { kind: 'and', left, right: filterOr(c) };
  }
  if (startsFilter(c)) {
    c.operation(c.peek());
    return { kind: 'and', left, right: filterOr(c) };
  }
  return left;
}

function filterPrimary(c: Cursor): LabelFilter {
  if (c.isOp('(')) {
    c.next();
    const inner = filterOr(c);
    c.expectOp(')');
    return inner;
  }
  const nameTok = c.expectIdent();
  const name = nameTok.text;
  const opTok = c.next();
  if (opTok.type !== 'op' || !COMPARE_OPS.concat(MATCH_OPS).includes(opTok.text)) {
    c.unexpected(opTok, 'a comparison operator');
  }
  const op = opTok.text;
  if ((op === '=' || op === '!=') && c.isKw('ip')) {
    c.next();
    c.expectOp('(');
    const value = c.expectString().value;
    c.expectOp(')');
    return { kind: 'ip', name, op, value };
  }
  const v = c.peek();
  if (v.type === 'string') {
    if (!MATCH_OPS.includes(op)) c.unexpected(v, 'a number, duration or size');
    c.next();
    if (op === '=~' || op === '!~') c.checkRegex(v, true);
    return { kind: 'string', name, op: op as MatchOp, value: v.value };
  }
  if (op === '=~' || op === '!~') c.unexpected(v, 'STRING');
  const cmp: CompareOp = op === '=' ? '==' : (op as CompareOp);
  const u = c.peek();
  if (u.type === 'duration') {
    // A negative duration (`-5m`) is one token, as in Loki's lexer.
    return { kind: 'duration', name, op: cmp, value: Number(c.expectDuration()) };
  }
  if (u.type === 'bytes') {
    c.next();
    return { kind: 'bytes', name, op: cmp, value: Number(u.value) };
  }
  // Surprising but Loki's: its grammar keeps only the literal's value (`$3.Val`) and drops the
  // literal's error, so a number strconv.ParseFloat refuses (`0x10`, `0o17`) compares as Go's 0
  // (numberFilter in pkg/logql/syntax/expr.y, mustNewLiteralExpr in ast.go).
  const n = c.maybeNumber((goValue) => goValue);
  if (n === undefined) c.unexpected(c.peek(), 'STRING, NUMBER, DURATION or BYTES');
  return { kind: 'number', name, op: cmp, value: n };
}

// ---------------------------------------------------------------------------------------------
// Unwrap

/** `| unwrap latency`, `| unwrap bytes(size) | __error__=""`; undefined when there is none. */
export function maybeUnwrap(c: Cursor): Unwrap | undefined {
  if (!c.isOp('|') || !c.isKw('unwrap', 1)) return undefined;
  c.next();
  c.next();
  let conversion: Unwrap['conversion'] = 'none';
  const t = c.peek();
  const kw = t.type === 'ident' ? t.text.toLowerCase() : '';
  let label: string;
  if ((kw === 'bytes' || kw === 'duration' || kw === 'duration_seconds') && c.isOp('(', 1)) {
    c.next();
    c.next();
    conversion = kw;
    label = c.expectIdent().text;
    c.expectOp(')');
  } else {
    label = c.expectIdent().text;
  }
  const postFilters: LabelFilter[] = [];
  while (c.isOp('|') && !c.isKw('unwrap', 1)) {
    c.next();
    postFilters.push(parseLabelFilter(c));
  }
  return { label, conversion, postFilters };
}

// ---------------------------------------------------------------------------------------------
// Parser validation, as Loki's log.NewRegexpParser and pattern.New do it

function validateRegexpParser(c: Cursor, t: Token): void {
  c.checkRegex(t, false, 'invalid regexp parser: error parsing regexp: ');
  const names = [...t.value.matchAll(/\(\?P?<([^>]*)>/g)].map((m) => m[1]!);
  if (names.length === 0) c.fail(t, 'invalid regexp parser: at least one named capture must be supplied');
  const seen = new Set<string>();
  for (const n of names) {
    if (!LABEL_NAME.test(n)) c.fail(t, `invalid regexp parser: invalid extracted label name '${n}'`);
    if (seen.has(n)) c.fail(t, `invalid regexp parser: duplicate extracted label name '${n}'`);
    seen.add(n);
  }
}

/** Splits a pattern into literals and captures, as Loki's pattern lexer does. */
export function patternNodes(pattern: string): { capture: boolean; text: string }[] {
  const nodes: { capture: boolean; text: string }[] = [];
  const re = /<([A-Za-z_][A-Za-z0-9_]*)>/g;
  let last = 0;
  for (const m of pattern.matchAll(re)) {
    if (m.index > last) nodes.push({ capture: false, text: pattern.slice(last, m.index) });
    nodes.push({ capture: true, text: m[1]! });
    last = m.index + m[0].length;
  }
  if (last < pattern.length) nodes.push({ capture: false, text: pattern.slice(last) });
  return nodes;
}

/**
 * Loki's pattern.ParseLineFilter for `|>` and `!>`: no two captures in a row, and only the unnamed
 * `<_>` (pkg/logql/log/pattern); an empty pattern is valid (it matches empty lines).
 */
export function patternFilterProblem(pattern: string): string | undefined {
  const nodes = patternNodes(pattern);
  for (let i = 1; i < nodes.length; i++) {
    const a = nodes[i - 1]!;
    const b = nodes[i]!;
    if (a.capture && b.capture)
      return `found consecutive capture '<${a.text}><${b.text}>': invalid expression`;
  }
  const named = nodes.find((n) => n.capture && n.text !== '_');
  return named ? `named captures are not allowed: found '<${named.text}>'` : undefined;
}

/** Loki's pattern validation: a named capture, no two captures in a row, no duplicate names. */
export function patternProblem(pattern: string): string | undefined {
  const nodes = patternNodes(pattern);
  const named = nodes.filter((n) => n.capture && n.text !== '_').map((n) => n.text);
  if (named.length === 0) return 'at least one capture is required';
  for (let i = 1; i < nodes.length; i++) {
    const a = nodes[i - 1]!;
    const b = nodes[i]!;
    if (a.capture && b.capture)
      return `found consecutive capture '<${a.text}><${b.text}>': invalid expression`;
  }
  const seen = new Set<string>();
  for (const n of named) {
    if (seen.has(n)) return `duplicate capture name (${n}): invalid expression`;
    seen.add(n);
  }
  return undefined;
}
