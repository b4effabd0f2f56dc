/**
 * @module An Elasticsearch document as a record, whichever shipper wrote it:
 *  - the line is the first string of `message` (ViaQ, Vector, rsyslog, Filebeat), `log` (Fluent
 *    Bit's tail and CRI parsers) or `msg`; a document with none is kept whole as its JSON text;
 *  - the time is `@timestamp`, else `time`, else `timestamp` (RFC 3339 to the nanosecond, or epoch
 *    numbers told apart by size: formats/time-value.ts); none, or one that does not parse, is now;
 *  - Kubernetes metadata, nested (`{"kubernetes":{"namespace_name":...}}`, as Fluent Bit's
 *    kubernetes filter and ViaQ write it) or dotted (`"kubernetes.namespace_name"`), becomes the
 *    ViaQ-named labels `kubernetes_namespace_name`, `kubernetes_pod_name`,
 *    `kubernetes_container_name` and `kubernetes_host` (the aliases find them as `namespace`, `pod`,
 *    `container`, `node`); ViaQ's `log_type` names the class;
 *  - the index the item went to is the label `index`;
 *  - every other field is structured metadata, flattened with `_` (`kubernetes_labels_app`: the pod
 *    labels' ViaQ spelling), except the message and time fields themselves.
 */

import { ValueSets } from '../../model/intern.js';
import { flattenJson } from '../../model/names.js';
import type { RawRecord } from '../../model/normalize.js';
import type { Labels } from '../../model/record.js';
import { MAX_JSON_VALUES } from '../../util/json-bounds.js';
import { FormatError } from '../errors.js';
import { parseTimeValue } from '../time-value.js';
import { type BulkItem, type DocumentSink, parseBulk } from './bulk.js';

export const MESSAGE_KEYS = ['message', 'log', 'msg'] as const;
export const ES_TIME_KEYS = ['@timestamp', 'time', 'timestamp'] as const;

/** Fluent Bit's / ViaQ's `kubernetes.*` field → label. */
const KUBE_LABELS: readonly [string, string][] = [
  ['namespace_name', 'kubernetes_namespace_name'],
  ['pod_name', 'kubernetes_pod_name'],
  ['container_name', 'kubernetes_container_name'],
  ['host', 'kubernetes_host'],
];
const LOG_TYPES = new Set(['application', 'infrastructure', 'audit']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * One labels object per stream (kept across requests by the receiver, bounded), so the intake
 * normalises and checks each once. documentRecord's labels come in one fixed order of names, so
 * their values alone tell two sets apart, and the object is built only for a new one.
 */
export class LabelSets extends ValueSets<Labels> {
  constructor() {
    super(LABEL_NAMES);
  }
}

/** The labels a document may have, in their one order. */
const LABEL_NAMES = [...KUBE_LABELS.map(([, label]) => label), 'log_type', 'index'];

/** A `kubernetes.*` field's label, by the field's name. */
const KUBE_LABEL_OF = new Map(KUBE_LABELS);

function kubeField(doc: Obj, kube: Obj | undefined, name: string): unknown {
  if (kube !== undefined && kube[name] !== undefined) return kube[name];
  return doc[`kubernetes.${name}`];
}

/** The record of an `index`/`create` item's document. */
export function documentRecord(doc: Obj, index: string, now: bigint, sets: LabelSets): RawRecord {
  let messageKey: string | undefined;
  for (const k of MESSAGE_KEYS) {
    if (typeof doc[k] === 'string') {
      messageKey = k;
      break;
    }
  }
  let timeKey: string | undefined;
  let ts: bigint | undefined;
  for (const k of ES_TIME_KEYS) {
    const v = doc[k];
    if (v === undefined || v === null || v === '') continue;
    ts = parseTimeValue(v);
    if (ts !== undefined) {
      timeKey = k;
      break;
    }
  }
  // Absent or empty: no label (a label set has no empty values).
  const values: (string | undefined)[] = [];
  const kube = isObj(doc.kubernetes) ? doc.kubernetes : undefined;
  for (const [field] of KUBE_LABELS) {
    const v = kubeField(doc, kube, field);
    values.push(typeof v === 'string' && v !== '' ? v : undefined);
  }
  values.push(typeof doc.log_type === 'string' && LOG_TYPES.has(doc.log_type) ? doc.log_type : undefined);
  values.push(index !== '' ? index : undefined);
  const labels = sets.of(values);
  if (messageKey === undefined) {
    return {
      timestamp: ts ?? now,
      observedTimestamp: now,
      labels,
      attributes: {},
      body: JSON.stringify(doc),
    };
  }
  // The other fields, without what became the line, the time or a label (not kept twice).
  const attributes: Record<string, string> = {};
  for (const k in doc) {
    if (k === messageKey || k === timeKey) continue;
    const v = doc[k];
    if (k === 'kubernetes' && isObj(v)) {
      for (const kk in v) {
        // A field that became a label is not kept twice (found without building its name).
        const label = KUBE_LABEL_OF.get(kk);
        if (label !== undefined && labels[label] !== undefined) continue;
        flattenJson(v[kk], `kubernetes_${kk}`, attributes);
      }
      continue;
    }
    if (k === 'log_type' && labels.log_type !== undefined) continue;
    if (k.startsWith('kubernetes.') && labels[`kubernetes_${k.slice(11)}`] !== undefined) continue;
    flattenJson(v, k, attributes);
  }
  return {
    timestamp: ts ?? now,
    observedTimestamp: now,
    labels,
    attributes,
    body: doc[messageKey] as string,
  };
}

/**
 * Elasticsearch's default mapping limits: `index.mapping.depth.limit` (20 levels of inner objects;
 * here arrays count as a level too) and `index.mapping.total_fields.limit` (1,000 fields; here the
 * leaf values of one document). A document past them is refused alone, as Elasticsearch refuses it,
 * before it is flattened (which recurses once per level and makes an attribute per leaf).
 */
export const ES_MAX_DEPTH = 20;
export const ES_MAX_FIELDS = 1000;
const TOO_DEEP = -1;
const TOO_WIDE = -2;

/** The leaf values of `v` (at `depth` levels), or TOO_DEEP / TOO_WIDE past a limit. */
function leafCount(v: unknown, depth: number, budget: number): number {
  if (v === null || typeof v !== 'object') return 1;
  if (depth > ES_MAX_DEPTH) return TOO_DEEP;
  let n = 0;
  if (Array.isArray(v)) {
    for (const x of v) {
      const k = leafCount(x, depth + 1, budget - n);
      if (k < 0) return k;
      n += k;
      if (n > budget) return TOO_WIDE;
    }
    return n;
  }
  for (const key in v) {
    const k = leafCount((v as Obj)[key], depth + 1, budget - n);
    if (k < 0) return k;
    n += k;
    if (n > budget) return TOO_WIDE;
  }
  return n;
}

/**
 * A bulk body's records, made as each document is parsed (./bulk.ts `parseBulk` with a sink), so
 * that the body's documents are never all alive at once. Bounded: a document past Elasticsearch's
 * mapping limits is refused alone, and the fields kept over the whole body are at most
 * `maxBodyFields` (the JSON bounds' values limit: past it the request is refused, 413).
 */
export function bulkBodyRecords(
  body: Buffer,
  defaultIndex: string,
  maxItems: number,
  now: bigint,
  sets: LabelSets,
  maxBodyFields = MAX_JSON_VALUES,
): { items: BulkItem[]; records: RawRecord[]; slot: number[] } {
  const records: RawRecord[] = [];
  let fields = 0;
  const sink: DocumentSink = (doc, index) => {
    const n = leafCount(doc, 1, ES_MAX_FIELDS);
    if (n === TOO_DEEP) {
      return {
        type: 'illegal_argument_exception',
        reason: `Limit of mapping depth [${ES_MAX_DEPTH}] has been exceeded`,
        status: 400,
      };
    }
    if (n === TOO_WIDE) {
      return {
        type: 'illegal_argument_exception',
        reason: `Limit of total fields [${ES_MAX_FIELDS}] has been exceeded`,
        status: 400,
      };
    }
    fields += n;
    if (fields > maxBodyFields) {
      throw new FormatError(
        'too-large',
        `request body too large: its documents hold more than ${maxBodyFields} values`,
      );
    }
    records.push(documentRecord(doc, index, now, sets));
    return undefined;
  };
  const items = parseBulk(body, defaultIndex, maxItems, sink);
  const slot = new Array<number>(items.length);
  let next = 0;
  for (let i = 0; i < items.length; i++) slot[i] = items[i]!.error ? -1 : next++;
  return { items, records, slot };
}
