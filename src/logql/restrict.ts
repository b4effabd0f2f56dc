/**
 * @module Restricting a LogQL expression to one log class, as a LokiStack gateway does for its
 * `/api/logs/v1/<class>/` tenants: every stream selector gets a `class="<c>"` matcher. A selector
 * that already names another class then matches nothing, which is the point.
 */
import type { LabelMatcher } from '../store/store.js';
import type { Expr, LogExpr, MetricExpr } from './ast.js';
import { tokenize } from './lexer.js';

export const CLASS_LABEL = 'class';

function restrictMatchers(matchers: readonly LabelMatcher[], cls: string): LabelMatcher[] {
  return [...matchers, { name: CLASS_LABEL, op: '=', value: cls }];
}

export function restrictLogExpr(expr: LogExpr, cls: string): LogExpr {
  return { ...expr, matchers: restrictMatchers(expr.matchers, cls) };
}

function restrictMetric(expr: MetricExpr, cls: string): MetricExpr {
  switch (expr.type) {
    case 'range':
      return { ...expr, log: restrictLogExpr(expr.log, cls) };
    case 'vector':
      return { ...expr, expr: restrictMetric(expr.expr, cls) };
    case 'binary':
      return { ...expr, left: restrictMetric(expr.left, cls), right: restrictMetric(expr.right, cls) };
    case 'labelReplace':
      return { ...expr, expr: restrictMetric(expr.expr, cls) };
    case 'number':
    case 'vectorLiteral':
      return expr;
  }
}

/** The expression with a `class="<cls>"` matcher added to every stream selector. */
export function restrictExpr<E extends Expr>(expr: E, cls: string): E {
  if (expr.type === 'log') return restrictLogExpr(expr, cls) as E;
  return restrictMetric(expr, cls) as E;
}

/** Matchers restricted to a class (for `match[]`, `query` of the metadata endpoints). */
export function restrictSelector(matchers: readonly LabelMatcher[], cls: string): LabelMatcher[] {
  return restrictMatchers(matchers, cls);
}

/**
 * The same restriction on the query text, for handlers that parse the query themselves: a
 * `class="<cls>"` matcher is inserted after every `{` that opens a selector. In LogQL a `{`
 * operator token only ever opens a stream selector (braces in templates are inside strings), so
 * this is exact for every query the lexer accepts; an unlexable query is returned unchanged and
 * fails in the parser as it would have.
 */
export function restrictQueryText(query: string, cls: string): string {
  let tokens: ReturnType<typeof tokenize>;
  try {
    tokens = tokenize(query);
  } catch {
    return query;
  }
  const matcher = `${CLASS_LABEL}=${JSON.stringify(cls)}`;
  let out = '';
  let last = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type !== 'op' || t.text !== '{') continue;
    const next = tokens[i + 1];
    const empty = next?.type === 'op' && next.text === '}';
    out += query.slice(last, t.pos + 1) + (empty ? matcher : `${matcher}, `);
    last = t.pos + 1;
  }
  return out + query.slice(last);
}
