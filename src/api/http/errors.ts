/**
 * @module One error type that carries an HTTP status. Each API turns it into its own response shape
 * in one place (plain text on the Loki API, a Kubernetes Status on the kube API).
 */
import type { JsonBoundsError } from '../../util/json-bounds.js';

export class HttpError extends Error {
  readonly status: number;
  override readonly name = 'HttpError';

  constructor(status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
  }
}

export const badRequest = (message: string, cause?: unknown): HttpError =>
  new HttpError(400, message, cause === undefined ? undefined : { cause });

/** A body past the JSON bounds: too deep is malformed (400), too many values is too large (413). */
export function jsonBoundsHttpError(err: JsonBoundsError): HttpError {
  return err.code === 'too-deep'
    ? new HttpError(400, err.message, { cause: err })
    : new HttpError(413, `request body too large: ${err.message}`, { cause: err });
}
