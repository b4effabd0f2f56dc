/**
 * @module The one error the record codecs throw: a body that is not what its format says
 * (`malformed`), or one past a size bound (`too-large`). The text is the reference system's (Loki's
 * for a push); the APIs decide the status (src/api/http/errors.ts: 400 and 413, as Loki answers a
 * push), so a codec knows nothing of HTTP.
 */
import type { JsonBoundsError } from '../util/json-bounds.js';

export type FormatErrorCode = 'malformed' | 'too-large';

export class FormatError extends Error {
  override readonly name = 'FormatError';
  readonly code: FormatErrorCode;

  constructor(code: FormatErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export const malformed = (message: string, cause?: unknown): FormatError =>
  new FormatError('malformed', message, cause === undefined ? undefined : { cause });

/** A body past the JSON bounds: too deep is malformed, too many values is too large. */
export function jsonBoundsFormatError(err: JsonBoundsError): FormatError {
  return err.code === 'too-deep'
    ? new FormatError('malformed', err.message, { cause: err })
    : new FormatError('too-large', `request body too large: ${err.message}`, { cause: err });
}
