/**
 * @module One error type that carries an HTTP status, and the statuses of the lower layers' own
 * errors that are the client's fault (`asHttpError`). Each API turns them into its own response
 * shape in one place (plain text on the Loki API, a Kubernetes Status on the kube API).
 */
import { FormatError } from '../../formats/errors.js';
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

/**
 * The HTTP error an error stands for, when it is the request's fault: an HttpError itself, or a
 * body a codec refused (FormatError: 400 malformed, 413 too large, Loki's statuses for a push).
 */
export function asHttpError(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  if (err instanceof FormatError) {
    return new HttpError(err.code === 'too-large' ? 413 : 400, err.message, { cause: err });
  }
  return undefined;
}
