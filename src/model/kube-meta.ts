/**
 * @module Kubernetes metadata under its three spellings: plain (`namespace`), Viaq
 * (`kubernetes_namespace_name`) and OTEL (`k8s_namespace_name`). Labels are stored as they were
 * pushed; a query may name any spelling and finds the value under whichever one is present.
 */
import type { Labels } from './record.js';

/** Each group lists the spellings of one piece of metadata; the first is kjournal's own. */
export const ALIAS_GROUPS: readonly (readonly string[])[] = [
  ['namespace', 'kubernetes_namespace_name', 'k8s_namespace_name'],
  ['pod', 'kubernetes_pod_name', 'k8s_pod_name'],
  ['container', 'kubernetes_container_name', 'k8s_container_name'],
  ['node', 'kubernetes_host', 'k8s_node_name'],
  ['class', 'log_type', 'openshift_log_type'],
];

const VIAQ_POD_LABEL = 'kubernetes_labels_';
const OTEL_POD_LABEL = 'k8s_pod_labels_';

const GROUP_OF = new Map<string, readonly string[]>();
for (const group of ALIAS_GROUPS) for (const name of group) GROUP_OF.set(name, group);

/** Every spelling under which `name` may be stored, `name` first. */
export function aliasesOf(name: string): readonly string[] {
  const group = GROUP_OF.get(name);
  if (group) return [name, ...group.filter((n) => n !== name)];
  if (name.startsWith(VIAQ_POD_LABEL)) return [name, OTEL_POD_LABEL + name.slice(VIAQ_POD_LABEL.length)];
  if (name.startsWith(OTEL_POD_LABEL)) return [name, VIAQ_POD_LABEL + name.slice(OTEL_POD_LABEL.length)];
  return [name];
}

/** The value of `name` in `labels`, looking through its aliases; undefined when none is present. */
export function labelValue(labels: Labels, name: string): string | undefined {
  // Own properties only: `constructor` or `__proto__` are names, not Object.prototype's members.
  if (Object.hasOwn(labels, name)) return labels[name];
  for (const alias of aliasesOf(name)) {
    if (Object.hasOwn(labels, alias)) return labels[alias];
  }
  return undefined;
}

export interface KubeMeta {
  namespace?: string;
  pod?: string;
  container?: string;
  node?: string;
  podLabels: Record<string, string>;
}

/** Reads Kubernetes metadata from labels (or attributes) in any spelling. */
export function kubeMeta(labels: Labels): KubeMeta {
  const podLabels: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) {
    if (k.startsWith(VIAQ_POD_LABEL)) podLabels[k.slice(VIAQ_POD_LABEL.length)] ??= v;
    else if (k.startsWith(OTEL_POD_LABEL)) podLabels[k.slice(OTEL_POD_LABEL.length)] ??= v;
  }
  const meta: KubeMeta = { podLabels };
  const ns = labelValue(labels, 'namespace');
  if (ns !== undefined) meta.namespace = ns;
  const pod = labelValue(labels, 'pod');
  if (pod !== undefined) meta.pod = pod;
  const container = labelValue(labels, 'container');
  if (container !== undefined) meta.container = container;
  const node = labelValue(labels, 'node');
  if (node !== undefined) meta.node = node;
  return meta;
}

/**
 * Both Viaq and OTEL spellings of the metadata, as korrel8r's log objects carry them
 * (its "direct logs" include both "to ease migration").
 */
export function viaqAndOtel(meta: KubeMeta): Record<string, string> {
  const out: Record<string, string> = {};
  if (meta.namespace !== undefined) {
    out.kubernetes_namespace_name = meta.namespace;
    out.k8s_namespace_name = meta.namespace;
  }
  if (meta.pod !== undefined) {
    out.kubernetes_pod_name = meta.pod;
    out.k8s_pod_name = meta.pod;
  }
  if (meta.container !== undefined) {
    out.kubernetes_container_name = meta.container;
    out.k8s_container_name = meta.container;
  }
  if (meta.node !== undefined) {
    out.kubernetes_host = meta.node;
    out.k8s_node_name = meta.node;
  }
  for (const [k, v] of Object.entries(meta.podLabels)) {
    out[VIAQ_POD_LABEL + k] = v;
    out[OTEL_POD_LABEL + k] = v;
  }
  return out;
}
