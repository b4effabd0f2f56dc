/**
 * @module Restricting a LogQL expression, as a gateway in front of Loki does: every stream selector
 * gets the same extra matchers. LokiStack's `/api/logs/v1/<class>/` tenants add `class="<c>"`; a
 * namespaced path (`/apis/core.kjournal/v1alpha1/namespaces/<ns>/loki/...`) adds `namespace="<ns>"`,
 * as LokiStack's OpenShift mode pins a namespace user's queries. A selector that already names
 * another class or namespace then matches nothing, which is the point: no stage after a selector
 * can widen what it selected.
 */
import type { LabelMatcher } from '../store/store.js';
import type { Expr, LogExpr, MetricExpr } from './ast.js';
import { formatMatchers } from './format.js';
import { tokenize } from './lexer.js';

export const CLASS_LABEL = 'class';

/** The matcher of a LokiStack class path. */
export function classMatcher(cls: string): LabelMatcher {
  return { name: CLASS_LABEL, op: '=', value: cls };
}

function restrictMatchers(matchers: readonly LabelMatcher[], extra: readonly LabelMatcher[]): LabelMatcher[] {
  return [...matchers, ...extra];
}

export function restrictLogExpr(expr: LogExpr, extra: readonly LabelMatcher[]): LogExpr {
  return { ...expr, matchers: restrictMatchers(expr.matchers, extra) };
}

function restrictMetric(expr: MetricExpr, extra: readonly LabelMatcher[]): MetricExpr {
  switch (expr.type) {
    case 'range':
      return { ...expr, log: restrictLogExpr(expr.log, extra) };
    case 'vector':
      return { ...expr, expr: restrictMetric(expr.expr, extra) };
    case 'binary':
      return { ...expr, left: restrictMetric(expr.left, extra), right: restrictMetric(expr.right, extra) };
    case 'labelReplace':
      return { ...expr, expr: restrictMetric(expr.expr, extra) };
    case 'number':
    case 'vectorLiteral':
      return expr;
  }
}

/** The expression with `extra` added to every stream selector. */
export function restrictExpr<E extends Expr>(expr: E, extra: readonly LabelMatcher[]): E {
  if (expr.type === 'log') return restrictLogExpr(expr, extra) as E;
  return restrictMetric(expr, extra) as E;
}

/** Matchers restricted (for `match[]`, `query` of the metadata endpoints). */
export function restrictSelector(
  matchers: readonly LabelMatcher[],
  extra: readonly LabelMatcher[],
): LabelMatcher[] {
  return restrictMatchers(matchers, extra);
}

/**
 * The same restriction on the query text, for handlers that parse the query themselves: the extra
 * matchers are inserted after every `{` that opens a selector. In LogQL a `{` operator token only
 * ever opens a stream selector (braces in templates are inside strings), so this is exact for every
 * query the lexer accepts; an unlexable query is returned unchanged and fails in the parser as it
 * would have.
 */
export function restrictQueryText(query: string, extra: readonly LabelMatcher[]): string {
  let tokens: ReturnType<typeof tokenize>;
  try {
    tokens = tokenize(query);
  } catch {
    return query;
  }
  if (extra.length === 0) return query;
  const inserted = formatMatchers(extra);
  let out = '';
  let last = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type !== 'op' || t.text !== '{') continue;
    const next = tokens[i + 1];
    const empty = next?.type === 'op' && next.text === '}';
    out += query.slice(last, t.pos + 1) + (empty ? inserted : `${inserted}, `);
    last = t.pos + 1;
  }
  return out + query.slice(last);
}
