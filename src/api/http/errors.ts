/**
 * @module One error type that carries an HTTP status. Each API turns it into its own response shape
 * in one place (plain text on the Loki API, a Kubernetes Status on the kube API).
 */

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
