/**
 * @module Records to a Loki push body: grouped into streams by their label set (order kept within
 * each stream), encoded as `logproto.PushRequest` and snappy-compressed, as Loki's clients send it.
 */

import { labelSetText } from '../../../ingest/loki-push/labels.js';
import { encodePushRequest } from '../../../ingest/loki-push/proto.js';
import type { PushEntry } from '../../../ingest/loki-push/types.js';
import type { Attributes, Labels, LogRecord } from '../../../model/record.js';
import { getOrCreate } from '../../../util/maps.js';
import { snappyCompress } from '../../../util/snappy.js';

/** Where a record's stream labels and structured metadata come from. */
export interface LokiMapping {
  /** Keep the record's own labels (default true). */
  readonly keepLabels: boolean;
  /** Static labels added to every stream (they win over the record's). */
  readonly labels: Readonly<Labels>;
  /** Label name → record field: an attribute name, or `labels.x` for another label. */
  readonly labelsFrom: Readonly<Record<string, string>>;
  /** Send the attributes as structured metadata (default true). */
  readonly structuredMetadata: boolean;
}

export const KEEP_ALL: LokiMapping = {
  keepLabels: true,
  labels: {},
  labelsFrom: {},
  structuredMetadata: true,
};

function field(r: LogRecord, path: string): string | undefined {
  if (path.startsWith('labels.')) {
    const name = path.slice('labels.'.length);
    return Object.hasOwn(r.labels, name) ? r.labels[name] : undefined;
  }
  return Object.hasOwn(r.attributes, path) ? r.attributes[path] : undefined;
}

/** The stream labels and the metadata of one record under `m`. */
export function mapRecord(
  r: LogRecord,
  m: LokiMapping,
): { labels: Labels; metadata: Attributes | undefined } {
  const labels: Labels = m.keepLabels ? { ...r.labels } : {};
  const promoted = new Set<string>();
  for (const [name, path] of Object.entries(m.labelsFrom)) {
    const v = field(r, path);
    if (v === undefined || v === '') continue;
    labels[name] = v;
    if (!path.startsWith('labels.')) promoted.add(path);
  }
  Object.assign(labels, m.labels);
  if (!m.structuredMetadata) return { labels, metadata: undefined };
  let metadata: Attributes | undefined;
  for (const [k, v] of Object.entries(r.attributes)) {
    if (promoted.has(k)) continue;
    metadata ??= {};
    metadata[k] = v;
  }
  return { labels, metadata };
}

/** The uncompressed PushRequest of a batch. */
export function pushRequest(records: readonly LogRecord[], m: LokiMapping): Uint8Array {
  const streams = new Map<string, PushEntry[]>();
  for (const r of records) {
    const { labels, metadata } = mapRecord(r, m);
    getOrCreate(streams, labelSetText(labels), () => []).push(
      metadata
        ? { timestamp: r.timestamp, line: r.body, metadata }
        : { timestamp: r.timestamp, line: r.body },
    );
  }
  return encodePushRequest([...streams].map(([labels, entries]) => ({ labels, entries })));
}

/** The body Loki expects: the PushRequest, snappy block-compressed. */
export function pushBody(records: readonly LogRecord[], m: LokiMapping): Buffer {
  return snappyCompress(pushRequest(records, m));
}
