/**
 * @module A record as plain JSON, the shape of the webhook output's array items and of the S3 and
 * file outputs' NDJSON lines: `{"timestamp":"2024-05-01T10:00:00.123456789Z","labels":{...},
 * "attributes":{...},"body":"..."}` (RFC3339 with nanoseconds, as Go's RFC3339Nano prints it).
 */
import type { Attributes, Labels, LogRecord } from '../../../model/record.js';
import { formatRfc3339Nano } from '../../../model/time.js';

export interface RecordJson {
  timestamp: string;
  labels: Labels;
  attributes: Attributes;
  body: string;
}

export function recordJson(r: LogRecord): RecordJson {
  return {
    timestamp: formatRfc3339Nano(r.timestamp),
    labels: r.labels,
    attributes: r.attributes,
    body: r.body,
  };
}

/** `recordJson` as one NDJSON line, the newline included. */
export function recordJsonLine(r: LogRecord): string {
  return `${JSON.stringify(recordJson(r))}\n`;
}
