/**
 * @module label_replace(v, dst, replacement, src, regex): the regex is RE2, fully anchored; when it
 * matches the value of `src` ("" when absent), `dst` becomes the expanded replacement (removed when
 * that is empty); otherwise the series is unchanged. Replacement expansion follows Go's
 * regexp.Expand: `$1`, `${1}`, `$name`, `${name}`, `$$`.
 */
import RE2 from 're2';
import type { LabelReplace } from '../../logql/ast.js';
import { labelValue } from '../../model/kube-meta.js';
import { labelsKey } from '../../model/labels-key.js';
import { MetricEvalError, type StepSeries, type Steps } from './types.js';

function expand(template: string, match: RegExpExecArray): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i]!;
    if (c !== '$' || i + 1 >= template.length) {
      out += c;
      i++;
      continue;
    }
    if (template[i + 1] === '$') {
      out += '$';
      i += 2;
      continue;
    }
    let name: string;
    let next: number;
    if (template[i + 1] === '{') {
      const close = template.indexOf('}', i + 2);
      const inner = close < 0 ? '' : template.slice(i + 2, close);
      if (close < 0 || !/^\w+$/.test(inner)) {
        out += c;
        i++;
        continue;
      }
      name = inner;
      next = close + 1;
    } else {
      const m = /^\w+/.exec(template.slice(i + 1));
      if (!m) {
        out += c;
        i++;
        continue;
      }
      name = m[0];
      next = i + 1 + name.length;
    }
    if (/^\d+$/.test(name)) out += match[Number(name)] ?? '';
    else out += match.groups?.[name] ?? '';
    i = next;
  }
  return out;
}

export function evalLabelReplace(
  expr: LabelReplace,
  input: readonly StepSeries[],
  steps: Steps,
): StepSeries[] {
  let re: RE2;
  try {
    re = new RE2(`^(?:${expr.regex})$`);
  } catch (err) {
    throw new MetricEvalError(`invalid regex in label_replace: ${(err as Error).message}`);
  }
  const outs = new Map<string, StepSeries>();
  for (const s of input) {
    const src = labelValue(s.labels, expr.src) ?? '';
    const m = re.exec(src);
    let labels = s.labels;
    if (m) {
      const res = expand(expr.replacement, m);
      labels = { ...s.labels };
      delete labels[expr.dst];
      if (res !== '') labels[expr.dst] = res;
    }
    const key = labelsKey(labels);
    const o = outs.get(key);
    if (!o) {
      outs.set(key, labels === s.labels ? s : { ...s, labels });
      continue;
    }
    // Two series that become one: merge their points, the later one winning a shared step.
    for (let i = 0; i < steps.n; i++) {
      if (!s.present[i]) continue;
      o.values[i] = s.values[i]!;
      o.present[i] = 1;
    }
  }
  return [...outs.values()];
}
