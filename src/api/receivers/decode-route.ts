/**
 * @module When a receiver's JSON body is checked for its JSON bounds (util/json-bounds.ts), decided
 * before it is read:
 *  - `none`: a body sent as is (no Content-Encoding) whose Content-Length is at most
 *    UNSCANNED_JSON_MAX. What `JSON.parse` builds from it is bounded anyway (25-70 bytes of heap
 *    per value, at most one value per two bytes: under 40 MB, transient), and the decoders bound
 *    their own recursion (formats/otlp/json.ts, as the protobuf decoder does). The scan of an
 *    OTLP/JSON body (keys, numbers, escaped quotes: many structural bytes) cost a decode worker
 *    about three quarters of what `JSON.parse` itself costs. OTLP exporters send batches of 512
 *    (the SDKs) to 8,192 (the Collector) records, within or near this size.
 *  - `after`: a larger body sent as is that goes to the decode pool (./decode-pool.ts): the worker
 *    scans it whole before parsing (or the main thread does, if every worker is full by then).
 *  - `reading`: anything else, scanned as it arrives or inflates, which refuses a gzip bomb after
 *    its first kilobytes.
 */
import type { IncomingMessage } from 'node:http';
import { checkJsonBounds, JsonBoundsError } from '../../util/json-bounds.js';
import { contentEncoding } from '../http/encoded-body.js';
import { jsonBoundsHttpError } from '../http/errors.js';

/** What the plan asks of the decode pool (./decode-pool.ts): whether it would take a body this large. */
export interface BodyTaker {
  wants(bytes: number): boolean;
}

/** The largest body sent as is that is parsed without a bounds scan. */
export const UNSCANNED_JSON_MAX = 1 << 20;

export type ScanPlan = 'none' | 'after' | 'reading';

export function scanPlan(pool: BodyTaker | undefined, req: IncomingMessage): ScanPlan {
  if (contentEncoding(req) !== '') return 'reading';
  const length = Number(req.headers['content-length']);
  if (!Number.isSafeInteger(length)) return 'reading';
  if (length <= UNSCANNED_JSON_MAX) return 'none';
  return pool?.wants(length) ? 'after' : 'reading';
}

/** The JSON bounds of a whole body, refused as the streaming scan refuses them. */
export function checkBodyBounds(body: Uint8Array): void {
  try {
    checkJsonBounds(body);
  } catch (err) {
    throw err instanceof JsonBoundsError ? jsonBoundsHttpError(err) : err;
  }
}
