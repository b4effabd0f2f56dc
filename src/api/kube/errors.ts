/**
 * @module The kube API's one error-to-response place: every error is a Kubernetes `Status`.
 */
import { ForbiddenError } from '../../auth/errors.js';
import { KubeError, reasonOf, statusObject } from '../../kube/status.js';
import { QueryMemoryLimitError, TooManyOutstandingQueriesError } from '../../query/admission.js';
import { DamagedDataError, StoreQueryError, StoreUnavailableError } from '../../query/scan.js';
import { asHttpError } from '../http/errors.js';
import { ERROR_ID_HEADER, internalError } from '../http/internal-error.js';
import { json, type Reply } from '../http/router.js';

export function kubeStatusReply(err: unknown): Reply {
  if (err instanceof KubeError)
    return json(err.code, statusObject(err.code, err.reason, err.message, err.details));
  // kube-apiserver's max-in-flight filter: 429 with Retry-After and this text; as a Status, the
  // shape apierrors.NewTooManyRequests gives it (details.retryAfterSeconds), as client-go reads it.
  if (err instanceof TooManyOutstandingQueriesError) {
    const seconds = err.retryAfterSeconds;
    return {
      ...json(
        429,
        statusObject(429, 'TooManyRequests', 'Too many requests, please try again later.', {
          retryAfterSeconds: seconds,
        }),
      ),
      headers: { 'content-type': 'application/json', 'retry-after': String(seconds) },
    };
  }
  if (err instanceof QueryMemoryLimitError) {
    return json(503, statusObject(503, 'ServiceUnavailable', err.message));
  }
  if (err instanceof ForbiddenError) return json(403, statusObject(403, 'Forbidden', err.message));
  const http = asHttpError(err);
  if (http) return json(http.status, statusObject(http.status, reasonOf(http.status), http.message));
  if (err instanceof DOMException && err.name === 'TimeoutError') {
    return json(504, statusObject(504, 'Timeout', 'the request timed out: the store did not answer in time'));
  }
  if (err instanceof StoreUnavailableError) {
    return {
      ...json(
        503,
        statusObject(503, 'ServiceUnavailable', err.message, { retryAfterSeconds: err.retryAfterSeconds }),
      ),
      headers: { 'content-type': 'application/json', 'retry-after': String(err.retryAfterSeconds) },
    };
  }
  if (err instanceof StoreQueryError) {
    if (err.kind === 'timeout') return json(504, statusObject(504, 'Timeout', err.message));
    if (err.kind === 'busy') {
      return {
        ...json(429, statusObject(429, 'TooManyRequests', err.message, { retryAfterSeconds: 1 })),
        headers: { 'content-type': 'application/json', 'retry-after': '1' },
      };
    }
    return json(400, statusObject(400, 'BadRequest', err.message));
  }
  if (err instanceof DamagedDataError) {
    return json(500, statusObject(500, 'InternalError', err.message));
  }
  // kube-apiserver's words for an internal error; the details stay in the server's log.
  const { id, message } = internalError(err);
  const reply = json(
    500,
    statusObject(
      500,
      'InternalError',
      `an error on the server has prevented the request from succeeding (${message})`,
    ),
  );
  return { ...reply, headers: { ...reply.headers, [ERROR_ID_HEADER]: id } };
}
