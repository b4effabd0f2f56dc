/**
 * @module Unexpected errors, as every API answers them: the client gets a general message and an
 * id, and the details (the message, the stack: which may hold SQL, file paths and the contents of
 * records, of any tenant) go to the server's log under that id. DuckDB's own errors quote the line
 * they failed on, so passing their text on would hand one tenant's records to another.
 *
 * Inside a request the id is the request's (X-Request-Id, api/http/request-id.ts) and the
 * dispatcher writes the one log line of the request with the details (api/http/dispatch.ts);
 * outside one (a live tail's failure after the upgrade, a non-HTTP receiver) the error is logged
 * here under a new id.
 */
import { randomBytes } from 'node:crypto';
import { defaultLogger, errorText } from '../../util/log.js';

/** The response header that carries the id of an internal error. */
export const ERROR_ID_HEADER = 'x-kjournal-error-id';

export interface InternalError {
  readonly id: string;
  /** What the client is told. */
  readonly message: string;
}

/** The request whose (synchronous) error reply is being made, if any: see `asRequest`. */
let current: string | undefined;

/**
 * Runs `reply`, a route's synchronous error handler, as part of request `id`: an internal error it
 * meets takes the request's id and is not logged here, since the dispatcher logs the request's
 * failure, with the error, under that id. Synchronous, so no other request can run in between.
 */
export function asRequest<T>(id: string, reply: () => T): T {
  const outer = current;
  current = id;
  try {
    return reply();
  } finally {
    current = outer;
  }
}

/** Logs `err` under a new id (or leaves it to the request's line); returns the id and the message for the client. */
export function internalError(
  err: unknown,
  log: (line: string) => void = (line) => defaultLogger().error(line),
): InternalError {
  const inRequest = current;
  const id = inRequest ?? randomBytes(6).toString('hex');
  if (inRequest === undefined) log(`internal error ${id}: ${errorText(err)}`);
  return {
    id,
    message: `internal error ${id}: the server could not complete the request (its log has the details under this id)`,
  };
}
