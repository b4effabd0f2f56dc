/**
 * @module OTLP log records as kjournal records, mapped as Loki 3 maps them with its default OTLP
 * config (pkg/loghttp/push/otlp.go, otlp_config.go):
 *  - the well-known resource attributes (`service.name`, `k8s.namespace.name`, `k8s.pod.name`,
 *    `k8s.container.name`, ... Loki's "blessed" list) become stream labels, named as Prometheus
 *    normalises them (otlptranslator.NormalizeLabel: every character but [A-Za-z0-9_] becomes `_`,
 *    so `k8s.namespace.name` is `k8s_namespace_name`, which the existing aliases also find as
 *    `namespace`); kvlist values are flattened with `_`;
 *  - a resource without `service.name` gets `service_name` discovered from those labels (Loki's
 *    default discover_service_name list), else `unknown_service`;
 *  - every other resource attribute, the scope's attributes, name and version, and the record's
 *    attributes become structured metadata, as do `severity_number`, `severity_text`, `trace_id`,
 *    `span_id` (hex), `flags`, `dropped_attributes_count` and `observed_timestamp`;
 *  - the line is the body's AsString (a map or array body is its JSON), the time the record's
 *    time, else its observed time, else now.
 * Loki keeps structured metadata as a list that may repeat a name; here it is a map, so a log
 * attribute wins over a scope attribute, which wins over a resource attribute of the same name.
 * The node's `k8s.node.name` is a label too (beyond Loki's list: kjournal's `node` alias reads it).
 */
import { SetInterner } from '../../model/intern.js';
import type { RawRecord } from '../../model/normalize.js';
import type { Labels } from '../../model/record.js';
import { asString, type KeyValue, KvList, type OtlpLogRecord, type OtlpResourceLogs } from './model.js';

/** Loki's default index labels (otlp_config.go blessedAttributes), and `k8s.node.name`. */
export const OTLP_INDEX_ATTRIBUTES: ReadonlySet<string> = new Set([
  'service.name',
  'service.namespace',
  'service.instance.id',
  'deployment.environment',
  'cloud.region',
  'cloud.availability_zone',
  'k8s.cluster.name',
  'k8s.namespace.name',
  'k8s.pod.name',
  'k8s.container.name',
  'container.name',
  'k8s.replicaset.name',
  'k8s.deployment.name',
  'k8s.statefulset.name',
  'k8s.daemonset.name',
  'k8s.cronjob.name',
  'k8s.job.name',
  'k8s.node.name',
]);

/** Loki's default `discover_service_name` (pkg/validation/limits.go). */
const DISCOVER_SERVICE_NAME = [
  'service',
  'app',
  'application',
  'app_name',
  'name',
  'app_kubernetes_io_name',
  'container',
  'container_name',
  'k8s_container_name',
  'component',
  'workload',
  'job',
  'k8s_job_name',
];
const UNKNOWN_SERVICE = 'unknown_service';

const INVALID = /[^A-Za-z0-9_]/g;

/** Attribute names repeat on every record: each is normalised once (bounded: cleared when full). */
const normalized = new Map<string, string>();

/** otlptranslator.NormalizeLabel: invalid characters to `_`, `key_` before a digit, `key` before one `_`. */
export function normalizeLabel(name: string): string {
  const known = normalized.get(name);
  if (known !== undefined) return known;
  const n = normalizeUncached(name);
  if (normalized.size >= 10_000) normalized.clear();
  normalized.set(name, n);
  return n;
}

function normalizeUncached(name: string): string {
  if (name === '') return name;
  const s = name.replace(INVALID, '_');
  const c = s.charCodeAt(0);
  if (c >= 0x30 && c <= 0x39) return `key_${s}`;
  if (s.startsWith('_') && !s.startsWith('__')) return `key${s}`;
  return s;
}

/** attributeToLabels: a kvlist is flattened (`prefix_key`), anything else is its AsString. */
function addAttribute(
  out: Record<string, string>,
  key: string,
  value: KeyValue['value'],
  prefix: string,
): void {
  const name = normalizeLabel(prefix === '' ? key : `${prefix}_${key}`);
  if (value instanceof KvList) {
    for (const kv of value.values) addAttribute(out, kv.key, kv.value, name);
    return;
  }
  out[name] = asString(value);
}

export interface OtlpRecordOptions {
  /** Observed time of every record, and the time of one that has none. */
  readonly now: bigint;
  /**
   * Where equal label sets become one object; a receiver keeps one across requests, so that what
   * is learnt of a stream's labels object (normalised, checked) holds for its next request.
   */
  readonly labelSets?: SetInterner<Labels>;
}

/** A record's structured metadata: its scope's (and resource's), then its own. */
function recordMeta(scopeMeta: Record<string, string>, r: OtlpLogRecord): Record<string, string> {
  // Copied by a loop, not a spread: V8's spread clone then one more property (the observed time,
  // on every record) was 4 times slower, a twentieth of the receiver's time.
  const meta: Record<string, string> = {};
  for (const k in scopeMeta) meta[k] = scopeMeta[k]!;
  for (const kv of r.attributes) addAttribute(meta, kv.key, kv.value, '');
  if (r.timeUnixNano !== 0n && r.observedTimeUnixNano !== 0n)
    meta.observed_timestamp = String(r.observedTimeUnixNano);
  if (r.severityNumber !== 0) meta.severity_number = String(r.severityNumber);
  if (r.severityText !== '') meta.severity_text = r.severityText;
  if (r.droppedAttributesCount !== 0) meta.dropped_attributes_count = String(r.droppedAttributesCount);
  if (r.flags !== 0) meta.flags = String(r.flags);
  if (r.traceId !== '') meta.trace_id = r.traceId;
  if (r.spanId !== '') meta.span_id = r.spanId;
  return meta;
}

/** Metadata objects of a scope's plain records, by observed time, each with a record it is of. */
type SameMeta = Map<bigint, { readonly meta: Record<string, string>; readonly r: OtlpLogRecord }[]>;

/**
 * A record with no attributes, trace or flags of its own has the metadata of its scope, its
 * observed time and its severity, and records of one request often have all three alike: an SDK
 * stamps the observed time in milliseconds (the JS SDK's bodies in the bench: 2,000 records, 22
 * observed times). Such records share one metadata object, so that what comes after (the trip
 * from the decode worker, the write-ahead log's text of it) is done once per object, not per
 * record (the pipeline never changes a record's attributes in place: HEC, bulk and the journal
 * share them too). A request whose plain records seldom match (a collector stamping nanoseconds)
 * stops looking after 256 of them.
 */
class SharedMeta {
  /** Scope metadata alike (names in the same order) as one object, the key of `scopes`. */
  private readonly scopeMetas = new SetInterner<Record<string, string>>();
  private readonly scopes = new Map<Record<string, string>, SameMeta>();
  private tries = 0;
  private hits = 0;
  private on = true;

  /** The shared metadata of the scopes with this metadata, while sharing pays. */
  scope(scopeMeta: Record<string, string>): SameMeta | undefined {
    if (!this.on) return undefined;
    const key = this.scopeMetas.intern(scopeMeta);
    let same = this.scopes.get(key);
    if (same === undefined) {
      same = new Map();
      this.scopes.set(key, same);
    }
    return same;
  }

  /** `r`'s metadata: that of an earlier plain record of the same scope metadata if it is alike. */
  meta(same: SameMeta, scopeMeta: Record<string, string>, r: OtlpLogRecord): Record<string, string> {
    if (!this.on || !plain(r)) return recordMeta(scopeMeta, r);
    this.tries++;
    if (this.tries === 256 && this.hits < 64) this.on = false;
    let at = same.get(r.observedTimeUnixNano);
    if (at === undefined) {
      at = [];
      same.set(r.observedTimeUnixNano, at);
    }
    for (const e of at) {
      if (e.r.severityNumber === r.severityNumber && e.r.severityText === r.severityText) {
        this.hits++;
        return e.meta;
      }
    }
    const meta = recordMeta(scopeMeta, r);
    // A few severities at one time; not one scan of thousands per record (a hostile request).
    if (at.length < 4) at.push({ meta, r });
    return meta;
  }
}

/** A record whose metadata is its scope's, its observed time and its severity. */
function plain(r: OtlpLogRecord): boolean {
  return (
    r.attributes.length === 0 &&
    r.timeUnixNano !== 0n &&
    r.observedTimeUnixNano !== 0n &&
    r.flags === 0 &&
    r.traceId === '' &&
    r.spanId === '' &&
    r.droppedAttributesCount === 0
  );
}

/** The records of a decoded request, in order. */
export function otlpRecords(resources: readonly OtlpResourceLogs[], opts: OtlpRecordOptions): RawRecord[] {
  const out: RawRecord[] = [];
  const labelSets = opts.labelSets ?? new SetInterner<Labels>();
  const sharing = new SharedMeta();
  for (const rl of resources) {
    const labels: Record<string, string> = {};
    const resourceMeta: Record<string, string> = {};
    let hasServiceName = false;
    for (const kv of rl.attributes) {
      if (OTLP_INDEX_ATTRIBUTES.has(kv.key)) {
        addAttribute(labels, kv.key, kv.value, '');
        if (kv.key === 'service.name' && asString(kv.value) !== '') hasServiceName = true;
      } else addAttribute(resourceMeta, kv.key, kv.value, '');
    }
    // Loki drops empty label values (a label set has no empty values).
    for (const k of Object.keys(labels)) if (labels[k] === '') delete labels[k];
    if (!hasServiceName) {
      const found = DISCOVER_SERVICE_NAME.find((n) => labels[n] !== undefined);
      labels.service_name = found === undefined ? UNKNOWN_SERVICE : labels[found]!;
    }
    // Records of the same labels share one object: the journal normalises it once. Keyed in the
    // resource's order of attributes (a sender repeats its resources as they are): sorting them
    // was the largest cost of this function.
    const shared = labelSets.intern(labels);
    for (const sl of rl.scopeLogs) {
      const scopeMeta: Record<string, string> = { ...resourceMeta };
      const scope = sl.scope;
      for (const kv of scope.attributes) addAttribute(scopeMeta, kv.key, kv.value, '');
      if (scope.name !== '') scopeMeta.scope_name = scope.name;
      if (scope.version !== '') scopeMeta.scope_version = scope.version;
      if (scope.droppedAttributesCount !== 0)
        scopeMeta.scope_dropped_attributes_count = String(scope.droppedAttributesCount);
      const same = sharing.scope(scopeMeta);
      for (const r of sl.logRecords) {
        const meta = same ? sharing.meta(same, scopeMeta, r) : recordMeta(scopeMeta, r);
        const ts =
          r.timeUnixNano !== 0n
            ? r.timeUnixNano
            : r.observedTimeUnixNano !== 0n
              ? r.observedTimeUnixNano
              : opts.now;
        out.push({
          timestamp: ts,
          observedTimestamp: opts.now,
          labels: shared,
          attributes: meta,
          body: asString(r.body),
        });
      }
    }
  }
  return out;
}
