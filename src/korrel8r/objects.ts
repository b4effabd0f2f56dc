/**
 * @module korrel8r log objects: a flat map of string attributes with safe names (stream labels,
 * structured metadata, the flattened JSON body, Kubernetes metadata under Viaq and OTEL names),
 * plus `body`, `timestamp` and `observed_timestamp` (RFC 3339 with nanoseconds).
 */
import { recordAttributes } from '../model/attributes.js';
import type { Attributes, Labels } from '../model/record.js';
import { formatRfc3339Nano } from '../model/time.js';

export type LogObject = Record<string, string>;

export interface ObjectSource {
  readonly labels: Labels;
  readonly attributes: Attributes;
  readonly body: string;
  readonly timestamp: bigint;
  readonly observedTimestamp: bigint;
}

export function toLogObject(e: ObjectSource): LogObject {
  return {
    ...recordAttributes(e.labels, e.attributes, e.body),
    body: e.body,
    timestamp: formatRfc3339Nano(e.timestamp),
    observed_timestamp: formatRfc3339Nano(e.observedTimestamp),
  };
}
