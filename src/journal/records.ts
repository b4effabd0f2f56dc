/**
 * @module What a pushed record becomes before it is stored: its labels normalised once per stream
 * (model/normalize.ts: safe names, kind and class), its attributes always present. On a LokiStack
 * path (`/api/logs/v1/<class>/...`) a stream without a class of its own takes the path's; one that
 * names or implies another class is refused (RefusedRecordsError STREAM_CLASS) and nothing of the push is stored.
 */
import { labelValue } from '../model/kube-meta.js';
import { normalizeLabels, type RawRecord } from '../model/normalize.js';
import type { Labels, LogClass, LogRecord } from '../model/record.js';
import { promLabelsString } from '../query/metric/labels.js';
import { getOrCreate } from '../util/maps.js';
import { RefusedRecordsError } from './errors.js';

/** The stored labels of a pushed stream, restricted to class `cls` when given. */
function withClass(raw: Labels, cls: LogClass | undefined): Labels {
  if (cls === undefined) return normalizeLabels(raw);
  const labels = normalizeLabels(labelValue(raw, 'class') === undefined ? { ...raw, class: cls } : raw);
  if (labels.class !== cls) {
    throw new RefusedRecordsError(
      'STREAM_CLASS',
      `stream ${promLabelsString(raw)} is of class "${labels.class}", not "${cls}" as the path says; nothing was stored`,
    );
  }
  return labels;
}

/**
 * The validated records become the stored ones in place (no copy per record): their labels
 * normalised once per stream, attributes always present.
 */
export function storedRecords(raw: RawRecord[], cls?: LogClass): LogRecord[] {
  const normalized = new Map<Labels, Labels>();
  for (const r of raw) {
    r.labels = getOrCreate(normalized, r.labels, () => withClass(r.labels, cls));
    r.attributes ??= {};
  }
  return raw as LogRecord[];
}
