/**
 * @module One record as a write-ahead-log line. Short keys keep the log small; numbers are written
 * as JSON integers (DuckDB reads them exactly as BIGINT). Strings are made well-formed first: a lone
 * surrogate would make the whole segment unreadable to DuckDB's JSON reader.
 */
import type { Attributes } from '../../model/record.js';

export function wellFormed(s: string): string {
  return s.isWellFormed() ? s : s.toWellFormed();
}

function attributesJson(attributes: Attributes): string {
  for (const _ in attributes) {
    const clean: Record<string, string> = {};
    for (const [k, v] of Object.entries(attributes)) clean[wellFormed(k)] = wellFormed(v);
    return JSON.stringify(JSON.stringify(clean));
  }
  return '""';
}

export function encodeWalLine(
  tenantIndex: number,
  stream: bigint,
  n: bigint,
  timestamp: bigint,
  observed: bigint,
  attributes: Attributes,
  body: string,
): string {
  return `{"g":${tenantIndex},"s":${stream},"n":${n},"t":${timestamp},"o":${observed},"a":${attributesJson(attributes)},"b":${JSON.stringify(wellFormed(body))}}\n`;
}
