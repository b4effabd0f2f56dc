/**
 * @module One record as a write-ahead-log line. Short keys keep the log small; numbers are written
 * as JSON integers (DuckDB reads them exactly as BIGINT). Strings are made well-formed first: a lone
 * surrogate would make the whole segment unreadable to DuckDB's JSON reader.
 */
import type { Attributes } from '../../model/record.js';

export function wellFormed(s: string): string {
  return s.isWellFormed() ? s : s.toWellFormed();
}

/** Encoded attributes by object: records of one file or push share theirs (see loki-push/proto.ts). */
const attributeTexts = new WeakMap<Attributes, string>();

function attributesJson(attributes: Attributes): string {
  for (const _ in attributes) {
    let text = attributeTexts.get(attributes);
    if (text === undefined) {
      const clean: Record<string, string> = {};
      for (const [k, v] of Object.entries(attributes)) clean[wellFormed(k)] = wellFormed(v);
      text = JSON.stringify(JSON.stringify(clean));
      attributeTexts.set(attributes, text);
    }
    return text;
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
