/**
 * @module All attributes of a record, as korrel8r's log objects carry them: stream labels,
 * structured metadata, the JSON body flattened (nested paths joined with `_`), and the Kubernetes
 * metadata under both Viaq and OTEL names. Names are safe. Computed when read, not stored: the
 * body already holds the JSON, and flattening at ingest would double what is kept on disk.
 */
import { kubeMeta, viaqAndOtel } from './kube-meta.js';
import { flattenJsonBody, safeNames } from './names.js';
import type { Attributes, Labels } from './record.js';

export function recordAttributes(
  labels: Labels,
  attributes: Attributes,
  body: string,
): Record<string, string> {
  // Later sources win on a clash: the body's own fields, then metadata, then the stream labels.
  return {
    ...(flattenJsonBody(body) ?? {}),
    ...safeNames(attributes),
    ...safeNames(labels),
    ...viaqAndOtel(kubeMeta(labels)),
  };
}
