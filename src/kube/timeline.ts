/**
 * @module One object's timeline (issue 18): which `core.kjournal/v1alpha1` lists tell the story of
 * one Kubernetes object, and how their items merge in time order. For `pod/web-1` in `shop`: its
 * container logs (`containerlogs`, field `pod`), the Events about it (`events`, fields
 * `regarding.kind`/`regarding.name`) and the audit events that named it (`auditevents`, fields
 * `objectRef.resource`/`objectRef.name`/`objectRef.namespace`); a Node adds its node logs (`logs`,
 * field `node`). Pure: the CLI (`kjournal timeline`) and the web page (web/src/timeline.tsx) both
 * build their requests and merge their answers here. Object references are written as kubectl
 * writes them (`pod/NAME`, `deploy/NAME`, `nodes/NAME`).
 */

/** An object a timeline follows. */
export interface ObjectRef {
  /** The Kind, as Events' `regarding.kind` has it: `Pod`. */
  readonly kind: string;
  /** The resource, as audit events' `objectRef.resource` has it: `pods`. */
  readonly resource: string;
  readonly name: string;
  /** Empty for cluster-scoped objects (Nodes, Namespaces). */
  readonly namespace: string;
}

/** kubectl's names for the common kinds: singular, plural and short names → [Kind, resource]. */
const KINDS: readonly (readonly [kind: string, resource: string, ...aliases: string[]])[] = [
  ['Pod', 'pods', 'pod', 'po'],
  ['Deployment', 'deployments', 'deployment', 'deploy'],
  ['ReplicaSet', 'replicasets', 'replicaset', 'rs'],
  ['StatefulSet', 'statefulsets', 'statefulset', 'sts'],
  ['DaemonSet', 'daemonsets', 'daemonset', 'ds'],
  ['Job', 'jobs', 'job'],
  ['CronJob', 'cronjobs', 'cronjob', 'cj'],
  ['Service', 'services', 'service', 'svc'],
  ['Node', 'nodes', 'node', 'no'],
  ['Namespace', 'namespaces', 'namespace', 'ns'],
  ['ConfigMap', 'configmaps', 'configmap', 'cm'],
  ['Secret', 'secrets', 'secret'],
  ['PersistentVolumeClaim', 'persistentvolumeclaims', 'persistentvolumeclaim', 'pvc'],
  ['PersistentVolume', 'persistentvolumes', 'persistentvolume', 'pv'],
  ['Ingress', 'ingresses', 'ingress', 'ing'],
  ['ServiceAccount', 'serviceaccounts', 'serviceaccount', 'sa'],
  ['HorizontalPodAutoscaler', 'horizontalpodautoscalers', 'horizontalpodautoscaler', 'hpa'],
];
const CLUSTER_SCOPED = new Set(['Node', 'Namespace', 'PersistentVolume']);

export class ObjectRefError extends Error {
  readonly code = 'INVALID_OBJECT_REF';
}

/** A Kind's resource when it is not in the table: `NetworkPolicy` → `networkpolicies`, as kube's RESTMapper guesses. */
function guessResource(kind: string): string {
  const k = kind.toLowerCase();
  if (k.endsWith('y') && !/[aeiou]y$/.test(k)) return `${k.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(k)) return `${k}es`;
  return `${k}s`;
}

/**
 * Parses `TYPE/NAME` as kubectl does (`pod/web-1`, `deploy/api`, `nodes/n1`, or a Kind it does not
 * know: `NetworkPolicy/deny`); `namespace` is dropped for cluster-scoped kinds.
 */
export function parseObjectRef(text: string, namespace: string): ObjectRef {
  const m = /^([A-Za-z][A-Za-z0-9.]*)\/([^/\s]+)$/.exec(text.trim());
  if (!m)
    throw new ObjectRefError(`want TYPE/NAME (pod/web-1, deploy/api, node/n1), got ${JSON.stringify(text)}`);
  const type = m[1]!.split('.')[0]!;
  const name = m[2]!;
  const known = KINDS.find(([kind, resource, ...aliases]) =>
    [kind.toLowerCase(), resource, ...aliases].includes(type.toLowerCase()),
  );
  const kind = known ? known[0] : type.charAt(0).toUpperCase() + type.slice(1);
  const resource = known ? known[1] : guessResource(type);
  return { kind, resource, name, namespace: CLUSTER_SCOPED.has(kind) ? '' : namespace };
}

/** `pod/web-1` for a reference (kubectl's TYPE/NAME with the singular lower-case type). */
export function formatObjectRef(ref: ObjectRef): string {
  return `${ref.kind.toLowerCase()}/${ref.name}`;
}

/** One list request of a timeline: the resource, the namespace of its path, its field selector. */
export interface TimelineSource {
  /** What the items are, as the timeline marks them. */
  readonly mark: 'log' | 'event' | 'audit';
  readonly resource: 'containerlogs' | 'logs' | 'events' | 'auditevents';
  /** The namespace of the list's path; empty for a cluster-wide list. */
  readonly namespace: string;
  readonly fieldSelector: string;
}

/** A field selector value with kube's escapes (`\\`, `,`, `=`: fields.EscapeValue). */
function esc(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/,/g, '\\,').replace(/=/g, '\\=');
}

/**
 * The lists that tell `ref`'s story between `from` and `to` (RFC 3339): as field selectors of the
 * `core.kjournal` API, with the time as `metadata.creationTimestamp`, so each list covers the range.
 */
export function timelineSources(ref: ObjectRef, from: string, to: string): TimelineSource[] {
  const time = `metadata.creationTimestamp>=${from},metadata.creationTimestamp<=${to}`;
  const out: TimelineSource[] = [];
  if (ref.kind === 'Pod') {
    out.push({
      mark: 'log',
      resource: 'containerlogs',
      namespace: ref.namespace,
      fieldSelector: `pod=${esc(ref.name)},${time}`,
    });
  } else if (ref.kind === 'Node') {
    out.push({
      mark: 'log',
      resource: 'logs',
      namespace: '',
      fieldSelector: `node=${esc(ref.name)},${time}`,
    });
  }
  out.push({
    mark: 'event',
    resource: 'events',
    namespace: ref.namespace,
    fieldSelector: `regarding.kind=${esc(ref.kind)},regarding.name=${esc(ref.name)},${time}`,
  });
  out.push({
    mark: 'audit',
    resource: 'auditevents',
    namespace: '',
    fieldSelector:
      `objectRef.resource=${esc(ref.resource)},objectRef.name=${esc(ref.name)}` +
      (ref.namespace ? `,objectRef.namespace=${esc(ref.namespace)}` : '') +
      `,${time}`,
  });
  return out;
}

/** The path of a source's list under the API group's path. */
export function sourcePath(source: TimelineSource): string {
  const ns = source.namespace ? `/namespaces/${encodeURIComponent(source.namespace)}` : '';
  return `/apis/core.kjournal/v1alpha1${ns}/${source.resource}`;
}

/** The fields of a listed item a timeline reads. */
export interface TimelineObject {
  readonly metadata?: {
    readonly name?: string;
    readonly creationTimestamp?: string;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly [field: string]: unknown;
}

/** One row of a timeline. */
export interface TimelineItem {
  readonly mark: TimelineSource['mark'];
  /** Nanoseconds since the epoch, as a decimal string (sortable by `compareNs`). */
  readonly ns: string;
  /** The time as the object carries it (RFC 3339, up to nanoseconds). */
  readonly time: string;
  /** One line saying what happened. */
  readonly summary: string;
  readonly object: TimelineObject;
}

/** Nanoseconds of an RFC 3339 time with up to nine fractional digits; undefined when it does not parse. */
export function rfc3339Ns(time: string): bigint | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** Orders decimal nanosecond strings. */
export function compareNs(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v);
}

/** What one item says, in one line. */
export function summarize(mark: TimelineSource['mark'], o: TimelineObject): string {
  if (mark === 'event') {
    return `${str(o.type)} ${str(o.reason)}: ${str(o.note)}`.trim();
  }
  if (mark === 'audit') {
    const user = (o.user as { username?: string } | undefined)?.username ?? '';
    const code = (o.responseStatus as { code?: number } | undefined)?.code;
    return `${user} ${str(o.verb)} ${str(o.requestURI)}${code === undefined ? '' : ` → ${code}`}`;
  }
  const container = str(o.container);
  const payload = o.payload !== undefined ? o.payload : o.message;
  return `${container ? `[${container}] ` : ''}${str(payload)}`;
}

/** The item's time: its `core.kjournal/timestamp` annotation (nanoseconds), else its creationTimestamp. */
function itemTime(o: TimelineObject): string {
  return o.metadata?.annotations?.['core.kjournal/timestamp'] ?? o.metadata?.creationTimestamp ?? '';
}

/** The items of the sources' answers, merged oldest first (ties keep the sources' order). */
export function mergeTimeline(
  answers: readonly { readonly mark: TimelineSource['mark']; readonly items: readonly TimelineObject[] }[],
): TimelineItem[] {
  const rows: TimelineItem[] = [];
  for (const a of answers) {
    for (const o of a.items) {
      const time = itemTime(o);
      const ns = rfc3339Ns(time) ?? 0n;
      rows.push({ mark: a.mark, ns: ns.toString(), time, summary: summarize(a.mark, o), object: o });
    }
  }
  // Array.prototype.sort is stable: equal times keep the order the answers came in.
  return rows.sort((x, y) => compareNs(x.ns, y.ns));
}
