/**
 * @module Stream matchers evaluated against a stream's labels, with Loki's semantics: regular
 * expressions are RE2 and fully anchored as Prometheus anchors them, `^(?s:...)$` (`.` matches a
 * newline); a missing label has the value ""; any spelling of
 * Kubernetes metadata (plain, Viaq, OTEL) finds the value stored under another.
 */
import RE2 from 're2';
import { labelValue } from '../model/kube-meta.js';
import type { Labels } from '../model/record.js';
import type { LabelMatcher } from './store.js';

export type CompiledMatcher = (labels: Labels) => boolean;

const cache = new Map<string, RE2>();

/** An anchored RE2 for a matcher value; throws a SyntaxError naming the expression when invalid. */
export function anchoredRegex(source: string): RE2 {
  let re = cache.get(source);
  if (!re) {
    re = new RE2(`^(?s:${source})$`);
    if (cache.size > 1000) cache.clear();
    cache.set(source, re);
  }
  return re;
}

export function compileMatcher(m: LabelMatcher): CompiledMatcher {
  switch (m.op) {
    case '=':
      return (labels) => (labelValue(labels, m.name) ?? '') === m.value;
    case '!=':
      return (labels) => (labelValue(labels, m.name) ?? '') !== m.value;
    case '=~': {
      const re = anchoredRegex(m.value);
      return (labels) => re.test(labelValue(labels, m.name) ?? '');
    }
    case '!~': {
      const re = anchoredRegex(m.value);
      return (labels) => !re.test(labelValue(labels, m.name) ?? '');
    }
  }
}

export function compileMatchers(matchers: readonly LabelMatcher[]): CompiledMatcher {
  const compiled = matchers.map(compileMatcher);
  return (labels) => compiled.every((f) => f(labels));
}
