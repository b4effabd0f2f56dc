/**
 * @module The Elasticsearch API's one error-to-response place, in Elasticsearch's form
 * (`{"error":{"root_cause":[...],"type":...,"reason":...},"status":N}`), with the status and
 * Retry-After of api/receivers/errors.ts: backpressure is Elasticsearch's own 429
 * `es_rejected_execution_exception`, which its clients and shippers retry. Every answer carries
 * `X-Elastic-Product: Elasticsearch`, which the official clients (7.14+) check before they trust
 * a response.
 */

import type { Reply } from '../http/router.js';
import { receiverError, receiverErrorHeaders } from '../receivers/errors.js';

export const ES_HEADERS = {
  'content-type': 'application/json; charset=UTF-8',
  'x-elastic-product': 'Elasticsearch',
} as const;

/** Elasticsearch's error type for a status. */
function errorType(status: number): string {
  switch (status) {
    case 400:
      return 'parse_exception';
    case 401:
      return 'security_exception';
    case 403:
      return 'security_exception';
    case 404:
      return 'resource_not_found_exception';
    case 405:
      return 'method_not_allowed_exception';
    case 413:
      return 'content_too_long_exception';
    case 415:
      return 'media_type_header_exception';
    case 429:
      return 'es_rejected_execution_exception';
    default:
      return 'exception';
  }
}

export function esError(
  status: number,
  type: string,
  reason: string,
  headers: Record<string, string> = {},
): Reply {
  return {
    status,
    headers: { ...ES_HEADERS, ...headers },
    body: JSON.stringify({ error: { root_cause: [{ type, reason }], type, reason }, status }),
  };
}

export function esErrorReply(err: unknown): Reply {
  const e = receiverError(err, 429);
  return esError(e.status, errorType(e.status), e.message, receiverErrorHeaders(e));
}
