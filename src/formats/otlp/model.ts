/**
 * @module OTLP logs as both encodings decode them (opentelemetry-proto's logs/v1 and common/v1):
 * resources, scopes, log records, and AnyValue. `asString` is pdata's `Value.AsString()`, which is
 * what Loki stores (pkg/loghttp/push/otlp.go: the body's AsString as the line, attributes'
 * AsString as structured metadata), so a value reads the same here as in Loki.
 */

/** A kvlist_value: ordered keys and values (a class, to tell it from an array). */
export class KvList {
  constructor(readonly values: KeyValue[]) {}
}

/** AnyValue nests (arrays of kvlists of arrays...): deeper than this is refused, not recursed. */
export const MAX_ANY_VALUE_DEPTH = 100;

/** An AnyValue: string, bool, int (bigint), double (number), bytes, array, kvlist; null when empty. */
export type AnyValue = string | boolean | bigint | number | Uint8Array | AnyValue[] | KvList | null;

export interface KeyValue {
  readonly key: string;
  readonly value: AnyValue;
}

export interface OtlpLogRecord {
  /** Nanoseconds since the epoch; 0n when unset. */
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  severityNumber: number;
  severityText: string;
  body: AnyValue;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  flags: number;
  /** Lower-case hex; '' when unset or all zero bytes. */
  traceId: string;
  spanId: string;
}

export interface OtlpScope {
  name: string;
  version: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
}

export interface OtlpScopeLogs {
  scope: OtlpScope;
  logRecords: OtlpLogRecord[];
}

export interface OtlpResourceLogs {
  attributes: KeyValue[];
  scopeLogs: OtlpScopeLogs[];
}

export const emptyScope = (): OtlpScope => ({
  name: '',
  version: '',
  attributes: [],
  droppedAttributesCount: 0,
});

export const emptyLogRecord = (): OtlpLogRecord => ({
  timeUnixNano: 0n,
  observedTimeUnixNano: 0n,
  severityNumber: 0,
  severityText: '',
  body: null,
  attributes: [],
  droppedAttributesCount: 0,
  flags: 0,
  traceId: '',
  spanId: '',
});

/** Hex of an id, '' for an empty or all-zero id (pdata's IsEmpty). */
export function idHex(bytes: Uint8Array): string {
  let zero = true;
  for (const b of bytes) if (b !== 0) zero = false;
  return zero ? '' : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * pdata's AsString: strings as they are, booleans and numbers as text (a double as JavaScript
 * prints it, which pdata copies: "as if by ES6 number to string conversion"), bytes as standard
 * base64, arrays and kvlists as JSON (keys sorted, as Go's encoding/json writes a map), empty as ''.
 */
export function asString(v: AnyValue): string {
  if (typeof v === 'string') return v;
  if (v === null) return '';
  if (typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'number') return doubleText(v);
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  return rawJson(v);
}

function doubleText(d: number): string {
  if (Number.isFinite(d)) return String(d);
  // pdata's text for what JSON cannot hold.
  return `json: unsupported value: ${Number.isNaN(d) ? 'NaN' : d > 0 ? '+Inf' : '-Inf'}`;
}

/** AsRaw then json.Marshal: nested values as JSON, keys sorted, bytes as base64. */
function rawJson(v: AnyValue): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (v instanceof Uint8Array) return JSON.stringify(asString(v));
  if (Array.isArray(v)) return `[${v.map(rawJson).join(',')}]`;
  const byKey = new Map<string, AnyValue>();
  for (const kv of v.values) byKey.set(kv.key, kv.value);
  const keys = [...byKey.keys()].sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${rawJson(byKey.get(k)!)}`).join(',')}}`;
}
