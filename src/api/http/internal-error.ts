/**
 * @module Unexpected errors, as every API answers them: the client gets a general message and an
 * id, and the details (the message, the stack: which may hold SQL, file paths and the contents of
 * records, of any tenant) go to the server's log under that id. DuckDB's own errors quote the line
 * they failed on, so passing their text on would hand one tenant's records to another.
 */
import { randomBytes } from 'node:crypto';

/** The response header that carries the id of an internal error. */
export const ERROR_ID_HEADER = 'x-kjournal-error-id';

export interface InternalError {
  readonly id: string;
  /** What the client is told. */
  readonly message: string;
}

/** Logs `err` under a new id; returns the id and the message for the client. */
export function internalError(
  err: unknown,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): InternalError {
  const id = randomBytes(6).toString('hex');
  log(`internal error ${id}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return {
    id,
    message: `internal error ${id}: the server could not complete the request (its log has the details under this id)`,
  };
}
