/**
 * @module A record as one line of JSON, for the outputs' on-disk buffers and dead-letter files:
 * `{"timestamp":"1700000000000000123","observedTimestamp":"...","labels":{...},"attributes":{...},
 * "body":"..."}`. The nanosecond timestamps are decimal strings (a JSON number would lose digits).
 */
import { isObj } from '../formats/json-util.js';
import type { LogRecord } from '../model/record.js';

/** Plain JSON object of a record (timestamps as strings), for embedding in another object. */
export function recordToObject(r: LogRecord): Record<string, unknown> {
  return {
    timestamp: r.timestamp.toString(),
    observedTimestamp: r.observedTimestamp.toString(),
    labels: r.labels,
    attributes: r.attributes,
    body: r.body,
  };
}

/** One line of JSON, without the newline. */
export function recordToJson(r: LogRecord): string {
  return JSON.stringify(recordToObject(r));
}

function stringMap(v: unknown, field: string): Record<string, string> {
  if (!isObj(v)) throw new Error(`record JSON: ${field} must be an object`);
  for (const [k, item] of Object.entries(v)) {
    if (typeof item !== 'string') throw new Error(`record JSON: ${field}.${k} must be a string`);
  }
  return v as Record<string, string>;
}

function nanos(v: unknown, field: string): bigint {
  if (typeof v !== 'string' || !/^-?\d+$/.test(v))
    throw new Error(`record JSON: ${field} must be a decimal string`);
  return BigInt(v);
}

/** The record of `recordToJson`'s line; throws on anything else. */
export function recordFromJson(line: string): LogRecord {
  const v: unknown = JSON.parse(line);
  if (!isObj(v)) throw new Error('record JSON: not an object');
  if (typeof v.body !== 'string') throw new Error('record JSON: body must be a string');
  return {
    timestamp: nanos(v.timestamp, 'timestamp'),
    observedTimestamp: nanos(v.observedTimestamp, 'observedTimestamp'),
    labels: stringMap(v.labels, 'labels'),
    attributes: stringMap(v.attributes ?? {}, 'attributes'),
    body: v.body,
  };
}

/** Records as NDJSON (each line ends with a newline). */
export function recordsToNdjson(records: readonly LogRecord[]): string {
  let out = '';
  for (const r of records) out += `${recordToJson(r)}\n`;
  return out;
}

/** The records of an NDJSON text (empty lines are skipped). */
export function recordsFromNdjson(text: string): LogRecord[] {
  const out: LogRecord[] = [];
  for (const line of text.split('\n')) if (line !== '') out.push(recordFromJson(line));
  return out;
}
