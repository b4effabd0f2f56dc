/**
 * @module Label sets as logcli prints them: Go's `{a="b", c="d"}` with sorted names, and the labels
 * common to every stream of a result, which the default output leaves out.
 */
import type { Labels } from '../../model/record.js';

/** `{a="b", c="d"}`, names sorted, values quoted as Go's strconv.Quote does for ordinary text. */
export function formatLabels(labels: Labels): string {
  const names = Object.keys(labels).sort();
  return `{${names.map((n) => `${n}=${JSON.stringify(labels[n])}`).join(', ')}}`;
}

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
