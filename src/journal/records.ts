/**
 * @module What a pushed record becomes before it is stored: its labels normalised once per stream
 * (model/normalize.ts: safe names, kind and class), its attributes always present. On a LokiStack
 * path (`/api/logs/v1/<class>/...`) a stream without a class of its own takes the path's; one that
 * names or implies another class is refused (RefusedRecordsError STREAM_CLASS) and nothing of the push is stored.
 */
import { labelValue } from '../model/kube-meta.js';
import { labelsKey } from '../model/labels-key.js';
import { normalizeLabels, type RawRecord } from '../model/normalize.js';
import type { Labels, LogClass, LogRecord } from '../model/record.js';
import { RefusedRecordsError } from './errors.js';

/** The stored labels of a pushed stream, restricted to class `cls` when given. */
function withClass(raw: Labels, cls: LogClass | undefined): Labels {
  if (cls === undefined) return normalizeLabels(raw);
  const labels = normalizeLabels(labelValue(raw, 'class') === undefined ? { ...raw, class: cls } : raw);
  if (labels.class !== cls) {
    throw new RefusedRecordsError(
      'STREAM_CLASS',
      `stream ${labelsKey(raw)} is of class "${labels.class}", not "${cls}" as the path says; nothing was stored`,
    );
  }
  return labels;
}

/** Where stored labels are kept by the received labels object they were normalised from. */
export interface NormalizedLabels {
  get(raw: Labels): Labels | undefined;
  set(raw: Labels, stored: Labels): unknown;
}

/**
 * The validated records become the stored ones in place (no copy per record): their labels
 * normalised once per stream, attributes always present. `normalized` may outlive one call (a
 * WeakMap of a receiver whose decoders keep one labels object per stream across requests), so a
 * stream is normalised once, not once per request; it must be for calls of the same `cls`.
 */
export function storedRecords(
  raw: RawRecord[],
  cls?: LogClass,
  normalized: NormalizedLabels = new Map<Labels, Labels>(),
): LogRecord[] {
  let lastRaw: Labels | undefined;
  let lastStored: Labels | undefined;
  for (const r of raw) {
    const labels = r.labels;
    if (labels !== lastRaw) {
      lastRaw = labels;
      lastStored = normalized.get(labels);
      if (lastStored === undefined) {
        lastStored = withClass(labels, cls);
        normalized.set(labels, lastStored);
      }
    }
    r.labels = lastStored!;
    r.attributes ??= {};
  }
  return raw as LogRecord[];
}
