/**
 * @module The namespaces a LogQL query reads, when its selectors say: a selector pins them with a
 * namespace matcher (`namespace="a"`, or `=~"a|b"` of literal names, under the plain, Viaq or OTEL
 * name); a query pins them when every one of its selectors does. What LokiStack's OpenShift mode
 * looks for to let a namespace user's query through, and what the CLI uses to take a namespaced
 * path through kube-apiserver.
 */
import { aliasesOf } from '../model/kube-meta.js';
import type { LabelMatcher } from '../store/store.js';
import type { Expr, LogExpr, MetricExpr } from './ast.js';

const NAMESPACE_NAMES = new Set(aliasesOf('namespace'));
/** A namespace name (a DNS label): what a regular expression of literals may list. */
const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The namespaces one selector pins: those every namespace matcher of it allows when each such
 * matcher lists literal names; undefined when it has none (it may read any namespace).
 */
export function pinnedNamespaces(matchers: readonly LabelMatcher[]): Set<string> | undefined {
  let pinned: Set<string> | undefined;
  for (const m of matchers) {
    if (!NAMESPACE_NAMES.has(m.name)) continue;
    let names: string[] | undefined;
    if (m.op === '=') names = [m.value];
    else if (m.op === '=~') {
      const parts = m.value.split('|');
      if (parts.every((p) => NAMESPACE_NAME.test(p))) names = parts;
    }
    if (!names) continue;
    const before = pinned;
    pinned = before ? new Set(names.filter((n) => before.has(n))) : new Set(names);
  }
  return pinned;
}

/** The stream selectors of an expression, every side of every operation. */
export function selectorsOf(expr: Expr): LogExpr[] {
  if (expr.type === 'log') return [expr];
  const walk = (e: MetricExpr): LogExpr[] => {
    switch (e.type) {
      case 'range':
        return [e.log];
      case 'vector':
      case 'labelReplace':
        return walk(e.expr);
      case 'binary':
        return [...walk(e.left), ...walk(e.right)];
      case 'number':
      case 'vectorLiteral':
        return [];
    }
  };
  return walk(expr);
}

/** The namespaces all of `selectors` read, or undefined when one of them pins none. */
export function namespacesOfSelectors(
  selectors: readonly (readonly LabelMatcher[])[],
): Set<string> | undefined {
  const all = new Set<string>();
  for (const s of selectors) {
    const pinned = pinnedNamespaces(s);
    if (!pinned) return undefined;
    for (const n of pinned) all.add(n);
  }
  return all;
}
