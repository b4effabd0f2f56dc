/**
 * @module kind and class: derived for every record and kept as stream labels.
 * The class rule is korrel8r's `logTypeForNamespace`.
 */
import { kubeMeta, labelValue } from './kube-meta.js';
import { isKind, isLogClass, type Kind, type Labels, type LogClass } from './record.js';

/** korrel8r: `default`, `kube`, `openshift`, `kube-*` and `openshift-*` are infrastructure namespaces. */
export function classForNamespace(namespace: string): LogClass {
  if (
    namespace === 'default' ||
    namespace === 'kube' ||
    namespace === 'openshift' ||
    namespace.startsWith('kube-') ||
    namespace.startsWith('openshift-')
  ) {
    return 'infrastructure';
  }
  return 'application';
}

export function deriveKind(labels: Labels): Kind {
  const given = labels.kind;
  if (given !== undefined && isKind(given)) return given;
  const meta = kubeMeta(labels);
  if (meta.namespace !== undefined && (meta.pod !== undefined || meta.container !== undefined)) {
    return 'containerlog';
  }
  return 'log';
}

export function deriveClass(labels: Labels, kind: Kind): LogClass {
  if (kind === 'auditevent') return 'audit';
  const given = labelValue(labels, 'class');
  if (given !== undefined && isLogClass(given)) return given;
  const ns = labelValue(labels, 'namespace');
  if (ns !== undefined && ns !== '') return classForNamespace(ns);
  // Node and runtime logs (journal, syslog, Kata) belong to the infrastructure.
  return 'infrastructure';
}

/**
 * Returns the labels with `kind` and `class` set. Labels given under Viaq's `log_type` or OTEL's
 * `openshift_log_type` stay as they are and also decide the class.
 */
export function withKindAndClass(labels: Labels): Labels {
  const kind = deriveKind(labels);
  const cls = deriveClass(labels, kind);
  if (labels.kind === kind && labels.class === cls) return labels;
  return { ...labels, kind, class: cls };
}
