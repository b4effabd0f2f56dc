/**
 * @module label_replace(v, dst, replacement, src, regex): the regex is RE2, fully anchored; when it
 * matches the value of `src` ("" when absent), `dst` becomes the expanded replacement (removed when
 * that is empty); otherwise the series is unchanged. Replacement expansion follows Go's
 * regexp.Expand: `$1`, `${1}`, `$name`, `${name}`, `$$`.
 */
import RE2 from 're2';
import { expandTemplate } from '../../go/regexp-expand.js';
import type { LabelReplace } from '../../logql/ast.js';
import { labelValue } from '../../model/kube-meta.js';
import { labelsKey } from '../../model/labels-key.js';
import { MetricEvalError, type StepSeries, type Steps } from './types.js';

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
      const res = expandTemplate(expr.replacement, { numbered: m, named: m.groups });
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
