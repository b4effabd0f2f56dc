/**
 * @module Label sets as Prometheus orders, prints and groups them, with kjournal's Kubernetes
 * spellings: `by (namespace)` finds a value stored as `kubernetes_namespace_name` or
 * `k8s_namespace_name`, and `without (namespace)` drops every spelling.
 */
import { aliasesOf, labelValue } from '../../model/kube-meta.js';
import type { Labels } from '../../model/record.js';

/** Prometheus' labels.Compare: label by label in name order, name then value; shorter first. */
export function compareLabels(a: Labels, b: Labels): number {
  const an = Object.keys(a).sort();
  const bn = Object.keys(b).sort();
  const n = Math.min(an.length, bn.length);
  for (let i = 0; i < n; i++) {
    const x = an[i]!;
    const y = bn[i]!;
    if (x !== y) return x < y ? -1 : 1;
    const xv = a[x]!;
    const yv = b[y]!;
    if (xv !== yv) return xv < yv ? -1 : 1;
  }
  return an.length - bn.length;
}

/** The labels `by (names)` keeps: each name once, under the spelling asked for, only when non-empty. */
export function pickLabels(labels: Labels, names: readonly string[]): Labels {
  const out: Labels = {};
  for (const name of names) {
    const v = labelValue(labels, name);
    if (v !== undefined && v !== '') out[name] = v;
  }
  return out;
}

/** The labels left after `without (names)`: every spelling of each name goes. */
export function dropLabels(labels: Labels, names: readonly string[]): Labels {
  const gone = new Set<string>();
  for (const n of names) for (const a of aliasesOf(n)) gone.add(a);
  gone.add('__name__');
  const out: Labels = {};
  for (const [k, v] of Object.entries(labels)) if (!gone.has(k)) out[k] = v;
  return out;
}

export function groupLabels(labels: Labels, without: boolean, names: readonly string[]): Labels {
  return without ? dropLabels(labels, names) : pickLabels(labels, names);
}
