/**
 * @module A source's records as the body of one Loki push: a protobuf PushRequest, uncompressed
 * (the shipper concatenates several and compresses once). Records with the same labels share a
 * stream; attributes travel as structured metadata.
 */

import { labelSetText } from '../ingest/loki-push/labels.js';
import { encodePushRequest } from '../ingest/loki-push/proto.js';
import type { PushEntry } from '../ingest/loki-push/types.js';
import type { LogRecord } from '../model/record.js';

export function encodeRecords(records: readonly LogRecord[]): Uint8Array {
  const streams = new Map<string, PushEntry[]>();
  for (const r of records) {
    const key = labelSetText(r.labels);
    let entries = streams.get(key);
    if (!entries) {
      entries = [];
      streams.set(key, entries);
    }
    const entry: PushEntry = { timestamp: r.timestamp, line: r.body };
    if (Object.keys(r.attributes).length > 0) entry.metadata = { ...r.attributes };
    entries.push(entry);
  }
  return encodePushRequest([...streams].map(([labels, entries]) => ({ labels, entries })));
}
