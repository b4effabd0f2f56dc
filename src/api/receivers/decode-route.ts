/**
 * @module Whether a receiver's JSON body goes to the decode pool (./decode-pool.ts), decided
 * before it is read: only a body sent as is (no Content-Encoding) whose Content-Length is large
 * enough skips the JSON bounds scan while it arrives (api/http/encoded-body.ts), since the worker
 * scans it; a gzip body is still scanned as it inflates, which refuses a bomb after its first
 * kilobytes. A body that was not scanned and ends up decoded inline (every worker full by then)
 * is scanned whole first (`checkBodyBounds`).
 */
import type { IncomingMessage } from 'node:http';
import { checkJsonBounds, JsonBoundsError } from '../../util/json-bounds.js';
import { jsonBoundsHttpError } from '../http/errors.js';
import type { DecodePool } from './decode-pool.js';

export function bodyGoesToWorker(pool: DecodePool | undefined, req: IncomingMessage): boolean {
  if (!pool || pool.size === 0) return false;
  const encoding = req.headers['content-encoding']?.trim().toLowerCase() ?? '';
  if (encoding !== '' && encoding !== 'identity') return false;
  const length = Number(req.headers['content-length']);
  return Number.isSafeInteger(length) && pool.wants(length);
}

/** The JSON bounds of a whole body, refused as the streaming scan refuses them. */
export function checkBodyBounds(body: Uint8Array): void {
  try {
    checkJsonBounds(body);
  } catch (err) {
    throw err instanceof JsonBoundsError ? jsonBoundsHttpError(err) : err;
  }
}
