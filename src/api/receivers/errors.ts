/**
 * @module What an error means to a receiver of another collector's protocol (OTLP, Elasticsearch
 * bulk, journal upload): a status, a message, and for the errors worth retrying a Retry-After.
 * Each receiver writes it in its protocol's own form (api/otlp/errors.ts, api/elasticsearch/errors.ts,
 * api/journal-upload/upload.ts), from this one classification.
 *
 * Backpressure (the policy: api/receivers/intake.ts): too many writes waiting (ReceiverBusyError), a
 * full data volume (journal/disk-full.ts) and a store that failed the write are
 * answered with the protocol's "retry later" status and `Retry-After`, not the Loki push's 507:
 * the OpenTelemetry exporters retry only 429, 502, 503 and 504 (OTLP/HTTP spec, "Retryable
 * Response Codes"), Elasticsearch's clients and shippers retry 429 (es_rejected_execution_exception)
 * and 502-504, and a 507 would make them drop the batch. Nothing of such a request was stored.
 */
import { ForbiddenError } from '../../auth/errors.js';
import { DiskFullError } from '../../journal/disk-full.js';
import { RefusedRecordsError } from '../../journal/errors.js';
import { asHttpError } from '../http/errors.js';
import { ERROR_ID_HEADER, internalError } from '../http/internal-error.js';
import { ReceiverBusyError } from './intake.js';

/** Seconds a client is told to wait when the store failed a write (it may recover at once). */
export const STORE_RETRY_AFTER_S = 1;

export interface ReceiverError {
  readonly status: number;
  readonly message: string;
  /** Set on the answers worth retrying. */
  readonly retryAfterSeconds?: number;
  /** The id an internal error was logged under. */
  readonly errorId?: string;
}

/** The classification of `err`; `busy` is the protocol's "retry later" status (429 or 503). */
export function receiverError(err: unknown, busy: 429 | 503): ReceiverError {
  const http = asHttpError(err);
  if (http) return { status: http.status, message: http.message };
  if (err instanceof ForbiddenError) return { status: 403, message: err.message };
  if (err instanceof RefusedRecordsError) return { status: 400, message: err.message };
  if (err instanceof DiskFullError || err instanceof ReceiverBusyError) {
    return { status: busy, message: err.message, retryAfterSeconds: err.retryAfterSeconds };
  }
  // Anything else failed in the store or below it (a backend that is down, a write that timed
  // out): logged with an id, and answered as "unavailable, retry", since nothing was stored.
  const { id, message } = internalError(err);
  return { status: busy, message, retryAfterSeconds: STORE_RETRY_AFTER_S, errorId: id };
}

/** The headers that go with a ReceiverError whatever the protocol. */
export function receiverErrorHeaders(e: ReceiverError): Record<string, string> {
  return {
    ...(e.retryAfterSeconds !== undefined ? { 'retry-after': String(e.retryAfterSeconds) } : {}),
    ...(e.errorId !== undefined ? { [ERROR_ID_HEADER]: e.errorId } : {}),
  };
}
