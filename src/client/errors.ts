/**
 * @module The client library's one error: the server answered with an error status or could not be
 * reached, or the client could not be set up (server URL, token file, kubeconfig, exec plugin). The
 * message is one line for a person; `src/cli/main.ts` turns it into the exit code.
 */

export class ClientError extends Error {
  override readonly name = 'ClientError';
  /** HTTP status, undefined when the server was not reached (or never asked). */
  readonly status: number | undefined;

  constructor(message: string, status?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
  }
}
