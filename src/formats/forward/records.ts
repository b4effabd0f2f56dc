/**
 * @module What a Fluentd event becomes: a record whose stream labels are the tag (`tag`) and, for
 * events of Fluent Bit's and Fluentd's kubernetes filters (`kubernetes.namespace_name`,
 * `pod_name`, `container_name`, `host`), the pod's namespace, pod, container and node, as the
 * agent labels container logs; the line is `log`, `message` or `msg` (the first that is a string:
 * the docker/CRI parsers' `log`, syslog's `message`), else the whole record as JSON. The other
 * fields are structured metadata, nested ones flattened with `_` (model/names.ts).
 */
import { flattenJson, safeName } from '../../model/names.js';
import type { RawRecord } from '../../model/normalize.js';
import type { Labels } from '../../model/record.js';
import type { FluentRecord, ForwardEvent } from './decode.js';

const BODY_KEYS = ['log', 'message', 'msg'] as const;

/** Stream labels per tag and pod: one object per distinct set, shared by its records. */
export class ForwardLabels {
  private readonly cache = new Map<string, Labels>();

  of(tag: string, k8s: Record<string, unknown> | undefined): Labels {
    const ns = str(k8s?.namespace_name);
    const pod = str(k8s?.pod_name);
    const container = str(k8s?.container_name);
    const node = str(k8s?.host);
    const key = `${tag}\u0000${ns}\u0000${pod}\u0000${container}\u0000${node}`;
    let labels = this.cache.get(key);
    if (!labels) {
      if (this.cache.size > 10_000) this.cache.clear();
      labels = { source: 'forward', tag };
      if (ns) labels.namespace = ns;
      if (pod) labels.pod = pod;
      if (container) labels.container = container;
      if (node) labels.node = node;
      this.cache.set(key, labels);
    }
    return labels;
  }
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function jsonText(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? Buffer.from(x).toString('utf8') : x,
  );
}

/** The record of one event (raw: labels not yet normalised). */
export function forwardRecord(
  e: ForwardEvent,
  tag: string,
  labels: ForwardLabels,
  receivedNs: bigint,
): RawRecord {
  const r: FluentRecord = e.record;
  let bodyKey: string | undefined;
  for (const k of BODY_KEYS) {
    if (typeof r[k] === 'string') {
      bodyKey = k;
      break;
    }
  }
  const k8s = r.kubernetes;
  const k8sMap =
    typeof k8s === 'object' && k8s !== null && !Array.isArray(k8s)
      ? (k8s as Record<string, unknown>)
      : undefined;
  const attributes: Record<string, string> = {};
  for (const key in r) {
    if (key === bodyKey) continue;
    const v = r[key];
    if (typeof v === 'string') attributes[safeName(key)] = v;
    else if (v instanceof Uint8Array) attributes[safeName(key)] = Buffer.from(v).toString('utf8');
    else flattenJson(typeof v === 'bigint' ? v.toString() : v, key, attributes);
  }
  return {
    timestamp: e.timeNs,
    observedTimestamp: receivedNs,
    labels: labels.of(tag, k8sMap),
    attributes,
    body: bodyKey !== undefined ? (r[bodyKey] as string) : jsonText(r),
  };
}
