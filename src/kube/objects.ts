/**
 * @module Stored entries as `core.kjournal/v1alpha1` objects: ContainerLog, Event (the
 * `events.k8s.io/v1` shape, converted from core/v1 Events), AuditEvent (audit.k8s.io/v1 fields) and
 * Log. Names are stable and unique: `<prefix>.<timestamp ns>.<sequence number>`, so that a name alone
 * finds its entry again.
 */
import { createHash } from 'node:crypto';
import { labelValue, podLabelsOf } from '../model/kube-meta.js';
import { formatRfc3339Nano, NS_PER_SECOND } from '../model/time.js';
import type { StoredEntry } from '../store/store.js';
import { checkJsonBounds, MAX_JSON_DEPTH } from '../util/json-bounds.js';
import { GROUP_VERSION, type KubeResource } from './resources.js';

/** The annotation holding the creation time at nanosecond precision. */
export const TIMESTAMP_ANNOTATION = 'core.kjournal/timestamp';

export type KubeObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
};

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  labels?: Record<string, string>;
  annotations: Record<string, string>;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A name prefix: lower case letters, digits and dashes, as a DNS label. */
export function namePrefix(text: string | undefined, fallback: string): string {
  const p = (text ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 200);
  return p === '' ? fallback : p;
}

export function objectName(prefix: string, timestamp: bigint, seq: bigint): string {
  return `${prefix}.${timestamp}.${seq}`;
}

/** The timestamp and sequence number a name encodes; undefined when it is not one of ours. */
export function parseObjectName(name: string): { timestamp: bigint; seq: bigint } | undefined {
  const m = /^[a-z0-9-]+\.(\d{1,20})\.(\d{1,20})$/.exec(name);
  if (!m) return undefined;
  return { timestamp: BigInt(m[1]!), seq: BigInt(m[2]!) };
}

/** A stable UUID (version 5 style) from the tenant and the entry's identity. */
export function stableUid(tenant: string, timestamp: bigint, seq: bigint): string {
  const h = createHash('sha1').update(`kjournal/${tenant}/${timestamp}/${seq}`).digest('hex');
  const variant = ((Number.parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** RFC 3339 in whole seconds, as metav1.Time serialises. */
export function formatSeconds(ns: bigint): string {
  return formatRfc3339Nano(ns - (((ns % NS_PER_SECOND) + NS_PER_SECOND) % NS_PER_SECOND));
}

/** RFC 3339 with microseconds, as metav1.MicroTime serialises. */
export function formatMicro(ns: bigint): string {
  const base = formatSeconds(ns).slice(0, -1);
  const frac = (((ns % NS_PER_SECOND) + NS_PER_SECOND) % NS_PER_SECOND) / 1000n;
  return `${base}.${frac.toString().padStart(6, '0')}Z`;
}

/**
 * Whether a stored body is shallow enough to become part of an answer. A line nested deeper than
 * JSON bodies may be (a 200 KB line of `[[[…` fits Loki's 256 KB line limit) parses, but its
 * answer cannot be serialised (JSON.stringify recurses: "Maximum call stack size exceeded"), and
 * every list that held it answered 500: such a body is kept as text.
 */
function shallowJson(body: string): boolean {
  try {
    checkJsonBounds(body, { maxDepth: MAX_JSON_DEPTH, maxValues: Number.POSITIVE_INFINITY });
    return true;
  } catch {
    return false;
  }
}

/** The body as a payload: the parsed object when the line is a JSON object, else the text. */
export function payloadOf(body: string): unknown {
  const t = body.trimStart();
  if (t.startsWith('{') && shallowJson(body)) {
    try {
      const v: unknown = JSON.parse(body);
      if (isObj(v)) return v;
    } catch {
      // not JSON: the text itself
    }
  }
  return body;
}

function parseBodyObject(body: string): Obj {
  if (!shallowJson(body)) return {};
  try {
    const v: unknown = JSON.parse(body);
    return isObj(v) ? v : {};
  } catch {
    return {};
  }
}

/** Pod labels: from stream labels (Viaq, OTEL or plain spelling), then structured metadata. */
function podLabels(entry: StoredEntry): Record<string, string> {
  return podLabelsOf(entry.stream.labels, entry.attributes);
}

/** A label or, failing that, a structured-metadata value, under any spelling. */
function meta(entry: StoredEntry, name: string): string | undefined {
  return labelValue(entry.stream.labels, name) ?? labelValue(entry.attributes, name);
}

function baseMeta(
  tenant: string,
  entry: StoredEntry,
  prefix: string,
  namespace: string | undefined,
  labels: Record<string, string> | undefined,
): ObjectMeta {
  const seq = entry.seq;
  const m: ObjectMeta = {
    name: objectName(prefix, entry.timestamp, seq),
    uid: stableUid(tenant, entry.timestamp, seq),
    resourceVersion: seq.toString(),
    creationTimestamp: formatSeconds(entry.timestamp),
    annotations: { [TIMESTAMP_ANNOTATION]: formatRfc3339Nano(entry.timestamp) },
  };
  if (namespace !== undefined) m.namespace = namespace;
  if (labels && Object.keys(labels).length > 0) m.labels = labels;
  return m;
}

/** Copies the keys of `from` that are present, in order. */
function pick(from: Obj, keys: readonly string[]): Obj {
  const out: Obj = {};
  for (const k of keys) if (from[k] !== undefined && from[k] !== null) out[k] = from[k];
  return out;
}

export function containerLogObject(tenant: string, entry: StoredEntry): KubeObject {
  const pod = meta(entry, 'pod');
  const namespace = meta(entry, 'namespace') ?? '';
  const obj: KubeObject = {
    apiVersion: GROUP_VERSION,
    kind: 'ContainerLog',
    metadata: baseMeta(tenant, entry, namePrefix(pod, 'containerlog'), namespace, podLabels(entry)),
    pod: pod ?? '',
    container: meta(entry, 'container') ?? '',
    node: meta(entry, 'node') ?? '',
    stream: meta(entry, 'stream') ?? meta(entry, 'log_iostream') ?? '',
    payload: payloadOf(entry.body),
  };
  return obj;
}

/** The event inside an eventrouter line or a watch event, else the object itself. */
function unwrapEvent(o: Obj): Obj {
  if (typeof o.verb === 'string' && isObj(o.event)) return o.event;
  if (typeof o.type === 'string' && isObj(o.object)) return o.object;
  return o;
}

/**
 * A core/v1 Event (or an events.k8s.io/v1 one, kept as is) in the events.k8s.io/v1 shape, as
 * kube-apiserver converts between them.
 */
export function toEventsV1(raw: Obj): Obj {
  const e = unwrapEvent(raw);
  const isCore = e.involvedObject !== undefined || e.message !== undefined || e.source !== undefined;
  if (!isCore) {
    return pick(e, [
      'eventTime',
      'series',
      'reportingController',
      'reportingInstance',
      'action',
      'reason',
      'regarding',
      'related',
      'note',
      'type',
      'deprecatedSource',
      'deprecatedFirstTimestamp',
      'deprecatedLastTimestamp',
      'deprecatedCount',
    ]);
  }
  const source = isObj(e.source) ? e.source : {};
  const out: Obj = {};
  if (e.eventTime !== undefined && e.eventTime !== null) out.eventTime = e.eventTime;
  if (isObj(e.series)) {
    out.series = pick(e.series, ['count', 'lastObservedTime']);
  }
  const controller = e.reportingComponent || source.component;
  if (controller) out.reportingController = controller;
  const instance = e.reportingInstance || source.host;
  if (instance) out.reportingInstance = instance;
  if (e.action !== undefined) out.action = e.action;
  if (e.reason !== undefined) out.reason = e.reason;
  if (isObj(e.involvedObject)) out.regarding = e.involvedObject;
  if (isObj(e.related)) out.related = e.related;
  if (e.message !== undefined) out.note = e.message;
  if (e.type !== undefined) out.type = e.type;
  if (Object.keys(source).length > 0) out.deprecatedSource = source;
  if (e.firstTimestamp) out.deprecatedFirstTimestamp = e.firstTimestamp;
  if (e.lastTimestamp) out.deprecatedLastTimestamp = e.lastTimestamp;
  if (typeof e.count === 'number') out.deprecatedCount = e.count;
  return out;
}

export function eventObject(tenant: string, entry: StoredEntry): KubeObject {
  const raw = parseBodyObject(entry.body);
  const e = unwrapEvent(raw);
  const v1 = toEventsV1(raw);
  const regarding = isObj(v1.regarding) ? v1.regarding : {};
  const origMeta = isObj(e.metadata) ? e.metadata : {};
  const namespace =
    (typeof regarding.namespace === 'string' && regarding.namespace) ||
    (typeof origMeta.namespace === 'string' && origMeta.namespace) ||
    meta(entry, 'namespace') ||
    'default';
  const labels = isObj(origMeta.labels) ? (origMeta.labels as Record<string, string>) : undefined;
  const md = baseMeta(
    tenant,
    entry,
    namePrefix(typeof regarding.name === 'string' ? regarding.name : undefined, 'event'),
    namespace,
    labels,
  );
  if (typeof origMeta.name === 'string') md.annotations['core.kjournal/event-name'] = origMeta.name;
  if (typeof origMeta.uid === 'string') md.annotations['core.kjournal/event-uid'] = origMeta.uid;
  // Every event has an eventTime in this API: the newest time the event carries (its entry time).
  if (v1.eventTime === undefined) v1.eventTime = formatMicro(entry.timestamp);
  return { apiVersion: GROUP_VERSION, kind: 'Event', metadata: md, ...v1 };
}

const AUDIT_FIELDS = [
  'level',
  'auditID',
  'stage',
  'requestURI',
  'verb',
  'user',
  'impersonatedUser',
  'sourceIPs',
  'userAgent',
  'objectRef',
  'responseStatus',
  'requestObject',
  'responseObject',
  'requestReceivedTimestamp',
  'stageTimestamp',
  'annotations',
];

export function auditEventObject(tenant: string, entry: StoredEntry): KubeObject {
  const e = parseBodyObject(entry.body);
  return {
    apiVersion: GROUP_VERSION,
    kind: 'AuditEvent',
    metadata: baseMeta(tenant, entry, 'audit', undefined, undefined),
    ...pick(e, AUDIT_FIELDS),
  };
}

export function logObject(tenant: string, entry: StoredEntry): KubeObject {
  const node = meta(entry, 'node');
  return {
    apiVersion: GROUP_VERSION,
    kind: 'Log',
    metadata: baseMeta(tenant, entry, namePrefix(node, 'log'), undefined, undefined),
    node: node ?? '',
    source: meta(entry, 'source') ?? meta(entry, 'unit') ?? meta(entry, 'job') ?? '',
    // The program that wrote the line: syslog's APP-NAME (formats/syslog-record.ts), journald's
    // SYSLOG_IDENTIFIER (formats/journal-records.ts); absent for other node logs.
    ...programOf(entry),
    payload: payloadOf(entry.body),
  };
}

function programOf(entry: StoredEntry): { program?: string } {
  const p = meta(entry, 'appname') ?? meta(entry, 'syslog_identifier');
  return p !== undefined && p !== '' ? { program: p } : {};
}

/** The object for an entry of a resource. */
export function toObject(resource: KubeResource, tenant: string, entry: StoredEntry): KubeObject {
  switch (resource.storeKind) {
    case 'containerlog':
      return containerLogObject(tenant, entry);
    case 'event':
      return eventObject(tenant, entry);
    case 'auditevent':
      return auditEventObject(tenant, entry);
    case 'log':
      return logObject(tenant, entry);
  }
}

/** The value at a dotted path (`user.username`, `payload.a.b`) as selector text; undefined if absent. */
export function fieldValue(obj: unknown, path: string): string | undefined {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (!isObj(cur) || !Object.hasOwn(cur, part)) return undefined;
    cur = cur[part];
  }
  if (cur === undefined || cur === null) return undefined;
  if (typeof cur === 'string') return cur;
  if (typeof cur === 'number' || typeof cur === 'boolean' || typeof cur === 'bigint') return String(cur);
  return JSON.stringify(cur);
}
