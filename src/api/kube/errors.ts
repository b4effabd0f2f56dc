/**
 * @module The kube API's one error-to-response place: every error is a Kubernetes `Status`.
 */
import { KubeError, reasonOf, statusObject } from '../../kube/status.js';
import { QueryMemoryLimitError, TooManyOutstandingQueriesError } from '../../query/admission.js';
import { HttpError } from '../http/errors.js';
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
  if (err instanceof HttpError)
    return json(err.status, statusObject(err.status, reasonOf(err.status), err.message));
  if (err instanceof DOMException && err.name === 'TimeoutError') {
    return json(504, statusObject(504, 'Timeout', 'the request timed out: the store did not answer in time'));
  }
  const message = err instanceof Error ? err.message : String(err);
  return json(
    500,
    statusObject(
      500,
      'InternalError',
      `an error on the server has prevented the request from succeeding: ${message}`,
    ),
  );
}
