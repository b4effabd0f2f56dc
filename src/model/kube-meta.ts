/**
 * @module Kubernetes metadata under its three spellings: plain (`namespace`), Viaq
 * (`kubernetes_namespace_name`) and OTEL (`k8s_namespace_name`). Labels are stored as they were
 * pushed; a query may name any spelling and finds the value under whichever one is present.
 * Pod labels come as `kubernetes_labels_<name>` (Viaq), `k8s_pod_labels_<name>` (OTEL) or, as
 * Promtail and Grafana Alloy push them, as plain stream labels (`app`): see podLabelsOf.
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

/**
 * Stream labels that are not pod labels when pushed under their plain names: Kubernetes metadata in
 * any spelling (ALIAS_GROUPS), kjournal's own labels, and the labels Loki's collectors add.
 * - kjournal: `kind`, `class` (and `log_type`, `openshift_log_type`), `source` and `unit` (node
 *   logs), `filename` (`kjournal import`), `stream`; `uid`, `pod_uid`, `container_id`,
 *   `restart_count`, `hostname` are kept as structured metadata, but are metadata if a label.
 * - Promtail's Helm chart (`kubernetes-pods` job): `node_name`, `namespace`, `pod`, `container`,
 *   `job` (`namespace/app`), `scrape_job`; its `cri` stage's `stream`; `filename` on every line.
 *   Its `app`, `instance` and `component` are copied from the pod's labels, so they are pod labels.
 * - Grafana Alloy and Loki: `job`, `cluster` (the usual external label), `service_name` (Loki's
 *   service discovery), `detected_level`; Loki's OTLP index labels (`service_*`, `cloud_*`,
 *   `deployment_environment`, `container_name`, `k8s_*`); Viaq's `log_iostream` and `log_source`.
 */
const NOT_POD_LABELS: ReadonlySet<string> = new Set([
  ...ALIAS_GROUPS.flat(),
  'kind',
  'source',
  'unit',
  'filename',
  'stream',
  'log_iostream',
  'log_source',
  'uid',
  'pod_uid',
  'container_id',
  'restart_count',
  'hostname',
  'host',
  'node_name',
  'job',
  'scrape_job',
  'cluster',
  'service_name',
  'detected_level',
  'deployment_environment',
  'container_name',
]);

/**
 * Prefixes of metadata labels: Viaq's `kubernetes_*` and OTEL's `k8s_*` (their pod-label prefixes
 * are handled before), OpenShift's `openshift_*`, OTEL's `service_*` and `cloud_*` resource
 * attributes, and the `__` names Prometheus and Loki reserve for themselves.
 */
const NOT_POD_LABEL_PREFIXES = ['kubernetes_', 'k8s_', 'openshift_', 'service_', 'cloud_', '__'];

/** Whether a stream label under its plain name (`app`) is a pod label. */
export function isPlainPodLabel(name: string): boolean {
  return !NOT_POD_LABELS.has(name) && !NOT_POD_LABEL_PREFIXES.some((p) => name.startsWith(p));
}

/**
 * The stream labels that may hold pod label `name` (a safe name), first found wins: the Viaq and
 * OTEL spellings, which only a pod's own labels are put under, then the plain name, which a
 * collector may have derived (Promtail's `app` is `app.kubernetes.io/name`, else `app`, else the
 * controller's name).
 */
export function podLabelNames(name: string): readonly string[] {
  const prefixed = [VIAQ_POD_LABEL + name, OTEL_POD_LABEL + name];
  return isPlainPodLabel(name) ? [...prefixed, name] : prefixed;
}

/** Pod label `name` as the stream labels give it (podLabelNames' order); undefined when they do not. */
export function streamPodLabel(labels: Labels, name: string): string | undefined {
  for (const n of podLabelNames(name)) if (Object.hasOwn(labels, n)) return labels[n];
  return undefined;
}

/**
 * A line's pod labels: from its stream labels (`kubernetes_labels_X`, then `k8s_pod_labels_X`, then
 * plain `X` when isPlainPodLabel), then, for names the stream does not give, from its structured
 * metadata (only the prefixed spellings there: plain metadata names are the line's own fields).
 */
export function podLabelsOf(labels: Labels, attributes: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  const prefixed = (from: Labels): void => {
    for (const [k, v] of Object.entries(from)) {
      if (k.length > VIAQ_POD_LABEL.length && k.startsWith(VIAQ_POD_LABEL))
        out[k.slice(VIAQ_POD_LABEL.length)] ??= v;
    }
    for (const [k, v] of Object.entries(from)) {
      if (k.length > OTEL_POD_LABEL.length && k.startsWith(OTEL_POD_LABEL))
        out[k.slice(OTEL_POD_LABEL.length)] ??= v;
    }
  };
  prefixed(labels);
  for (const [k, v] of Object.entries(labels)) if (isPlainPodLabel(k)) out[k] ??= v;
  prefixed(attributes);
  return out;
}
