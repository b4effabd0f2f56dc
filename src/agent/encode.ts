/**
 * @module A source's records as the body of one Loki push: a protobuf PushRequest, uncompressed
 * (the shipper concatenates several and compresses once). Records with the same labels share a
 * stream; attributes travel as structured metadata.
 */

import type { Scratch } from '../ingest/loki-push/encode.js';
import { labelSetText } from '../ingest/loki-push/labels.js';
import { encodePushRequest } from '../ingest/loki-push/proto.js';
import type { PushEntry } from '../ingest/loki-push/types.js';
import type { LogRecord } from '../model/record.js';
import { getOrCreate } from '../util/maps.js';

/**
 * Label texts by labels object: a source shares one labels object across a file's records, so the
 * text is built once per file rather than once per record (measured: a third of the agent's time).
 */
const labelTexts = new WeakMap<object, string>();

function labelText(labels: LogRecord['labels']): string {
  let text = labelTexts.get(labels);
  if (text === undefined) {
    text = labelSetText(labels);
    labelTexts.set(labels, text);
  }
  return text;
}

/**
 * With `scratch`, the message is written into it (see encode.ts) and valid only until the next call
 * with the same scratch.
 */
export function encodeRecords(records: readonly LogRecord[], scratch?: Scratch): Uint8Array {
  const streams = new Map<string, PushEntry[]>();
  for (const r of records) {
    const key = labelText(r.labels);
    const entries = getOrCreate(streams, key, () => []);
    const entry: PushEntry = { timestamp: r.timestamp, line: r.body };
    for (const _ in r.attributes) {
      entry.metadata = r.attributes;
      break;
    }
    entries.push(entry);
  }
  return encodePushRequest(
    [...streams].map(([labels, entries]) => ({ labels, entries })),
    scratch,
  );
}
