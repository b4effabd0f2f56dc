/**
 * @module The labels common to every stream of a result, which logcli's default output leaves out
 * (a label set itself prints as model/labels-key.ts writes it: `{a="b", c="d"}`, names sorted).
 */
import type { Labels } from '../../model/record.js';

/** The name=value pairs that every label set holds (none when there are no sets). */
export function commonLabels(sets: readonly Labels[]): Labels {
  const [first, ...rest] = sets;
  if (first === undefined) return {};
  const common: Labels = {};
  for (const [k, v] of Object.entries(first)) {
    if (rest.every((s) => s[k] === v)) common[k] = v;
  }
  return common;
}

/** `labels` without the pairs of `common`. */
export function subtractLabels(labels: Labels, common: Labels): Labels {
  const out: Labels = {};
  for (const [k, v] of Object.entries(labels)) if (common[k] !== v) out[k] = v;
  return out;
}
