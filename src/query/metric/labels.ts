/**
 * @module Label sets as Prometheus orders, prints and groups them, with kjournal's Kubernetes
 * spellings: `by (namespace)` finds a value stored as `kubernetes_namespace_name` or
 * `k8s_namespace_name`, and `without (namespace)` drops every spelling.
 */
import type { LogPipelineOutput } from '../../logql/stages/types.js';
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

/** `allLabels(out)[name]` (parsed over metadata over stream), without building the merged set. */
function outputLabel(out: LogPipelineOutput, name: string): string | undefined {
  if (Object.hasOwn(out.parsed, name)) return out.parsed[name];
  if (Object.hasOwn(out.metadata, name)) return out.metadata[name];
  if (Object.hasOwn(out.stream, name)) return out.stream[name];
  return undefined;
}

/**
 * `pickLabels(allLabels(out), names)` without the merged set: a metric query `by (level)` over
 * `| json` lines copied every extracted field of every line into one object only to keep one of
 * them (a third of such a query's time).
 */
export function pickOutputLabels(out: LogPipelineOutput, names: readonly string[]): Labels {
  const picked: Labels = {};
  for (const name of names) {
    let v = outputLabel(out, name);
    if (v === undefined) {
      for (const alias of aliasesOf(name)) {
        v = outputLabel(out, alias);
        if (v !== undefined) break;
      }
    }
    if (v !== undefined && v !== '') picked[name] = v;
  }
  return picked;
}

/** Whether the output carries a pipeline error that fails the query (`__error__` not preserved). */
export function outputFails(out: LogPipelineOutput): boolean {
  return !!outputLabel(out, '__error__') && outputLabel(out, '__preserve_error__') !== 'true';
}
