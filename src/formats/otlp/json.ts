/**
 * @module OTLP/JSON logs (the OTLP spec's "JSON Protobuf Encoding"): protobuf's JSON mapping with
 * lowerCamelCase names, trace and span ids as hex (not base64), 64-bit integers as decimal strings
 * or numbers, enums as integers. As the Collector's receiver does, the snake_case names are read
 * too and unknown fields are ignored. Errors are FormatError `malformed` naming the field.
 */
import { malformed } from '../errors.js';
import {
  type AnyValue,
  emptyLogRecord,
  emptyScope,
  type KeyValue,
  KvList,
  MAX_ANY_VALUE_DEPTH,
  type OtlpLogRecord,
  type OtlpResourceLogs,
  type OtlpScope,
  type OtlpScopeLogs,
} from './model.js';
import { tooManyRecords } from './proto.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The field under its camelCase or snake_case name. */
function field(o: Obj, camel: string, snake: string): unknown {
  const v = o[camel];
  return v === undefined ? o[snake] : v;
}

function list(o: Obj, camel: string, snake: string, where: string): unknown[] {
  const v = field(o, camel, snake);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw malformed(`${where}.${camel}: expected an array`);
  return v;
}

function obj(v: unknown, where: string): Obj {
  if (!isObj(v)) throw malformed(`${where}: expected an object`);
  return v;
}

function str(o: Obj, camel: string, snake: string, where: string): string {
  const v = field(o, camel, snake);
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw malformed(`${where}.${camel}: expected a string`);
  return v;
}

const INT = /^-?[0-9]{1,20}$/;

function int64(v: unknown, where: string): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && INT.test(v)) return BigInt(v);
  throw malformed(`${where}: expected an integer`);
}

const UINT64_END = 2n ** 64n;

function uint64(v: unknown, where: string): bigint {
  const n = int64(v, where);
  if (n < 0n || n >= UINT64_END) throw malformed(`${where}: out of range`);
  return n;
}

function uint32(v: unknown, where: string): number {
  // A JSON number in range is taken as it is (severity, flags, counts: every record has some).
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) return v;
  const n = int64(v, where);
  if (n < 0n || n > 0xffffffffn) throw malformed(`${where}: out of range`);
  return Number(n);
}

/** Severity numbers are enum values: integers, or their SEVERITY_NUMBER_* names. */
const SEVERITY_NAMES = [
  'UNSPECIFIED',
  'TRACE',
  'TRACE2',
  'TRACE3',
  'TRACE4',
  'DEBUG',
  'DEBUG2',
  'DEBUG3',
  'DEBUG4',
  'INFO',
  'INFO2',
  'INFO3',
  'INFO4',
  'WARN',
  'WARN2',
  'WARN3',
  'WARN4',
  'ERROR',
  'ERROR2',
  'ERROR3',
  'ERROR4',
  'FATAL',
  'FATAL2',
  'FATAL3',
  'FATAL4',
];

function severity(v: unknown, where: string): number {
  if (typeof v === 'string' && v.startsWith('SEVERITY_NUMBER_')) {
    const i = SEVERITY_NAMES.indexOf(v.slice('SEVERITY_NUMBER_'.length));
    if (i >= 0) return i;
  }
  return uint32(v, where);
}

/** A trace or span id: hex as OTLP/JSON says; all-zero is no id. */
function id(v: unknown, bytes: number, where: string): string {
  if (v === undefined || v === null || v === '') return '';
  if (typeof v !== 'string' || v.length !== bytes * 2 || !/^[0-9a-fA-F]+$/.test(v)) {
    throw malformed(`${where}: expected ${bytes} bytes in hex`);
  }
  return /^0+$/.test(v) ? '' : v.toLowerCase();
}

function anyValue(v: unknown, where: string, depth = 0): AnyValue {
  if (v === undefined || v === null) return null;
  if (depth > MAX_ANY_VALUE_DEPTH)
    throw malformed(`${where}: AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`);
  const o = obj(v, where);
  if (o.stringValue !== undefined || o.string_value !== undefined) {
    return str(o, 'stringValue', 'string_value', where);
  }
  const b = field(o, 'boolValue', 'bool_value');
  if (b !== undefined) {
    if (typeof b !== 'boolean') throw malformed(`${where}.boolValue: expected a boolean`);
    return b;
  }
  const i = field(o, 'intValue', 'int_value');
  if (i !== undefined) return int64(i, `${where}.intValue`);
  const d = field(o, 'doubleValue', 'double_value');
  if (d !== undefined) {
    if (typeof d === 'number') return d;
    if (d === 'NaN') return Number.NaN;
    if (d === 'Infinity') return Number.POSITIVE_INFINITY;
    if (d === '-Infinity') return Number.NEGATIVE_INFINITY;
    if (typeof d === 'string' && d.trim() !== '' && Number.isFinite(Number(d))) return Number(d);
    throw malformed(`${where}.doubleValue: expected a number`);
  }
  const a = field(o, 'arrayValue', 'array_value');
  if (a !== undefined) {
    const arr = obj(a, `${where}.arrayValue`);
    return list(arr, 'values', 'values', `${where}.arrayValue`).map((x, n) =>
      anyValue(x, `${where}.arrayValue.values[${n}]`, depth + 1),
    );
  }
  const kv = field(o, 'kvlistValue', 'kvlist_value');
  if (kv !== undefined) {
    const kvo = obj(kv, `${where}.kvlistValue`);
    return new KvList(
      keyValues(list(kvo, 'values', 'values', `${where}.kvlistValue`), `${where}.kvlistValue`, depth + 1),
    );
  }
  const by = field(o, 'bytesValue', 'bytes_value');
  if (by !== undefined) {
    if (typeof by !== 'string') throw malformed(`${where}.bytesValue: expected base64`);
    return new Uint8Array(Buffer.from(by, 'base64'));
  }
  return null;
}

function keyValues(items: unknown[], where: string, depth = 0): KeyValue[] {
  return items.map((x, n) => {
    const w = `${where}.values[${n}]`;
    const o = obj(x, w);
    return { key: str(o, 'key', 'key', w), value: anyValue(o.value, `${w}.value`, depth) };
  });
}

function attributes(o: Obj, where: string): KeyValue[] {
  return keyValues(list(o, 'attributes', 'attributes', where), `${where}.attributes`);
}

function logRecord(v: unknown, where: string): OtlpLogRecord {
  const o = obj(v, where);
  const r = emptyLogRecord();
  r.timeUnixNano = uint64(field(o, 'timeUnixNano', 'time_unix_nano'), `${where}.timeUnixNano`);
  r.observedTimeUnixNano = uint64(
    field(o, 'observedTimeUnixNano', 'observed_time_unix_nano'),
    `${where}.observedTimeUnixNano`,
  );
  r.severityNumber = severity(field(o, 'severityNumber', 'severity_number'), `${where}.severityNumber`);
  r.severityText = str(o, 'severityText', 'severity_text', where);
  r.body = anyValue(o.body, `${where}.body`);
  r.attributes = attributes(o, where);
  r.droppedAttributesCount = uint32(
    field(o, 'droppedAttributesCount', 'dropped_attributes_count'),
    `${where}.droppedAttributesCount`,
  );
  r.flags = uint32(o.flags, `${where}.flags`);
  r.traceId = id(field(o, 'traceId', 'trace_id'), 16, `${where}.traceId`);
  r.spanId = id(field(o, 'spanId', 'span_id'), 8, `${where}.spanId`);
  return r;
}

function scope(v: unknown, where: string): OtlpScope {
  if (v === undefined || v === null) return emptyScope();
  const o = obj(v, where);
  return {
    name: str(o, 'name', 'name', where),
    version: str(o, 'version', 'version', where),
    attributes: attributes(o, where),
    droppedAttributesCount: uint32(
      field(o, 'droppedAttributesCount', 'dropped_attributes_count'),
      `${where}.droppedAttributesCount`,
    ),
  };
}

/**
 * Whether the decoder spells out where it is (`resourceLogs[0].scopeLogs[1].logRecords[7]`): only
 * to name a fault. Building those paths for every record and field, on the chance that one is
 * malformed, was a tenth of the decoder's time; a request is decoded without them first, and
 * decoded again with them only when it fails.
 */
let paths = false;

/** Decodes an OTLP/JSON `ExportLogsServiceRequest` already parsed by JSON.parse. */
export function decodeOtlpJson(doc: unknown, maxRecords: number): OtlpResourceLogs[] {
  try {
    return decodeRequest(doc, maxRecords);
  } catch (err) {
    // Decoded again, naming each field's path: its error (the same one) says where.
    paths = true;
    try {
      decodeRequest(doc, maxRecords);
    } finally {
      paths = false;
    }
    throw err;
  }
}

function decodeRequest(doc: unknown, maxRecords: number): OtlpResourceLogs[] {
  const root = obj(doc, 'request');
  let n = 0;
  return list(root, 'resourceLogs', 'resource_logs', 'request').map((rlv, i) => {
    const w = paths ? `resourceLogs[${i}]` : 'resourceLogs[]';
    const rl = obj(rlv, w);
    const res = field(rl, 'resource', 'resource');
    const resAttrs =
      res === undefined || res === null ? [] : attributes(obj(res, `${w}.resource`), `${w}.resource`);
    const scopes = list(rl, 'scopeLogs', 'scope_logs', w).map((slv, j): OtlpScopeLogs => {
      const sw = paths ? `${w}.scopeLogs[${j}]` : '';
      const sl = obj(slv, sw);
      const records = list(sl, 'logRecords', 'log_records', sw);
      n += records.length;
      if (n > maxRecords) throw tooManyRecords(maxRecords);
      return {
        scope: scope(sl.scope, `${sw}.scope`),
        logRecords: records.map((r, k) => logRecord(r, paths ? `${sw}.logRecords[${k}]` : '')),
      };
    });
    return { attributes: resAttrs, scopeLogs: scopes };
  });
}

/** OTLP/JSON's `ExportLogsServiceResponse` (int64 as a string, as protobuf's JSON mapping writes it). */
export function otlpJsonResponse(rejected: number, errorMessage: string): string {
  if (rejected === 0 && errorMessage === '') return '{}';
  return JSON.stringify({ partialSuccess: { rejectedLogRecords: String(rejected), errorMessage } });
}
